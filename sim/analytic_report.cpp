#include "sim/analytic_report.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "models/analytic/prediction.hpp"
#include "models/common/sizes.hpp"
#include "models/domain/kinds.hpp"
#include "sim/engine.hpp"
#include "sim/system.hpp"

namespace iopf {
using nlohmann::json;

namespace {

constexpr double kHandoffNs = 100;  // the root-complex link's latency (sim/engine.cpp)

// The only path of the scenario that can send page requests, or null (none, or several).
const Path* page_request_path(const System& sys, const Device** dev) {
  const Path* found = nullptr;
  for (const auto& d : sys.devices)
    for (const Path& p : d->paths()) {
      if (!d->spec().pri || !p.spec().fault_tolerant) continue;
      if (found) return nullptr;
      found = &p;
      *dev = d.get();
    }
  return found;
}

size_t paths_on_domain(const System& sys, size_t di) {
  size_t n = 0;
  for (const auto& d : sys.devices)
    if (d->spec().domain_index == di) n += d->paths().size();
  return n;
}

// Why the run is not exactly M/M/c/K (empty: it is).
json prq_departures(const System& sys, const EngineStats& st, const Device& dev, const Path& p, uint64_t zero_ns) {
  const Scenario& sc = sys.sc;
  const WorkloadSpec& w = p.spec().workload;
  const Domain& dom = *sys.domains[dev.spec().domain_index];
  json out = json::array();
  auto add = [&](bool bad, const std::string& why) {
    if (bad) out.push_back(why);
  };
  add(w.pattern != Pattern::kSequential || w.access_bytes != kBasePageBytes || dom.fault_page_lg2() != 12 ||
          w.region_bytes / kBasePageBytes < p.dmas_simulated() || dom.spec().kind->name != std::string("shared_tdp") ||
          paths_on_domain(sys, dev.spec().domain_index) != 1,
      "not every DMA faults on a fresh 4 KiB page (needs pattern sequential, access_size 4KiB, 4 KiB pages, a "
      "region holding every DMA, the only path on its domain)");
  add(st.prq.device_faults[static_cast<int>(FaultKind::kNone)] > 0,
      "some accepted requests found their page present (resident at start, or touched by a vCPU)");
  add(dev.spec().prg_pages != 1, "prg_pages > 1: a group takes several entries");
  add(st.prq.auto_responses > 0, "auto_success: blocked requests come back at once (arrivals not Poisson)");
  add(dev.pri_retries > 0, "requests were retried after a timeout (arrivals not Poisson)");
  // A lost request keeps its slot until pri_timeout, an answered one until its response arrives.
  add(dev.spec().pri_outstanding < sc.iommu.prq_depth + st.prq.overflows + sc.host.cores,
      "pri_outstanding < K + lost requests + handlers: the device may have throttled its requests");
  add(sc.iommu.prq_handling_ns > 0, "prq_handling > 0: a serial IOMMU step before the queue");
  add(sc.host.irq_latency.mean_ns() > 0, "irq_latency > 0: added to the service mean (service not exponential)");
  add(zero_ns > 0, "zeroing a page adds " + std::to_string(zero_ns) + " ns to each service (not exponential)");
  add(sc.host.cores > 1 && sc.host.fault_batch > 1,
      "fault_batch > 1 with several handlers: a handler may hold queued requests while another is idle");
  add(dom.major_faults() > 0, "major faults (swap-in) in the run");
  return out;
}

json prq_part(const System& sys, const EngineStats& st) {
  const Device* dev = nullptr;
  const Path* p = page_request_path(sys, &dev);
  if (!p || p->spec().workload.arrival.kind != ArrivalKind::kPoisson) return nullptr;
  const Domain& dom = *sys.domains[dev->spec().domain_index];
  if (dom.spec().kind->name != std::string("shared_tdp") || dom.fault_cost().kind() != DistKind::kExponential)
    return nullptr;
  const Scenario& sc = sys.sc;
  const auto zero_ns = static_cast<uint64_t>(std::llround(static_cast<double>(kBasePageBytes) * 1e9 / sc.host.zero_bytes_per_s));
  analytic::PrqModel m;
  m.handler_threads = sc.host.cores;
  m.queue_entries = sc.iommu.prq_depth;
  m.request_rate_per_s = p->spec().workload.arrival.rate_per_s;
  m.service_mean_ns = dom.fault_cost().mean_ns() + static_cast<double>(zero_ns) + sc.host.irq_latency.mean_ns();
  const analytic::PrqPrediction pred = analytic::predict_prq(m);
  json predicted = pred.to_json();
  predicted["handoff_ns"] = kHandoffNs;
  predicted["mean_response_ns"] = pred.mmck.mean_response_ns + kHandoffNs;
  const PrqStats& s = st.prq;
  const double blocking = s.requests ? static_cast<double>(s.overflows) / static_cast<double>(s.requests) : 0.0;
  json simulated = {{"requests", s.requests},
                    {"overflows", s.overflows},
                    {"blocking_probability", blocking},
                    {"mean_response_ns", s.residence_ns.mean()},
                    {"accepted", s.residence_ns.count()}};
  json dep = prq_departures(sys, st, *dev, *p, zero_ns);
  return {{"path", dev->spec().name + "/" + p->spec().name},
          {"predicted", predicted},
          {"simulated", simulated},
          {"exact", dep.empty()},
          {"departures", dep}};
}

json lru_part(const System& sys) {
  const Scenario& sc = sys.sc;
  if (sc.domains.size() != 1 || sys.devices.size() != 1 || sys.devices[0]->paths().size() != 1) return nullptr;
  const Device& dev = *sys.devices[0];
  const WorkloadSpec& w = dev.paths()[0].spec().workload;
  const Domain& dom = *sys.domains[0];
  if (w.pattern != Pattern::kRandom || dev.spec().ats || dom.faultable() || dom.spec().page_bytes != kBasePageBytes ||
      !sc.invalidations.empty())
    return nullptr;
  const TlbGeometry& g = sc.iommu.iotlb;
  const uint64_t pages = (w.region_bytes + kBasePageMask) / kBasePageBytes;
  if (g.entries[0] == 0 || pages == 0) return nullptr;
  const analytic::LruPrediction pred = analytic::predict_lru_uniform(g.entries[0], pages);
  const Tlb& t = sys.iommu.iotlb();
  const uint64_t lookups = t.hits() + t.misses();
  json simulated = {{"hits", t.hits()},
                    {"lookups", lookups},
                    {"hit_rate", lookups ? static_cast<double>(t.hits()) / static_cast<double>(lookups) : 0.0}};
  json dep = json::array();
  if (g.ways[0] < g.entries[0]) dep.push_back("set associative (ways_4k < entries_4k)");
  if (g.policy != ReplPolicy::kLru) dep.push_back("policy is not lru");
  if (w.region_base % kBasePageBytes || w.region_bytes % kBasePageBytes)
    dep.push_back("region not aligned to 4 KiB pages: pages not equally likely");
  return {{"path", dev.spec().name + "/" + dev.paths()[0].spec().name},
          {"predicted", pred.to_json()},
          {"simulated", simulated},
          {"exact", dep.empty()},
          {"departures", dep}};
}

std::string pct(double sim, double pred) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f %%", pred != 0 ? (sim - pred) / pred * 100.0 : 0.0);
  return buf;
}

}  // namespace

json analytic_json(const System& sys, const EngineStats& st) {
  json out = json::object();
  if (json prq = prq_part(sys, st); !prq.is_null()) out["prq"] = prq;
  if (json lru = lru_part(sys); !lru.is_null()) out["iotlb"] = lru;
  return out.empty() ? json() : out;
}

std::string format_analytic(const json& a) {
  std::ostringstream os;
  char buf[256];
  if (a.contains("prq")) {
    const json& p = a["prq"];
    const json &pr = p["predicted"], &si = p["simulated"];
    os << "PRQ " << p["path"].get<std::string>() << " as M/M/" << pr["servers"] << "/" << pr["capacity"] << " ("
       << (p["exact"].get<bool>() ? "exact" : "approximate") << "), " << si["requests"] << " requests\n";
    std::snprintf(buf, sizeof buf, "  blocking probability  predicted %.6f  simulated %.6f  (%s)\n",
                  pr["blocking_probability"].get<double>(), si["blocking_probability"].get<double>(),
                  pct(si["blocking_probability"].get<double>(), pr["blocking_probability"].get<double>()).c_str());
    os << buf;
    std::snprintf(buf, sizeof buf, "  mean response (ns)    predicted %.1f  simulated %.1f  (%s)\n",
                  pr["mean_response_ns"].get<double>(), si["mean_response_ns"].get<double>(),
                  pct(si["mean_response_ns"].get<double>(), pr["mean_response_ns"].get<double>()).c_str());
    os << buf;
    for (const json& d : p["departures"]) os << "  departure: " << d.get<std::string>() << "\n";
  }
  if (a.contains("iotlb")) {
    const json& l = a["iotlb"];
    const json &pr = l["predicted"], &si = l["simulated"];
    std::snprintf(buf, sizeof buf, "IOTLB %s as LRU (%s), C=%llu N=%llu, %llu lookups\n  hit rate  predicted %.6f  simulated %.6f  (%s)\n",
                  l["path"].get<std::string>().c_str(), l["exact"].get<bool>() ? "exact" : "approximate",
                  static_cast<unsigned long long>(pr["entries"].get<uint64_t>()),
                  static_cast<unsigned long long>(pr["pages"].get<uint64_t>()),
                  static_cast<unsigned long long>(si["lookups"].get<uint64_t>()), pr["hit_rate"].get<double>(),
                  si["hit_rate"].get<double>(), pct(si["hit_rate"].get<double>(), pr["hit_rate"].get<double>()).c_str());
    os << buf;
    for (const json& d : l["departures"]) os << "  departure: " << d.get<std::string>() << "\n";
  }
  if (a.is_null() || a.empty()) os << "no part of this scenario is expressible as an analytic model\n";
  return os.str();
}

}  // namespace iopf
