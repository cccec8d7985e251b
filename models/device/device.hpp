// Devices, their DMA paths, and the inline DMA pipeline.
//
// Models: a PCIe device attached to one domain, with optional ATS (a device ATC) and PRI,
// and one or more DMA paths, each fault tolerant or not, each with its own workload.
// One DMA: ATC lookup (ATS) or an untranslated request; on an ATC miss an ATS translation
// request round trip to the IOMMU (IOTLB, walk); then the data transfer, which occupies
// the device's link in its direction for size/bandwidth (a FIFO link, so bandwidth limits
// and queueing are real), plus the PCIe and memory latencies.
//  - read latency  = translation + 2 x pcie_latency + memory_latency + transfer (+ link queueing)
//  - write latency = translation + pcie_latency + memory_latency + transfer (posted write landed)
// Open-loop paths issue at `rate` and queue behind a stalled DMA (latency counts from the
// scheduled issue time); closed-loop paths keep `outstanding` DMAs in flight.
// A translation fault (absent page, or a write to a read-only one) on a fault-tolerant path
// of a PRI device stalls that path (head of line, as a NIC receive queue stalls) until the
// PRG response; other paths go on. On a path that cannot fault, or a device without PRI,
// the device's intolerant_fault decides: abort (the DMA fails), drop (the packet is dropped)
// or stall (the path stops until a device reset, which also empties the ATC).
// Does not model: TLP splitting by max payload size, flow-control credits, relaxed ordering,
// a path with several faults outstanding at once (its first fault blocks it), page request
// a device's choice of which pages to group (it groups the faulting page with the next
// prg_pages - 1 pages of the address space).
#pragma once
#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include "models/cache/tlb.hpp"
#include "models/domain/domain.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/iommu.hpp"
#include "models/common/rng.hpp"
#include "models/device/params.hpp"
#include "models/common/stats.hpp"

namespace iopf {

struct DmaCounters {
  uint64_t issued = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;   // = aborted + dropped + stalled + pri_failed
  uint64_t aborted = 0;  // could not fault: the DMA failed, its data is lost
  uint64_t dropped = 0;  // could not fault: the packet was dropped, the path went on
  uint64_t stalled = 0;  // could not fault: the path stopped until a device reset
  uint64_t pri_failed = 0;  // the PRG response was Invalid or Failure
  uint64_t bytes = 0;
  Histogram latency_ns;
};

class Device;

// A fault the inline pipeline cannot resolve itself: the path must ask the host.
struct PendingFault {
  uint64_t va = 0;
  bool write = false;
  uint64_t scheduled_ns = 0;  // when the DMA was due (latency counts from here)
  uint64_t detected_ns = 0;   // when the device learned the page is absent
};

class Path {
 public:
  Path(const PathSpec& spec, Device* dev, uint64_t seed, uint64_t stream);

  static constexpr uint64_t kNever = ~0ULL;
  // When the next DMA can issue: its due time, later if the path is stalled; kNever when
  // the path waits for a PRG response or has nothing more due before end_ns.
  uint64_t next_issue_ns(uint64_t end_ns) const {
    if (stalled_) return kNever;
    const uint64_t due = next_due_ns();
    if (due >= end_ns) return kNever;
    return due > ready_ns_ ? due : ready_ns_;
  }
  // Issues the next DMA (at next_issue_ns) inline. False when it faulted on an absent page
  // the path can wait for: the path is then stalled with the fault in pending().
  bool issue_one();
  bool stalled() const { return stalled_; }
  // After the PRG response arrived at now_ns: retries the pending DMA. False when the
  // retry faulted again (the page went away meanwhile); pending() then holds the new fault.
  bool resume(uint64_t now_ns);
  // The PRG response said Invalid or Failure: the pending DMA fails; the path goes on.
  void fail_pending(uint64_t now_ns);

  const PathSpec& spec() const { return spec_; }
  const DmaCounters& dma() const { return dma_; }
  const PendingFault& pending() const { return pending_; }
  uint64_t page_requests() const { return page_requests_; }
  void count_page_requests(uint32_t pages) { page_requests_ += pages; }
  Device& device() { return *dev_; }
  uint64_t next_due_ns() const;

 private:
  uint64_t next_address();
  // One DMA due at due_ns, issued at issue_ns; returns false when it faulted and must wait.
  bool do_dma(uint64_t due_ns, uint64_t issue_ns, uint64_t va);
  void take_slot(uint64_t* due);
  void complete(uint64_t due_ns, uint64_t done_ns);
  // A DMA met an absent or read-only page at t: wait for a page request, or fail as the
  // device's intolerant_fault says. Returns false when the path now waits.
  bool on_fault(uint64_t due_ns, uint64_t t, uint64_t va);

  PathSpec spec_;
  Device* dev_;
  Rng rng_;
  uint64_t cursor_ = 0;  // sequential/ring position
  // Open loop: DMA k is due at start + k * period_ps / 1000.
  uint64_t period_ps_ = 0;
  uint64_t due_ps_ = 0;  // k * period_ps, kept incrementally (no division per DMA but /1000)
  uint64_t ready_ns_ = 0;  // the path cannot issue before this (after a stall)
  bool stalled_ = false;   // waiting for a PRG response
  // Closed loop: when each slot is free again.
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<>> slots_;
  DmaCounters dma_;
  PendingFault pending_;
  uint64_t page_requests_ = 0;
};

struct DeviceTiming {
  uint64_t pcie_latency_ns = 0;
  uint64_t memory_latency_ns = 0;
  uint64_t ats_translation_ns = 0;
  double ps_per_byte = 0;  // link transfer time
};

class Device {
 public:
  Device(const DeviceSpec& spec, Domain* domain, Iommu* iommu, const DeviceTiming& t, uint64_t seed);
  const DeviceSpec& spec() const { return spec_; }
  Domain& domain() { return *domain_; }
  Iommu& iommu() { return *iommu_; }
  Tlb& atc() { return atc_; }
  const Tlb& atc() const { return atc_; }
  std::vector<Path>& paths() { return paths_; }
  const std::vector<Path>& paths() const { return paths_; }
  const DeviceTiming& timing() const { return timing_; }
  uint64_t asid() const { return make_asid(domain_->iommu_view().id, spec_.pasid); }

  // Link occupancy, per direction: returns when a transfer of `bytes` ready at t finishes.
  uint64_t transfer(bool to_device, uint64_t t, uint32_t bytes) {
    uint64_t& free_at = to_device ? down_free_ns_ : up_free_ns_;
    const uint64_t start = t > free_at ? t : free_at;
    free_at = start + (static_cast<uint64_t>(bytes) * ps_per_byte_x1000_ + 999'999) / 1'000'000;
    return free_at;
  }
  uint64_t ats_requests = 0;
  uint64_t pri_requests = 0;  // page requests (one per page)
  uint64_t pri_groups = 0;    // page request groups (one PRG response each)
  Histogram fault_latency_ns;  // page request sent -> PRG response received
  uint64_t atc_invalidations = 0;
  // Latest time a DMA of this device used a translation (its data phase started). An
  // invalidation completes only after the device drained what it issued before it: the ATS
  // Invalidate Completion (and VT-d's drain for untranslated DMA) waits until then.
  uint64_t max_use_ns = 0;
  Checker* checker = nullptr;  // set when the checker is on
  uint64_t resets = 0;             // device resets after stalls
  uint64_t pri_outstanding = 0;    // page requests (pages) in flight now
  uint64_t pri_retries = 0;        // page requests sent again (timeout, or faulted again after Success)
  uint64_t pri_timeouts = 0;
  uint64_t pri_responses[3] = {};  // Success, Invalid, Failure
  Histogram fault_latency_minor_ns;
  Histogram fault_latency_major_ns;

 private:
  DeviceSpec spec_;
  Domain* domain_;
  Iommu* iommu_;
  DeviceTiming timing_;
  Tlb atc_;
  std::vector<Path> paths_;
  uint64_t ps_per_byte_x1000_ = 0;  // fixed point: femtoseconds per byte
  uint64_t up_free_ns_ = 0;
  uint64_t down_free_ns_ = 0;
};

}  // namespace iopf
