// Devices, their DMA paths, and the inline DMA pipeline.
//
// Models: a PCIe device attached to one domain, with optional ATS (a device ATC) and PRI,
// and one or more DMA paths, each fault tolerant or not, ordered or not, each with its own
// workload. One DMA: ATC lookup (ATS) or an untranslated request; on an ATC miss an ATS
// translation request round trip to the IOMMU (IOTLB, walk); then the data transfer, which
// occupies the device's link in its direction for size/bandwidth (a FIFO link, so bandwidth
// limits and queueing are real), plus the PCIe and memory latencies.
//  - read latency  = translation + 2 x pcie_latency + memory_latency + transfer (+ link queueing)
//  - write latency = translation + pcie_latency + memory_latency + transfer (posted write landed)
// A DMA's latency counts from its scheduled issue time (its due time), so waiting in the
// path's queue, for a page, or for a reset is part of it.
// Open-loop paths: DMAs arrive at `rate` (periodic, or as the path's `arrival` process says:
// models/device/arrivals.hpp) into a queue of queue_depth (a NIC's rx ring, an
// NVMe submission queue); while the path cannot issue (it waits for a page in order, or for a
// reset), arrivals that find the queue full are overruns (dropped, never issued). Closed-loop
// paths keep `outstanding` DMAs in flight.
// A translation fault (absent page, or a write to a read-only one) on a fault-tolerant path of
// a device whose PRI is enabled parks the DMA until its page request is answered (requests
// leave in the order the faults were found, up to pri_outstanding pages: sim/device_side.cpp): an ordered
// path (a descriptor ring) stops behind it; an independent path (payload buffers, SVA work)
// goes on issuing. Otherwise the device's intolerant_fault decides: abort (the DMA fails, the
// device reports an error and the path stops until a device reset), drop (the packet is lost,
// the path goes on) or stall (the whole device stops until a reset). A reset takes reset_cost
// and empties the ATC. PRG responses: Success retries the DMA; Invalid (the page is outside
// what the domain may map) fails it; Failure fails it and, as the PCIe PRI rules say, stops
// the device's page requests until a reset re-enables them (faults meanwhile are handled as
// the intolerant action says). A translated DMA that memory refuses (the domain's
// dma_reaches_memory: SEV-SNP's RMP check) fails the same way, without a page request.
// Measurement window: only DMAs due in [window_start, window_end) are counted; no DMA starts
// at or after window_end; DMAs already started complete (their data may land after it), and
// DMAs still waiting for a page at the end are reported in flight.
// Data crosses the device's link (per direction) and then the root complex, shared by all
// devices (models/device/root_complex.hpp), as wire bytes: split into TLPs of max_payload, each
// with 24 B of overhead. A transfer starts when the link is free and ends when both the link and
// the root complex have carried it; bandwidth_wait_ns is how much later than on an idle link
// and root complex it ends. A path's next write waits until the previous one's data has left
// (so a write stream the link or root complex cannot carry queues, and overruns past
// queue_depth); reads are not held back so (a device's read tags are not modelled). An ATS translation request queues at the IOMMU's front end and its
// walk waits for a walker slot (models/iommu/iommu.hpp).
// Does not model: flow-control credits, read request TLPs, relaxed ordering,
// a device's choice of which pages to group in a page request group (it groups the faulting
// page with the next prg_pages - 1 pages).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "models/cache/tlb.hpp"
#include "models/common/rng.hpp"
#include "models/common/stats.hpp"
#include "models/common/trace.hpp"
#include "models/device/params.hpp"
#include "models/device/root_complex.hpp"
#include "models/domain/domain.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/iommu.hpp"

namespace iopf {

// Counters of the DMAs due in the measurement window.
struct DmaCounters {
  uint64_t issued = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;        // = aborted + dropped + stalled + pri_invalid + pri_failure
  uint64_t aborted = 0;       // could not fault: the DMA failed and the path stopped for a reset
  uint64_t dropped = 0;       // could not fault: the packet was dropped, the path went on
  uint64_t stalled = 0;       // could not fault: the device stopped for a reset
  uint64_t pri_invalid = 0;   // the PRG response was Invalid
  uint64_t pri_failure = 0;   // the PRG response was Failure
  uint64_t in_flight_at_end = 0;  // waiting for a page when the window closed
  uint64_t completed_after_end = 0;  // of completed: data landed after the window closed
  uint64_t overruns = 0;      // arrivals that found the path's queue full (dropped)
  uint64_t bytes = 0;         // of completed DMAs
  Histogram latency_ns;       // of completed DMAs, from their due time
};

class Device;

// A DMA that met an absent or read-only page on a path that may wait for it.
struct ParkedDma {
  class Path* path;
  uint64_t due_ns;       // when it was due (latency counts from here)
  uint64_t va;
  bool write;
  uint64_t detected_ns;  // when the device learned the page is absent
  bool counted;          // due in the window
};

class Path {
 public:
  // stream: the addresses'; arrival_stream: the due times' (open loop).
  Path(const PathSpec& spec, Device* dev, uint64_t seed, uint64_t stream, uint64_t arrival_stream);

  static constexpr uint64_t kNever = ~0ULL;
  // Before the first DMA: the workload's times count from origin_ns (when the domain became
  // ready); DMAs due in [start_ns, end_ns) are counted; none issues at or after end_ns.
  void set_window(uint64_t origin_ns, uint64_t start_ns, uint64_t end_ns);
  // When the next DMA can issue: its due time, later while the path or the device waits for a
  // reset; kNever when an ordered path waits for a page, or nothing more is due in the run.
  inline uint64_t next_issue_ns() const;  // (inline: the device actor asks every path per DMA)
  // Issues the next DMA inline. False when it faulted on a page the device must request; the
  // DMA is then in *parked (and an ordered path waits for it). Defined in device.cpp and
  // forced inline into Device::issue_until, its only caller.
  [[gnu::always_inline]] inline bool issue_one(ParkedDma* parked);
  // Its page arrived at now_ns: retries the parked DMA. False when it faulted again (the page
  // went away meanwhile); *parked then holds the new fault.
  bool retry(ParkedDma* parked, uint64_t now_ns);
  // The PRG response was Invalid or Failure: the parked DMA fails.
  void fail_parked(const ParkedDma& parked, uint64_t now_ns, bool invalid);
  // The window closed with the parked DMA still waiting.
  void abandon_parked(const ParkedDma& parked);
  // At the end of the run: DMAs due in the window and never issued (backlog or overrun).
  void close_window();

  // ---- a path whose buffers a guest driver maps (workload dma_api; guest_driver.hpp) ----
  // The device does not issue such a path's DMAs by itself: the driver does, each at the
  // SimGrid time its buffer is mapped and posted, so nothing runs ahead of the clock.
  bool driven() const { return spec_.workload.dma.mode != DmaApiMode::kNone; }
  // When the next arrival is due; kNever when none is due before the window closes.
  uint64_t peek_arrival_ns() const;
  // Takes the next arrival (counted as offered when due in the window).
  uint64_t take_arrival();
  uint64_t next_buffer_address();  // the guest address of its data
  // Issues one DMA due at due_ns, now, to device address va; returns when it completed or failed.
  uint64_t issue_driven(uint64_t due_ns, uint64_t now_ns, uint64_t va);
  void count_overrun(uint64_t due_ns) { dma_.overruns += in_window(due_ns); }
  // The driver could not map the buffer (the domain refused the map): the I/O is dropped.
  void fail_unmapped(uint64_t due_ns) {
    if (!in_window(due_ns)) return;
    ++dma_.issued, ++dma_.failed, ++dma_.dropped;
  }
  void count_backlog(uint64_t due_ns);
  // The mean time between arrivals (its rate's).
  uint64_t period_ns() const {
    return spec_.workload.rate_per_s > 0 ? static_cast<uint64_t>(1e9 / spec_.workload.rate_per_s) : 0;
  }
  uint64_t window_end_ns() const { return window_hi_ns_; }

  const PathSpec& spec() const { return spec_; }
  const DmaCounters& dma() const { return dma_; }
  uint64_t page_requests() const { return page_requests_; }
  void count_page_requests(uint32_t pages) { page_requests_ += pages; }
  uint64_t backlog() const { return backlog_; }
  uint64_t backlog_oldest_age_ns() const { return backlog_oldest_age_ns_; }
  uint64_t offered() const { return offered_; }  // DMAs due in the window
  uint64_t last_completion_ns() const { return last_completion_ns_; }
  uint64_t dmas_simulated() const { return simulated_; }  // issued, window or not
  // Tests only: the next completion in the window is not counted (breaks conservation).
  void lose_one_completion() { lose_completion_ = true; }
  Device& device() { return *dev_; }
  void stop_until(uint64_t t_ns);
  // Observation only: completions counted in the window also record their latency here
  // (a time series' per-interval histogram, which its sampler reads and clears); null: none.
  void set_interval_latency(Histogram* h) { interval_latency_ns_ = h; }

 private:
  inline uint64_t next_due_ns() const;
  // The DMA hot path's steps, forced inline into it (defined in device.cpp, used only there).
  [[gnu::always_inline]] inline uint64_t next_address();
  bool in_window(uint64_t due_ns) const { return due_ns >= window_lo_ns_ && due_ns < window_hi_ns_; }
  // Takes the next DMA's due time (*counted: due in the window; *ready: the path cannot issue
  // before it); false when it is an overrun (the queue was full).
  [[gnu::always_inline]] inline bool take_slot(uint64_t* due, bool* counted, uint64_t* ready);
  // One DMA due at due_ns, issued at issue_ns; returns false when it faulted and must wait.
  // Forced inline into Device::issue_until (through issue_one); retry and issue_driven call
  // it out of line (do_dma_outline).
  [[gnu::always_inline]] inline bool do_dma(uint64_t due_ns, uint64_t issue_ns, uint64_t va, bool counted,
                                            ParkedDma* parked);
  bool do_dma_outline(uint64_t due_ns, uint64_t issue_ns, uint64_t va, bool counted, ParkedDma* parked);
  [[gnu::always_inline]] inline void complete(uint64_t due_ns, uint64_t done_ns, bool counted);
  void release_slot(uint64_t t_ns);
  // A DMA met an absent or read-only page at t: park it, or fail it as the device's
  // intolerant_fault says. Returns false when it is parked.
  bool on_fault(uint64_t due_ns, uint64_t t, uint64_t va, bool counted, ParkedDma* parked);
  // A DMA that cannot wait for a page failed at t: the device's intolerant_fault decides.
  void fail_unrecoverable(uint64_t t, bool counted);

  PathSpec spec_;
  Device* dev_;
  Rng rng_;
  uint64_t cursor_ = 0;  // sequential/ring position
  uint64_t origin_ns_ = 0;
  uint64_t window_lo_ns_ = 0;
  uint64_t window_hi_ns_ = kNever;
  // Open loop: the arrival process (set_window starts it) and the next DMA's due time.
  bool open_loop_ = false;
  Rng arrival_rng_;
  std::optional<Arrivals> arrivals_;
  uint64_t next_due_ns_ = kNever;
  uint64_t queued_ = 0;     // arrivals waiting while the path could not issue
  uint64_t ready_ns_ = 0;   // the path cannot issue before this (a reset)
  uint32_t parked_ = 0;     // DMAs of this path waiting for a page
  // Closed loop: when each slot is free again.
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<>> slots_;
  DmaCounters dma_;
  uint64_t page_requests_ = 0;
  uint64_t backlog_ = 0;
  uint64_t backlog_oldest_age_ns_ = 0;
  uint64_t offered_ = 0;
  uint64_t last_completion_ns_ = 0;
  uint64_t simulated_ = 0;
  uint64_t last_done_ns_ = 0;  // of the last DMA issued (completed or failed)
  bool lose_completion_ = false;
  Histogram* interval_latency_ns_ = nullptr;
  size_t replay_next_ = 0;  // a replayed workload: the next of its DMAs
  // Per DMA constants of the workload, computed once (the hot path divides by neither).
  uint64_t addresses_ = 1;      // random: access_size slots in the region
  uint64_t wire_bytes_ = 0;     // access_size as TLPs on the wire
  uint64_t hold_link_ns_ = 0;   // a write's link time, for the hold-back (see do_dma)
  uint64_t link_ns_ = 0;        // Device::link_ns(wire_bytes_)
};

struct DeviceTiming {
  uint64_t pcie_latency_ns = 0;
  uint64_t memory_latency_ns = 0;
  uint64_t ats_translation_ns = 0;
  double ps_per_byte = 0;  // link transfer time
  bool walk_sets_accessed = false;  // the IOMMU's walks set accessed bits in the domain's table
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
  uint64_t asid() const { return asid_; }
  void set_window(uint64_t origin_ns, uint64_t start_ns, uint64_t end_ns);
  // Issues its paths' DMAs inline, the earliest first (the first path on a tie), while the
  // earliest is before limit_ns and before send_ns (a page request due to go out). True when
  // one faulted on a page the device must request (it is in *parked); false when it stopped,
  // with *next_issue_ns the earliest next issue time (Path::kNever: none).
  bool issue_until(uint64_t limit_ns, uint64_t send_ns, ParkedDma* parked, uint64_t* next_issue_ns);

  // Link and root-complex occupancy, per direction: returns when a transfer of `bytes`
  // (payload) ready at t has crossed both. counted: the DMA is due in the window.
  uint64_t transfer(bool to_device, uint64_t t, uint32_t bytes, bool counted);
  // The same for a transfer already counted in wire bytes (a path's DMAs: Path::wire_bytes_).
  // Inline into the DMA hot path: defined in device.cpp, so only device.cpp may call it.
  // link_ns: link_ns(wire), which a path computes once.
  [[gnu::always_inline]] inline uint64_t transfer_wire(bool to_device, uint64_t t, uint64_t wire, uint64_t link_ns,
                                                       bool counted);
  // Wire bytes' time on an idle link (rounded up to a ns).
  uint64_t link_ns(uint64_t wire) const { return (wire * ps_per_byte_x1000_ + 999'999) / 1'000'000; }
  void set_root_complex(RootComplex* rc) {
    rc_ = rc;
    rc_port_ = rc->add_port(spec_.pcie_bandwidth_bytes_per_s);
  }
  // A device reset starting at t: nothing issues on `path` (or, when path is null, on any
  // path) until it ends; the ATC empties; page requests are enabled again.
  void reset(uint64_t t, Path* path);
  // A PRG response Failure at t: page requests stop until a reset (reset_cost) re-enables them.
  void pri_failure(uint64_t t);
  bool pri_enabled(uint64_t t) const { return spec_.pri && t >= pri_disabled_until_ns_; }
  uint64_t pri_enabled_at_ns() const { return pri_disabled_until_ns_; }
  uint64_t ready_ns() const { return ready_ns_; }  // the whole device waits for a reset until then

  uint64_t ats_requests = 0;
  uint64_t pri_requests = 0;  // page requests (one per page)
  uint64_t pri_groups = 0;    // page request groups (one PRG response each)
  uint64_t pri_merged = 0;    // faults on a page already requested: no new request
  Histogram fault_latency_ns;  // page request sent -> PRG response received
  uint64_t atc_invalidations = 0;
  // Latest time a DMA of this device used a translation (its data phase started). An
  // invalidation completes only after the device drained what it issued before it: the ATS
  // Invalidate Completion (and VT-d's drain for untranslated DMA) waits until then.
  uint64_t max_use_ns = 0;
  Checker* checker = nullptr;      // set when the checker is on
  TraceSink* trace = nullptr;      // set when a timeline is recorded (--trace): resets go there
  uint32_t trace_pid = 0;          // this device's process in the timeline
  uint64_t resets = 0;             // device resets (abort, stall, PRI Failure)
  uint64_t pri_outstanding = 0;    // page requests (pages) in flight now
  uint64_t pri_retries = 0;        // page requests sent again (timeout, or faulted again after Success)
  uint64_t pri_timeouts = 0;
  uint64_t pri_responses[3] = {};  // Success, Invalid, Failure
  Histogram fault_latency_minor_ns;
  Histogram fault_latency_major_ns;
  Histogram bandwidth_wait_ns;  // per DMA in the window: transfer end minus its unloaded end
  // MSIs (msi_every_dmas): a 4-byte write to the domain's doorbell slot after every that many
  // DMAs completed in the window, translated by the IOMMU as an untranslated request.
  void dma_done_for_msi(uint64_t t);
  uint64_t msi_writes = 0;  // MSIs that reached the doorbell
  uint64_t msi_faults = 0;  // MSIs whose translation faulted (dropped: no page request for an MSI)
  // Of those that reached it: translation and the posted write. Made only for a device with
  // msi_every_dmas (a histogram is 59 KiB of sim.memory).
  std::unique_ptr<Histogram> msi_latency_ns;

 private:
  DeviceSpec spec_;
  Domain* domain_;
  uint64_t asid_;  // its domain's id and its PASID (both fixed): the ATC's tag
  Iommu* iommu_;
  DeviceTiming timing_;
  Tlb atc_;
  std::vector<Path> paths_;
  RootComplex* rc_ = nullptr;
  uint32_t rc_port_ = 0;
  uint64_t ps_per_byte_x1000_ = 0;  // fixed point: femtoseconds per byte
  uint64_t up_free_ns_ = 0;
  uint64_t down_free_ns_ = 0;
  uint64_t ready_ns_ = 0;
  uint64_t pri_disabled_until_ns_ = 0;
  uint32_t dmas_since_msi_ = 0;
  // issue_until's: each path's next_issue_ns, kept between calls. A path changed outside
  // issue_until (a retry, a failed or abandoned DMA, a reset, a new window) is marked stale
  // and read again at the next call; a change of the device's ready time makes every path stale.
  friend class Path;
  void path_changed(const Path* p);
  std::vector<uint64_t> next_issue_ns_;
  std::vector<uint32_t> stale_paths_;
  std::vector<uint8_t> path_stale_;
  uint64_t issue_ready_ns_ = 0;  // ready_ns_ when next_issue_ns_ was last read
};

inline uint64_t Path::next_due_ns() const {
  if (!spec_.workload.replay.empty()) {
    const std::vector<ReplayDma>& replay = spec_.workload.replay;
    return replay_next_ < replay.size() ? origin_ns_ + spec_.workload.start_ns + replay[replay_next_].t_ns : kNever;
  }
  if (open_loop_) return next_due_ns_;
  return slots_.empty() ? kNever : slots_.top();
}

inline uint64_t Path::next_issue_ns() const {
  if (driven()) return kNever;  // its driver issues it
  if (parked_ && spec_.ordered) return kNever;  // an ordered path waits for its page
  const uint64_t due = next_due_ns();
  if (due >= window_hi_ns_) return kNever;
  const uint64_t ready = ready_ns_ > dev_->ready_ns() ? ready_ns_ : dev_->ready_ns();
  return due > ready ? due : ready;
}

}  // namespace iopf
