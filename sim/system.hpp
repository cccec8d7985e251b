// Every model object of one run, built from a scenario; no SimGrid in here, so tests and
// benchmarks can drive the models directly. The engine (sim/engine.cpp) adds time.
#pragma once
#include <memory>
#include <vector>

#include "models/device/device.hpp"
#include "models/domain/domain.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/iommu.hpp"
#include "sim/scenario.hpp"
#include "models/common/stats.hpp"

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
  uint64_t prq_overflows = 0;
  uint64_t prq_auto_responses = 0;

  struct InvalidationStats {
    uint64_t count[kInvKinds] = {};
    Histogram latency_ns[kInvKinds];  // submitted -> completion (wait descriptor written)
    uint64_t source_events = 0;       // unmap/flush events the scripted sources made
    uint64_t batched_flushes = 0;
    uint64_t atc_requests = 0;        // ATS Invalidate Requests sent to devices
    uint64_t iommu_entries_removed = 0;
    uint64_t queue_depth = 0;         // descriptors in the invalidation queue
    uint64_t queue_max_depth = 0;
  } inv;

  struct ReasonStats {
    uint64_t count = 0;
    Histogram latency_ns;
  };
  std::vector<std::vector<ReasonStats>> inv_by_reason;  // [domain][reason]

  // Host memory: RAM used by pinned and resident guest pages, reclaim to swap.
  struct HostMemory {
    uint64_t capacity_bytes = 0;
    uint64_t used_bytes = 0;
    uint64_t max_used_bytes = 0;
    uint64_t reclaimed_pages = 0;
    uint64_t swap_out_bytes = 0;
    uint64_t swap_in_bytes = 0;
    uint64_t reclaim_waits = 0;       // faults that waited for reclaim to free memory
    uint64_t fault_cpu_ns = 0;        // host CPU time spent resolving faults (devices and vCPUs)
    uint64_t device_faults_minor = 0;
    uint64_t device_faults_major = 0;
    uint64_t device_faults_wp = 0;
    void use(int64_t bytes) {
      used_bytes = static_cast<uint64_t>(static_cast<int64_t>(used_bytes) + bytes);
      if (used_bytes > max_used_bytes) max_used_bytes = used_bytes;
    }
    uint64_t free_bytes() const { return used_bytes < capacity_bytes ? capacity_bytes - used_bytes : 0; }
  } host;

  struct DomainActivity {
    uint64_t vcpu_touches = 0;
    uint64_t vcpu_faults = 0;
    uint64_t migrations = 0;
    uint64_t thp_splits = 0;
    uint64_t thp_collapses = 0;
    uint64_t dirty_log_cycles = 0;
    uint64_t write_protected_bytes = 0;
  };
  std::vector<DomainActivity> activity;  // [domain]

  std::unique_ptr<Checker> checker;  // engine.checker
};

}  // namespace iopf
