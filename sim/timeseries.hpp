// `iopfsim run --timeseries FILE.csv [--sample-interval 100us]`: the run as a time series.
//
// Does: one CSV row per sample interval, columns named as the dashboards name metrics (the
// scenario name dropped, as in a sweep's points.csv): per device and path
// `<dev>/<path>/completed`, `bytes`, `failed`, `page_requests` (counts in the interval),
// `latency_ns.p50`, `latency_ns.p99` (of the DMAs completed in the interval; empty when none);
// per domain `domain/<name>/resident_bytes`, `swapped_bytes` (at the interval's end) and
// `invalidations.<reason>` (in the interval); `iommu/prq_depth` (at the interval's end).
// Rows cover [start_ns, end_ns) of simulated time from 0: every interval, then a last row up
// to sim.simulated_ns (which holds what its devices completed up to then). Counts are of what the report counts (DMAs due in each path's
// measurement window), so they are 0 before a domain's ready + warmup, and the column sums
// equal the report's figures. A DMA is counted in the interval in which its device actor
// processed its completion, which may be up to one batch quantum before its data landed.
// Does not: add any event (the engine's clock advances drive the samples, sim/engine.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/common/stats.hpp"
#include "sim/observer.hpp"

namespace iopf {

class Path;

class Timeseries final : public Observer {
 public:
  explicit Timeseries(uint64_t interval_ns) : interval_ns_(interval_ns) {}
  uint64_t interval_ns() const override { return interval_ns_; }
  void begin(RunView& view) override;
  void sample(RunView& view, uint64_t now_ns) override;
  void end(RunView& view, uint64_t end_ns) override;
  const std::string& csv() const { return csv_; }  // header and rows, after end()

 private:
  struct PathState {
    Path* path;
    std::unique_ptr<Histogram> interval_latency_ns;
    uint64_t completed = 0, bytes = 0, failed = 0, page_requests = 0;  // at the last sample
  };
  void row(RunView& view, uint64_t end_ns);

  uint64_t interval_ns_;
  uint64_t last_ns_ = 0;
  std::vector<PathState> paths_;
  std::vector<std::vector<uint64_t>> inv_;  // [domain][reason] at the last sample
  std::string csv_;
};

}  // namespace iopf
