// The invalidation queue (VT-d's QI, the SMMU's command queue) as the host's MMU notifier
// and the scripted sources use it: descriptors, the wait descriptor, the drain, and ATS
// invalidation round trips to the devices' ATCs.
//
// Models, as hardware runs the queue and Linux's qi_submit_sync() feeds it: one submission
// (a caller's filters: reclaim's batch of pages, a THP range, a domain flush) becomes one
// batch of descriptors under ONE wait descriptor. Page filters are first gathered into
// aligned power-of-two ranges (models/iommu/inv_ranges.hpp: VT-d's address mask, ATS's range
// size). The batch holds a descriptor per range for the IOTLB and walk caches, one ATS
// Invalidate descriptor per range per ATS device of the domain (every ATS device for global),
// and the wait descriptor; a submission that would not fit the queue (inv_queue_depth) is cut
// into batches that do, each taking its slots (blocking when the queue is full). The IOMMU
// works a batch's descriptors pipelined: inv_desc for the first, inv_desc_interval for each
// next one (IOMMU time, not a host core: the PRQ's handling does not compete with it); the
// IOMMU's cached entries go; a drain until untranslated DMAs translated by old entries have
// started; then ATS Invalidate Requests go out over PCIe, to each device up to its Invalidate
// Queue Depth (device.inv_queue_depth, the ATS capability field) outstanding at once: the
// device works the requests it holds together, atc_inv for them all (its cost is the wait for
// its in-flight DMAs and a tag match, which requests outstanding together share), answers each
// with an Invalidate Completion after its DMAs that used old translations have started (as ATS
// devices must), and the next requests go when those completions are back; then inv_wait,
// whose status write completes every invalidation of the batch.
// A guest DMA-API unmap of pages or a range is leaf-only (VT-d's IH hint, which Linux sets
// when an unmap freed no page-table page: its unmaps of a few pages never do).
// Does not model: batches of different submitters overlapping in the queue (the queue works
// one batch at a time; each submitter waits for its own), Linux's cap of 16 descriptors per
// qi_batch in intel/cache.c (the model takes what fits the queue), the ITE timeout.
// Figures: message sizes are PCIe header TLPs; the 64 B descriptor is one cache line.
#pragma once
#include <simgrid/forward.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/common/stats.hpp"
#include "models/common/trace.hpp"
#include "models/domain/domain.hpp"
#include "models/iommu/invalidation.hpp"

namespace iopf {

using sg4_mailbox = simgrid::s4u::Mailbox;

class Device;
class SimServices;
struct System;

struct InvalidationStats {
  uint64_t count[kInvKinds] = {};
  Histogram latency_ns[kInvKinds];  // submitted -> completion (wait descriptor written)
  uint64_t atc_requests = 0;        // ATS Invalidate Requests sent to devices
  uint64_t batches = 0;             // wait descriptors
  uint64_t descriptors = 0;         // IOTLB/walk-cache and ATS descriptors, without the waits
  uint64_t iommu_entries_removed = 0;
  uint64_t queue_depth = 0;         // descriptors in the queue now
  uint64_t queue_max_depth = 0;
  struct Reason {
    uint64_t count = 0;
    Histogram latency_ns;
  };
  std::vector<std::vector<Reason>> by_reason;  // [domain][reason < reasons_of(domain)]
};

// The reasons a domain's invalidations can have: the last, dma_api, only where a device's path
// uses the DMA API (so other reports, time series and their statistics stay as they were).
inline int reasons_of(const Domain& d) { return d.dma_api_used() ? kInvReasons : kInvReasons - 1; }

class InvalidationQueue final : public Invalidator {
 public:
  static constexpr uint64_t kDescriptorBytes = 64;  // one descriptor, a cache line
  static constexpr uint64_t kAtcInvBytes = 16;      // ATS Invalidate Request / Completion messages

  InvalidationQueue(SimServices* svc, System* sys);
  ~InvalidationQueue() override;

  InvPort* open_port(const std::string& owner) override;
  uint64_t invalidate(size_t dom_index, InvKind kind, InvReason reason, const std::vector<InvFilter>& filters,
                      InvPort* port) override;

  // Devices with ATS get an ATC invalidation handler; call for every device, in order.
  // Returns true when the device needs its handler thread (atc_loop).
  bool add_device(Device* dev);
  void queue_loop();              // the queue: a thread on the IOMMU
  void atc_loop(size_t device);   // a device's ATC invalidation handler
  void set_trace(TraceSink* trace) { trace_ = trace; }  // invalidations go there (--trace)

  const InvalidationStats& stats() const { return stats_; }
  // From now on an invalidation throws std::logic_error naming `why` (the engine's promise
  // that none can happen was wrong).
  void refuse_all(const std::string& why) { refuse_why_ = why; }

 private:
  struct Request;
  void submit(size_t dom_index, InvKind kind, InvReason reason, std::vector<InvFilter> ranges, uint32_t invalidations,
              uint32_t ats_devices, sg4_mailbox* done);
  void work(Request* req);
  void ats_invalidate(const Request& req);
  bool targets(const Request& req, size_t device) const;

  SimServices* svc_;
  System* sys_;
  simgrid::s4u::Mailbox* queue_;
  simgrid::s4u::Mailbox* atc_done_;
  simgrid::s4u::SemaphorePtr slots_;
  std::vector<simgrid::s4u::Mailbox*> atc_mb_;  // per device, null without ATS
  std::vector<std::unique_ptr<InvPort>> ports_;
  InvalidationStats stats_;
  std::string refuse_why_;  // set: every invalidation is an internal error
  TraceSink* trace_ = nullptr;
};

}  // namespace iopf
