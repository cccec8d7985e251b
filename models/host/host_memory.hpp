// Host memory: the RAM that pinned and resident guest pages use, reclaim (kswapd) to a
// swap device, and the host's side of a fault (making a page present on a host core).
//
// Models: RAM of host.memory bytes; a fault reserves the memory of the page it makes
// present, waiting (on a condition kswapd signals) for reclaim when less is free; kswapd
// wakes when free memory falls below host.free_target and picks victims by recency: a clock
// (second chance) over each domain's resident unpinned 4 KiB pages, whose accessed bits DMAs
// and vCPU touches set, round robin over the faultable domains, in batches of 32
// (SWAP_CLUSTER_MAX), spending host.reclaim_scan_cost of CPU per page looked at. A page
// inside a large leaf splits it first (reason thp_split); the page is unmapped, invalidated
// (reason reclaim, through the MMU notifier) and only then written to swap (swap latency,
// then the transfer of its bytes) and its memory freed.
// A fault costs the domain's fault_cost on a host core, plus zeroing the bytes it makes
// present at host.zero_bandwidth for a minor fault (2 MiB for a THP); a major fault (the
// page is in swap) adds major_fault_cost and reads the page's bytes back from swap; a write
// to a write-protected page (dirty logging) makes it writable and drops the IOMMU's cached
// read-only entry.
// Does not model: page cache, NUMA, zswap, the active/inactive list split of Linux's LRU.
// Figures: SWAP_CLUSTER_MAX is Linux's reclaim batch; the rest are host parameters.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "models/common/trace.hpp"
#include "models/domain/domain.hpp"
#include "models/host/params.hpp"
#include "models/host/services.hpp"
#include "models/iommu/invalidation.hpp"

namespace iopf {

class Checker;
class Iommu;

class HostMemory {
 public:
  static constexpr uint32_t kReclaimBatch = 32;  // pages per reclaim pass: Linux SWAP_CLUSTER_MAX

  HostMemory(const HostSpec& spec, std::vector<std::unique_ptr<Domain>>* domains);

  // Before the run: memory taken (or given back, negative) by set-up.
  void use(int64_t bytes) {
    used_bytes_ = static_cast<uint64_t>(static_cast<int64_t>(used_bytes_) + bytes);
    if (used_bytes_ > max_used_bytes_) max_used_bytes_ = used_bytes_;
  }
  uint64_t free_bytes() const { return used_bytes_ < spec_.memory_bytes ? spec_.memory_bytes - used_bytes_ : 0; }

  // The run: the engine's services, the invalidation queue, the IOMMU and the checker.
  void attach(HostServices* svc, Invalidator* inv, Iommu* iommu, Checker* checker);
  void set_trace(TraceSink* trace) { trace_ = trace; }  // kswapd's batches go there (--trace)

  // Host memory for a fault that needs `bytes`: reserved at once, or after reclaim frees it.
  // False when nothing can be reclaimed and nothing is free (the fault then fails).
  bool reserve(uint64_t bytes);
  // Resolves one fault on the calling host core: cost, swap-in, mapping. Returns its kind;
  // kNone when it was already resolved, and sets *ok false when memory could not be had.
  FaultKind fault_in(Domain& dom, uint64_t va, bool write, bool* ok);
  // The same in two steps, for a caller that times the CPU work itself and cannot wait for
  // anything else (sim/fault_handling.cpp's handlers on the engine): start_fault decides the
  // kind and takes the memory and the cost, or returns false, having done nothing, when the
  // fault would wait (for reclaim or swap, or to wake kswapd): fault_in must then do it.
  // After cpu_ns of work (none for kNone), finish_fault maps the page.
  struct PageFault {
    FaultKind kind = FaultKind::kNone;
    uint64_t need_bytes = 0;
    uint64_t cpu_ns = 0;
  };
  bool start_fault(Domain& dom, uint64_t va, bool write, PageFault* f);
  void finish_fault(Domain& dom, uint64_t va, bool write, const PageFault& f);
  // Splits the large leaf holding gpa, if any, and invalidates it (reason thp_split).
  void split_large(size_t di, uint64_t gpa, InvPort* port);
  // kswapd: a host thread for the whole run.
  void reclaim_loop();

  uint64_t capacity_bytes() const { return spec_.memory_bytes; }
  uint64_t used_bytes() const { return used_bytes_; }
  uint64_t max_used_bytes() const { return max_used_bytes_; }
  uint64_t reclaimed_pages() const { return reclaimed_pages_; }
  uint64_t swap_out_bytes() const { return swap_out_bytes_; }
  uint64_t swap_in_bytes() const { return swap_in_bytes_; }
  uint64_t reclaim_waits() const { return reclaim_waits_; }  // faults that waited for reclaim
  uint64_t fault_cpu_ns() const { return fault_cpu_ns_; }    // host CPU time resolving faults
  uint64_t reclaim_cpu_ns() const { return reclaim_cpu_ns_; }  // kswapd's scanning
  uint64_t reclaim_scanned_pages() const { return reclaim_scanned_; }
  uint64_t thp_splits(size_t di) const { return thp_splits_[di]; }

 private:
  bool any_reclaimable() const;
  void wake_reclaim();
  // reserve()'s part that needs no thread: takes bytes when they are free and taking them
  // wakes no kswapd; false, having taken nothing, otherwise (start_fault's test too).
  bool reserve_at_once(uint64_t bytes);
  uint64_t need_bytes(const Domain& dom, FaultKind kind) const;
  uint64_t sample_cost_ns(Domain& dom, FaultKind kind, uint64_t need) const;
  // Takes up to kReclaimBatch pages, invalidates them and writes them to swap; returns how many.
  uint32_t reclaim_batch(size_t* rr, InvPort* port);

  HostSpec spec_;
  std::vector<std::unique_ptr<Domain>>* domains_;
  HostServices* svc_ = nullptr;
  Invalidator* inv_ = nullptr;
  Iommu* iommu_ = nullptr;
  Checker* checker_ = nullptr;
  TraceSink* trace_ = nullptr;
  std::unique_ptr<Wakeup> kswapd_wake_;
  std::unique_ptr<Condition> freed_;  // kswapd freed memory, or gave up
  bool kswapd_busy_ = false;
  uint64_t waiting_bytes_ = 0;  // what faults waiting for memory need
  bool exhausted_ = false;      // kswapd's last pass found no victim

  uint64_t used_bytes_ = 0;
  uint64_t max_used_bytes_ = 0;
  uint64_t reclaimed_pages_ = 0;
  uint64_t swap_out_bytes_ = 0;
  uint64_t swap_in_bytes_ = 0;
  uint64_t reclaim_waits_ = 0;
  uint64_t fault_cpu_ns_ = 0;
  uint64_t reclaim_cpu_ns_ = 0;
  uint64_t reclaim_scanned_ = 0;
  std::vector<uint64_t> thp_splits_;  // [domain]
};

}  // namespace iopf
