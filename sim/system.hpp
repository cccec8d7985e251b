// Every model object of one run, built from a scenario; no SimGrid in here, so tests and
// benchmarks can drive the models directly.
#pragma once
#include <memory>
#include <vector>

#include "models/device/device.hpp"
#include "models/domain/domain.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/iommu.hpp"
#include "sim/stats.hpp"
#include "sim/scenario.hpp"

namespace iopf {

struct System {
  explicit System(const Scenario& scenario);
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  Scenario sc;
  Iommu iommu;
  std::vector<std::unique_ptr<Domain>> domains;
  std::vector<std::unique_ptr<Device>> devices;

  // Page request queue occupancy (requests received and not yet answered).
  uint64_t prq_depth = 0;
  uint64_t prq_max_depth = 0;

  struct InvalidationStats {
    uint64_t count[kInvKinds] = {};
    Histogram latency_ns[kInvKinds];  // submitted -> completion (wait descriptor written)
    uint64_t source_events = 0;       // unmap/flush events the sources made
    uint64_t batched_flushes = 0;
    uint64_t atc_requests = 0;        // ATS Invalidate Requests sent to devices
    uint64_t iommu_entries_removed = 0;
    uint64_t queue_depth = 0;         // descriptors in the invalidation queue
    uint64_t queue_max_depth = 0;
  } inv;

  std::unique_ptr<Checker> checker;  // engine.checker
};

}  // namespace iopf
