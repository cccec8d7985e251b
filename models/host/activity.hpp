// Host activity that changes guest mappings while devices run: guest vCPUs touching memory,
// page migration (compaction, NUMA balancing), THP collapse (khugepaged), dirty logging, and
// the scenario's scripted invalidation sources (unmaps and flushes at a rate).
//
// Models: each source is a host thread calling one step per period (1/rate) from when its
// domain is ready (plus its start) until the end of the domain's measurement window; a step
// that blocks (a fault, an invalidation) delays the ones after it, as one host thread would.
//  - vCPUs: domain.vcpus threads share vcpu_touch_rate; a touch reads or writes (write
//    fraction) a random page, sets its accessed bit, and an absent (or, for a write,
//    write-protected) page is a fault resolved on a host core (host memory's fault_in).
//  - migration: a random resident unpinned 4 KiB page is unmapped, invalidated (reason
//    migration), copied (migration_copy on a core) and mapped at its new frame.
//  - khugepaged: a random 2 MiB region of resident 4 KiB leaves is unmapped, invalidated
//    (thp_collapse), copied (thp_collapse_copy) and mapped as one 2 MiB page.
//  - dirty logging: every dirty_log_interval, write-protect every resident unpinned page
//    (host.dirty_log_scan_cost of CPU per resident page) and flush the domain (dirty_log).
//  - scripted sources: flush, zap or remap a random aligned range of a region at a rate, each
//    invalidated at once, or deferred and flushed as a whole domain per batch_entries or
//    batch_timeout (Linux's flush queue).
// Does not model: KSM, the guest's own page-table walks.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "models/domain/domain.hpp"
#include "models/host/host_memory.hpp"
#include "models/host/params.hpp"
#include "models/host/services.hpp"
#include "models/iommu/invalidation.hpp"

namespace iopf {

class Checker;

// What host activity did to one domain.
struct DomainActivity {
  uint64_t vcpu_touches = 0;
  uint64_t vcpu_faults = 0;
  uint64_t vcpu_writes = 0;
  uint64_t migrations = 0;
  uint64_t thp_collapses = 0;
  uint64_t dirty_log_cycles = 0;
  uint64_t write_protected_bytes = 0;
};

// When a source runs: from its domain's readiness to the end of the domain's window.
struct ActivitySpan {
  uint64_t start_ns;
  uint64_t end_ns;
};

class HostActivity {
 public:
  HostActivity(std::vector<std::unique_ptr<Domain>>* domains, HostMemory* memory, uint64_t seed,
               uint64_t dirty_log_ns_per_page);
  void attach(HostServices* svc, Invalidator* inv, Checker* checker);

  // Host threads: each runs one source over its span.
  void vcpu_loop(size_t di, uint32_t vcpu, double touch_rate_per_s, double write_fraction, ActivitySpan span);
  void migration_loop(size_t di, double rate_per_s, uint64_t copy_ns, ActivitySpan span);
  void collapse_loop(size_t di, double rate_per_s, uint64_t copy_ns, ActivitySpan span);
  void dirty_log_loop(size_t di, uint64_t first_ns, uint64_t interval_ns, ActivitySpan span);
  void source_loop(const InvalidationSpec& spec, size_t index, ActivitySpan span);

  const DomainActivity& domain(size_t di) const { return per_domain_[di]; }
  uint64_t source_events() const { return source_events_; }      // events the scripted sources made
  uint64_t batched_flushes() const { return batched_flushes_; }  // their deferred domain flushes

 private:
  // Calls step() every 1/rate_per_s over span.
  template <class Step>
  void at_rate(double rate_per_s, ActivitySpan span, Step step);

  std::vector<std::unique_ptr<Domain>>* domains_;
  HostMemory* memory_;
  uint64_t seed_;
  uint64_t dirty_log_ns_per_page_;
  HostServices* svc_ = nullptr;
  Invalidator* inv_ = nullptr;
  Checker* checker_ = nullptr;
  std::vector<DomainActivity> per_domain_;
  uint64_t source_events_ = 0;
  uint64_t batched_flushes_ = 0;
};

}  // namespace iopf
