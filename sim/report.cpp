#include "sim/report.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

#include "models/domain/kinds.hpp"
#include "sim/analytic_report.hpp"
#include "models/pagetable/page_table.hpp"
#include "models/pagetable/table_memory.hpp"
#include "models/common/units.hpp"

namespace iopf {
using nlohmann::json;

namespace {

// The DMAs due in the measurement window (window_ns long); offered = how many were due.
json dma_json(const DmaCounters& c, uint64_t window_ns, uint64_t offered) {
  json j;
  j["issued"] = c.issued;
  j["completed"] = c.completed;
  j["failed"] = c.failed;
  j["failed_by"] = {{"aborted", c.aborted},         {"dropped", c.dropped},         {"stalled", c.stalled},
                    {"pri_invalid", c.pri_invalid}, {"pri_failure", c.pri_failure}};
  j["in_flight_at_end"] = c.in_flight_at_end;
  j["completed_after_end"] = c.completed_after_end;
  j["overruns"] = c.overruns;
  j["bytes"] = c.bytes;
  j["latency_ns"] = histogram_json(c.latency_ns);
  const double secs = static_cast<double>(window_ns) * 1e-9;
  j["throughput"] = {{"bytes_per_s", static_cast<double>(c.bytes) / secs},
                     {"ops_per_s", static_cast<double>(c.completed) / secs},
                     {"offered_ops_per_s", static_cast<double>(offered) / secs}};
  return j;
}

void add(DmaCounters* into, const DmaCounters& c) {
  into->issued += c.issued;
  into->completed += c.completed;
  into->failed += c.failed;
  into->aborted += c.aborted;
  into->dropped += c.dropped;
  into->stalled += c.stalled;
  into->pri_invalid += c.pri_invalid;
  into->pri_failure += c.pri_failure;
  into->in_flight_at_end += c.in_flight_at_end;
  into->completed_after_end += c.completed_after_end;
  into->overruns += c.overruns;
  into->bytes += c.bytes;
  into->latency_ns.merge(c.latency_ns);
}

json device_json(const Device& d, uint64_t window_ns, bool* conservation) {
  DmaCounters all;
  uint64_t offered = 0;
  json paths = json::array();
  for (const Path& p : d.paths()) {
    const DmaCounters& c = p.dma();
    add(&all, c);
    offered += p.offered();
    // Counted apart: issued at issue, completed and failed as they happen, in flight at the end.
    *conservation = *conservation && c.issued == c.completed + c.failed + c.in_flight_at_end;
    paths.push_back({{"name", p.spec().name},
                     {"fault_tolerant", p.spec().fault_tolerant},
                     {"ordered", p.spec().ordered},
                     {"page_requests", p.page_requests()},
                     {"overruns", c.overruns},
                     {"backlog", {{"count", p.backlog()}, {"oldest_age_ns", p.backlog_oldest_age_ns()}}},
                     {"dma", dma_json(c, window_ns, p.offered())}});
  }
  json dj;
  dj["name"] = d.spec().name;
  dj["domain"] = d.spec().domain;
  dj["ats"] = d.spec().ats;
  dj["dma"] = dma_json(all, window_ns, offered);
  dj["pri"] = {{"enabled", d.spec().pri},
               {"requests", d.pri_requests},
               {"groups", d.pri_groups},
               {"retries", d.pri_retries},
               {"timeouts", d.pri_timeouts},
               {"merged", d.pri_merged},
               {"responses", {{"success", d.pri_responses[0]}, {"invalid", d.pri_responses[1]},
                              {"failure", d.pri_responses[2]}}},
               {"fault_latency_ns", histogram_json(d.fault_latency_ns)},
               {"fault_latency_minor_ns", histogram_json(d.fault_latency_minor_ns)},
               {"fault_latency_major_ns", histogram_json(d.fault_latency_major_ns)}};
  dj["resets"] = d.resets;
  dj["bandwidth_wait_ns"] = histogram_json(d.bandwidth_wait_ns);
  dj["atc"] = {{"hits", d.atc().hits()},
               {"misses", d.atc().misses()},
               {"ats_requests", d.ats_requests},
               {"invalidations", d.atc_invalidations}};
  if (d.spec().msi_every_dmas)  // only where the scenario asks for MSIs
    dj["msi"] = {{"writes", d.msi_writes}, {"faults", d.msi_faults}, {"latency_ns", histogram_json(*d.msi_latency_ns)}};
  dj["paths"] = paths;
  return dj;
}

// Walker slots: mean_busy = slot time the window's walks took / the window.
json walkers_json(const Iommu& m, uint64_t window_ns) {
  const Walkers& wk = m.walkers();
  const WalkerStats& w = wk.stats();
  const double mean = window_ns ? static_cast<double>(w.busy_ns) / static_cast<double>(window_ns) : 0.0;
  return {{"slots", w.slots},
          {"max_busy", wk.max_busy()},
          {"mean_busy", mean},
          {"wait_ns", histogram_json(w.wait_ns)},
          {"ats_front_wait_ns", histogram_json(w.ats_wait_ns)},
          {"late_requests", wk.late_requests()}};
}

json iommu_json(const System& sys, const EngineStats& st) {
  const Iommu& m = sys.iommu;
  json j = {{"iotlb", {{"hits", m.iotlb().hits()}, {"misses", m.iotlb().misses()}}},
                {"walk_cache", {{"hits", m.walk_cache_s1().hits()}, {"misses", m.walk_cache_s1().misses()}}},
                {"walks", m.walks()},
                {"walk_mem_reads", m.walk_mem_reads()},
                {"walkers", walkers_json(m, sys.sc.duration_ns)},
                {"prq", {{"depth", sys.sc.iommu.prq_depth},
                         {"max_depth", st.prq.max_depth},
                         {"overflows", st.prq.overflows},
                         {"auto_responses", st.prq.auto_responses}}}};
  json by_kind = json::object();
  for (int k = 0; k < kInvKinds; ++k)
    by_kind[enum_name(kInvKindNames, static_cast<InvKind>(k))] = {{"count", st.inv.count[k]},
                                                        {"latency_ns", histogram_json(st.inv.latency_ns[k])}};
  j["invalidation"] = {{"by_kind", by_kind},
                                {"source_events", sys.activity.source_events()},
                                {"batched_flushes", sys.activity.batched_flushes()},
                                {"atc_requests", st.inv.atc_requests},
                                {"batches", st.inv.batches},
                                {"descriptors", st.inv.descriptors},
                                {"iommu_entries_removed", st.inv.iommu_entries_removed},
                                {"queue_max_depth", st.inv.queue_max_depth}};
  return j;
}

json domain_json(const System& sys, const EngineStats& st, size_t i) {
  const Domain& d = *sys.domains[i];
  json reasons = json::object();
  for (int k = 0; k < kInvReasons; ++k) {
    if (static_cast<InvReason>(k) == InvReason::kDmaApi && !d.dma_api_used()) continue;
    const auto& rs = st.inv.by_reason[i][k];
    reasons[enum_name(kInvReasonNames, static_cast<InvReason>(k))] = {{"count", rs.count},
                                                           {"latency_ns", histogram_json(rs.latency_ns)}};
  }
  const DomainActivity& a = sys.activity.domain(i);
  json dj = {{"name", d.spec().name},
             {"kind", d.spec().kind->name},
             {"format", d.spec().format},
             {"memory_bytes", d.spec().memory_bytes},
             {"pinned_bytes", d.pinned_bytes()},
             {"resident_bytes", d.resident_bytes()},
             {"swapped_bytes", d.swapped_bytes()},
             {"pt_bytes", d.pt_bytes()},
             {"setup_ns", d.setup_ns()},
             {"faults_resolved", d.faults_resolved()},
             {"major_faults", d.major_faults()},
             {"invalidations_by_reason", reasons},
             {"vcpu", {{"touches", a.vcpu_touches}, {"writes", a.vcpu_writes}, {"faults", a.vcpu_faults}}},
             {"migrations", a.migrations},
             {"thp_splits", sys.memory.thp_splits(i)},
             {"thp_collapses", a.thp_collapses},
             {"dirty_log", {{"cycles", a.dirty_log_cycles}, {"write_protected_bytes", a.write_protected_bytes}}}};
  if (d.dma_api_used()) dma_api_json(*d.dma_stats_if_used(), &dj);
  d.report(&dj);
return dj;
}

json host_json(const System& sys, const EngineStats& st) {
  const HostMemory& h = sys.memory;
  const uint64_t* df = st.prq.device_faults;
  return {{"memory_bytes", h.capacity_bytes()},
               {"used_bytes", h.used_bytes()},
               {"max_used_bytes", h.max_used_bytes()},
               {"reclaimed_pages", h.reclaimed_pages()},
               {"swap_out_bytes", h.swap_out_bytes()},
               {"swap_in_bytes", h.swap_in_bytes()},
               {"reclaim_waits", h.reclaim_waits()},
               {"fault_cpu_ns", h.fault_cpu_ns()},
               {"reclaim_cpu_ns", h.reclaim_cpu_ns()},
               {"reclaim_scanned_pages", h.reclaim_scanned_pages()},
               {"root_complex", {{"late_requests", sys.root_complex.late_requests()}}},
               {"device_faults", {{"minor", df[static_cast<int>(FaultKind::kMinor)]},
                                  {"major", df[static_cast<int>(FaultKind::kMajor)]},
                                  {"write_protect", df[static_cast<int>(FaultKind::kWriteProtect)]}}}};
}

}  // namespace

// What the simulator itself holds, by part (the process's resident set besides these is
// SimGrid, the program and the allocator's slack; /usr/bin/time -v shows the peak).
static json sim_memory_json(const System& sys, const EngineStats& st) {
  uint64_t state = 0, caches = sys.iommu.cache_memory_bytes();
  for (const auto& d : sys.domains) state += d->state_bytes();
  for (const auto& d : sys.devices) caches += d->atc().memory_bytes();
  const uint64_t tables = TableMemory::instance().used_bytes();
  const uint64_t stats = st.model_histograms * Histogram::kBytesEach;
  const uint64_t calendars = sys.root_complex.calendar_bytes() + sys.iommu.walkers().calendar_bytes();
  return {{"page_tables_bytes", tables},
          {"per_page_state_bytes", state},
          {"caches_bytes", caches},
          {"statistics_bytes", stats},
          {"calendars_bytes", calendars},
          {"total_bytes", tables + state + caches + stats + calendars}};
}

json make_report(const System& sys, const EngineStats& st) {
  const Scenario& sc = sys.sc;
  json r;
  r["schema"] = "iopfsim.report/1";
  r["seed"] = sc.seed;
  r["scenario"] = {{"name", sc.name}, {"file", sc.file}, {"comment", sc.comment}};
  uint64_t dmas = 0;
  bool conservation = true;
  json devs = json::array();
  for (const auto& d : sys.devices) {
    devs.push_back(device_json(*d, sc.duration_ns, &conservation));
    for (const Path& p : d->paths()) dmas += p.dmas_simulated();
  }
  r["sim"] = {{"simulated_ns", st.simulated_ns},
              {"warmup_ns", sc.warmup_ns},
              {"window_ns", sc.duration_ns},
              {"quantum_ns", st.quantum_ns},
              {"wall_s", st.wall_s},
              {"events", st.events},
              {"dmas", dmas},
              {"dma_per_wall_s", st.wall_s > 0 ? static_cast<double>(dmas) / st.wall_s : 0.0},
              {"memory", sim_memory_json(sys, st)}};
  r["devices"] = devs;
  r["iommu"] = iommu_json(sys, st);
  json doms = json::array();
  for (size_t i = 0; i < sys.domains.size(); ++i) doms.push_back(domain_json(sys, st, i));
  r["domains"] = doms;
  r["host"] = host_json(sys, st);
  if (json a = analytic_json(sys, st); !a.is_null()) r["analytic"] = a;  // where a queueing model applies
  r["checks"] = {{"conservation_ok", conservation}, {"checker", sc.engine.checker}};
  if (sys.checker) {
    r["checks"]["stale_translation_uses"] = sys.checker->stale_translation_uses();
    r["checks"]["stale_permission_uses"] = sys.checker->stale_permission_uses();
    r["checks"]["uses_checked"] = sys.checker->uses_checked();
  }
  return r;
}

namespace {

// The device/path table and each device's fault latency line.
void summary_devices(const json& r, std::ostringstream& os) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-24s %10s %10s %8s %8s %8s %8s %8s %10s %8s\n", "device/path", "issued", "completed",
                "failed", "p50 ns", "p99 ns", "max ns", "PRI req", "Mops/s", "GB/s");
  os << buf;
  auto row = [&](const std::string& name, const json& dma, uint64_t pri) {
    std::snprintf(buf, sizeof buf, "%-24s %10llu %10llu %8llu %8llu %8llu %8llu %8llu %10.3f %8.3f\n", name.c_str(),
                  static_cast<unsigned long long>(dma["issued"].get<uint64_t>()),
                  static_cast<unsigned long long>(dma["completed"].get<uint64_t>()),
                  static_cast<unsigned long long>(dma["failed"].get<uint64_t>()),
                  static_cast<unsigned long long>(dma["latency_ns"]["p50"].get<uint64_t>()),
                  static_cast<unsigned long long>(dma["latency_ns"]["p99"].get<uint64_t>()),
                  static_cast<unsigned long long>(dma["latency_ns"]["max"].get<uint64_t>()),
                  static_cast<unsigned long long>(pri), dma["throughput"]["ops_per_s"].get<double>() / 1e6,
                  dma["throughput"]["bytes_per_s"].get<double>() / 1e9);
    os << buf;
  };
  for (const json& d : r["devices"]) {
    row(d["name"].get<std::string>(), d["dma"], d["pri"]["requests"].get<uint64_t>());
    for (const json& p : d["paths"])
      row("  " + p["name"].get<std::string>() + (p["fault_tolerant"].get<bool>() ? "" : " (no fault)"), p["dma"],
          p["page_requests"].get<uint64_t>());
  }
  os << "\n";
  for (const json& d : r["devices"])
    for (const json& p : d["paths"]) {  // what the window's end left, and what the queue dropped
      const uint64_t backlog = p["backlog"]["count"].get<uint64_t>(), overruns = p["overruns"].get<uint64_t>(),
                     in_flight = p["dma"]["in_flight_at_end"].get<uint64_t>();
      if (!backlog && !overruns && !in_flight) continue;
      os << d["name"].get<std::string>() << "/" << p["name"].get<std::string>() << ": offered "
         << p["dma"]["throughput"]["offered_ops_per_s"].get<double>() / 1e6 << " Mops/s, overruns " << overruns
         << ", backlog " << backlog << " (oldest " << units::format_ns(p["backlog"]["oldest_age_ns"].get<uint64_t>())
         << "), in flight at the end " << in_flight << "\n";
    }
  for (const json& d : r["devices"]) {
    const json& f = d["pri"]["fault_latency_ns"];
    if (f["count"].get<uint64_t>() == 0) continue;
    std::snprintf(buf, sizeof buf, "%s: page requests %llu, fault latency p50 %llu ns, p99 %llu ns, max %llu ns\n",
                  d["name"].get<std::string>().c_str(), static_cast<unsigned long long>(f["count"].get<uint64_t>()),
                  static_cast<unsigned long long>(f["p50"].get<uint64_t>()),
                  static_cast<unsigned long long>(f["p99"].get<uint64_t>()),
                  static_cast<unsigned long long>(f["max"].get<uint64_t>()));
    os << buf;
  }
}

// A domain's DMA API: maps, unmaps, flushes and traps (per I/O: per map call).
void summary_dma_api(const json& d, std::ostringstream& os) {
  char buf[512];
  const uint64_t maps = d["maps"]["count"].get<uint64_t>();
  const double per = maps ? 1.0 / static_cast<double>(maps) : 0.0;
  const uint64_t traps = d.contains("traps") ? d["traps"]["count"].get<uint64_t>() : 0;
  std::snprintf(buf, sizeof buf,
                "  DMA API: maps %llu (p50 %llu ns), unmaps %llu (p50 %llu ns), flushes %llu, traps %llu (%.2f per map), "
                "vCPU %.0f ns per map\n",
                static_cast<unsigned long long>(maps),
                static_cast<unsigned long long>(d["maps"]["latency_ns"]["p50"].get<uint64_t>()),
                static_cast<unsigned long long>(d["unmaps"]["count"].get<uint64_t>()),
                static_cast<unsigned long long>(d["unmaps"]["latency_ns"]["p50"].get<uint64_t>()),
                static_cast<unsigned long long>(d["dma_api"]["flushes"].get<uint64_t>()),
                static_cast<unsigned long long>(traps), static_cast<double>(traps) * per,
                static_cast<double>(d["dma_api"]["cpu_ns"].get<uint64_t>()) * per);
  os << buf;
}

// Each domain's memory and invalidations, the host's memory, the scripted invalidations.
void summary_domains(const json& r, std::ostringstream& os) {
  char buf[512];
  const json& m = r["iommu"];
  for (const json& d : r["domains"]) {
    std::snprintf(buf, sizeof buf,
                  "domain %s (%s, %s, %s): memory %s, pinned %s, resident %s, swapped %s, page tables %s, setup %s, "
                  "faults resolved %llu (major %llu)\n",
                  d["name"].get<std::string>().c_str(), d["kind"].get<std::string>().c_str(),
                  d["effective_policy"].get<std::string>().c_str(), d["format"].get<std::string>().c_str(),
                  units::format_bytes(d["memory_bytes"].get<uint64_t>()).c_str(),
                  units::format_bytes(d["pinned_bytes"].get<uint64_t>()).c_str(),
                  units::format_bytes(d["resident_bytes"].get<uint64_t>()).c_str(),
                  units::format_bytes(d["swapped_bytes"].get<uint64_t>()).c_str(),
                  units::format_bytes(d["pt_bytes"].get<uint64_t>()).c_str(),
                  units::format_ns(d["setup_ns"].get<uint64_t>()).c_str(),
                  static_cast<unsigned long long>(d["faults_resolved"].get<uint64_t>()),
                  static_cast<unsigned long long>(d["major_faults"].get<uint64_t>()));
    os << buf;
    std::string rs;
    for (auto it = d["invalidations_by_reason"].begin(); it != d["invalidations_by_reason"].end(); ++it) {
      const uint64_t n = (*it)["count"].get<uint64_t>();
      if (!n) continue;
      std::snprintf(buf, sizeof buf, " %s %llu (p99 %llu ns)", it.key().c_str(), static_cast<unsigned long long>(n),
                    static_cast<unsigned long long>((*it)["latency_ns"]["p99"].get<uint64_t>()));
      rs += buf;
    }
    if (!rs.empty()) os << "  invalidations by reason:" << rs << "\n";
    if (d.contains("maps")) summary_dma_api(d, os);
  }
  const json& h = r["host"];
  if (h["reclaimed_pages"].get<uint64_t>() || h["swap_in_bytes"].get<uint64_t>()) {
    std::snprintf(buf, sizeof buf,
                  "host: memory %s, max used %s, reclaimed %llu pages, swap out %s, swap in %s, fault CPU %s\n",
                  units::format_bytes(h["memory_bytes"].get<uint64_t>()).c_str(),
                  units::format_bytes(h["max_used_bytes"].get<uint64_t>()).c_str(),
                  static_cast<unsigned long long>(h["reclaimed_pages"].get<uint64_t>()),
                  units::format_bytes(h["swap_out_bytes"].get<uint64_t>()).c_str(),
                  units::format_bytes(h["swap_in_bytes"].get<uint64_t>()).c_str(),
                  units::format_ns(h["fault_cpu_ns"].get<uint64_t>()).c_str());
    os << buf;
  }
  const json& inv = m["invalidation"];
  if (inv["source_events"].get<uint64_t>() > 0) {
    os << "invalidations:";
    for (auto it = inv["by_kind"].begin(); it != inv["by_kind"].end(); ++it) {
      if ((*it)["count"].get<uint64_t>() == 0) continue;
      std::snprintf(buf, sizeof buf, " %s %llu (p50 %llu ns, p99 %llu ns)", it.key().c_str(),
                    static_cast<unsigned long long>((*it)["count"].get<uint64_t>()),
                    static_cast<unsigned long long>((*it)["latency_ns"]["p50"].get<uint64_t>()),
                    static_cast<unsigned long long>((*it)["latency_ns"]["p99"].get<uint64_t>()));
      os << buf;
    }
    std::snprintf(buf, sizeof buf, "; ATC requests %llu, queue max depth %llu\n",
                  static_cast<unsigned long long>(inv["atc_requests"].get<uint64_t>()),
                  static_cast<unsigned long long>(inv["queue_max_depth"].get<uint64_t>()));
    os << buf;
  }
}

}  // namespace

std::string format_summary(const json& r) {
  std::ostringstream os;
  char buf[512];
  os << "iopfsim: scenario " << r["scenario"]["name"].get<std::string>() << " (" << r["scenario"]["file"].get<std::string>()
     << "), seed " << r["seed"].get<uint64_t>() << "\n";
  const json& s = r["sim"];
  std::snprintf(buf, sizeof buf,
                "window %s after a warm-up of %s (statistics: DMAs due in the window); simulated %s in %.3f s wall: "
                "%llu DMAs, %llu engine events, %.3g DMA/wall-s\n\n",
                units::format_ns(s["window_ns"].get<uint64_t>()).c_str(),
                units::format_ns(s["warmup_ns"].get<uint64_t>()).c_str(),
                units::format_ns(s["simulated_ns"].get<uint64_t>()).c_str(), s["wall_s"].get<double>(),
                static_cast<unsigned long long>(s["dmas"].get<uint64_t>()),
                static_cast<unsigned long long>(s["events"].get<uint64_t>()), s["dma_per_wall_s"].get<double>());
  os << buf;
  summary_devices(r, os);
  const json& m = r["iommu"];
  std::snprintf(buf, sizeof buf, "iommu: IOTLB hits %llu misses %llu, walks %llu (%llu memory reads), PRQ max depth %llu, overflows %llu\n",
                static_cast<unsigned long long>(m["iotlb"]["hits"].get<uint64_t>()),
                static_cast<unsigned long long>(m["iotlb"]["misses"].get<uint64_t>()),
                static_cast<unsigned long long>(m["walks"].get<uint64_t>()),
                static_cast<unsigned long long>(m["walk_mem_reads"].get<uint64_t>()),
                static_cast<unsigned long long>(m["prq"]["max_depth"].get<uint64_t>()),
                static_cast<unsigned long long>(m["prq"]["overflows"].get<uint64_t>()));
  os << buf;
  summary_domains(r, os);
  os << "checks: conservation " << (r["checks"]["conservation_ok"].get<bool>() ? "ok" : "VIOLATED");
  if (r["checks"].contains("stale_translation_uses"))
    os << ", stale translation uses " << r["checks"]["stale_translation_uses"].get<uint64_t>()
       << ", stale permission uses " << r["checks"]["stale_permission_uses"].get<uint64_t>();
  os << "\n";
  return os.str();
}

}  // namespace iopf
