// The time series of a run: see sim/timeseries.hpp for what each column is.
#include "sim/timeseries.hpp"

#include <algorithm>

#include "models/device/device.hpp"
#include "sim/fault_handling.hpp"
#include "sim/invalidation_queue.hpp"
#include "sim/system.hpp"

namespace iopf {

void Timeseries::begin(RunView& view) {
  std::string head = "start_ns,end_ns";
  for (auto& dev : view.sys.devices)
    for (Path& p : dev->paths()) {
      auto h = std::make_unique<Histogram>();
      p.set_interval_latency(h.get());
      paths_.push_back(PathState{&p, std::move(h)});
      const std::string o = dev->spec().name + "/" + p.spec().name + "/";
      for (const char* m : {"completed", "bytes", "failed", "page_requests", "latency_ns.p50", "latency_ns.p99"})
        head += "," + o + m;
    }
  for (auto& dom : view.sys.domains) {
    const std::string o = "domain/" + dom->spec().name + "/";
    head += "," + o + "resident_bytes," + o + "swapped_bytes";
    for (int k = 0; k < reasons_of(*dom); ++k)
      head += "," + o + "invalidations." + enum_name(kInvReasonNames, static_cast<InvReason>(k));
  }
  head += ",iommu/prq_depth\n";
  csv_ = head;
  inv_.assign(view.sys.domains.size(), std::vector<uint64_t>(kInvReasons, 0));
}

void Timeseries::row(RunView& view, uint64_t end_ns) {
  std::string r = std::to_string(last_ns_) + "," + std::to_string(end_ns);
  auto add = [&r](uint64_t v) { r += "," + std::to_string(v); };
  for (PathState& s : paths_) {
    const DmaCounters& c = s.path->dma();
    add(c.completed - s.completed);
    add(c.bytes - s.bytes);
    add(c.failed - s.failed);
    add(s.path->page_requests() - s.page_requests);
    s.completed = c.completed, s.bytes = c.bytes, s.failed = c.failed, s.page_requests = s.path->page_requests();
    Histogram& h = *s.interval_latency_ns;
    if (h.count()) {
      add(h.percentile(0.5));
      add(h.percentile(0.99));
    } else {
      r += ",,";
    }
    h.clear();
  }
  for (size_t d = 0; d < view.sys.domains.size(); ++d) {
    add(view.sys.domains[d]->resident_bytes());
    add(view.sys.domains[d]->swapped_bytes());
    for (int k = 0; k < reasons_of(*view.sys.domains[d]); ++k) {
      const uint64_t now = d < view.inv.by_reason.size() ? view.inv.by_reason[d][k].count : 0;
      add(now - inv_[d][k]);
      inv_[d][k] = now;
    }
  }
  add(view.prq.depth);
  csv_ += r + "\n";
  last_ns_ = end_ns;
}

void Timeseries::sample(RunView& view, uint64_t now_ns) { row(view, now_ns); }

void Timeseries::end(RunView& view, uint64_t end_ns) {
  // A last row up to the end; when the run ended on a sample, a zero-length one only if its
  // devices processed something after that sample.
  bool more = end_ns > last_ns_;
  for (const PathState& s : paths_)
    more = more || s.path->dma().completed != s.completed || s.path->dma().failed != s.failed ||
           s.path->page_requests() != s.page_requests;
  if (more) row(view, std::max(end_ns, last_ns_));
  for (PathState& s : paths_) s.path->set_interval_latency(nullptr);
}

}  // namespace iopf
