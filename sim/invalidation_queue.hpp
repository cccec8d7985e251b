// The invalidation queue (VT-d's QI, the SMMU's command queue) as the host's MMU notifier
// and the scripted sources use it: descriptors, the wait descriptor, the drain, and ATS
// invalidation round trips to the devices' ATCs.
//
// Models: a request (one filter) takes descriptors in a queue of inv_queue_depth (blocking
// when full): an IOTLB/walk-cache descriptor, one ATS Invalidate descriptor per ATS device of
// the domain (every ATS device for global), and the wait descriptor. The queue works
// requests in order, one at a time: inv_desc of IOMMU work (the IOMMU's cached entries go
// then); a drain until untranslated DMAs translated by the old entries have started; an ATS
// Invalidate Request over PCIe to each device, each answering with an Invalidate Completion
// after atc_inv of device work and after its DMAs that used old translations have started
// (as ATS devices must); then inv_wait, whose status write is the completion.
// A page or range request of a guest's DMA-API unmap is leaf-only (VT-d's IH hint, which
// Linux sets when an unmap freed no page-table page: its unmaps of a few pages never do).
// Does not model: several requests in flight at once, batching under one wait descriptor,
// range invalidation by address mask, the device's Invalidate Queue Depth.
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

class Device;
class SimServices;
struct System;

struct InvalidationStats {
  uint64_t count[kInvKinds] = {};
  Histogram latency_ns[kInvKinds];  // submitted -> completion (wait descriptor written)
  uint64_t atc_requests = 0;        // ATS Invalidate Requests sent to devices
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

 private:
  struct Request;
  void work(Request* req);
  bool targets(const Request& req, size_t device) const;

  SimServices* svc_;
  System* sys_;
  simgrid::s4u::Mailbox* queue_;
  simgrid::s4u::Mailbox* atc_done_;
  simgrid::s4u::SemaphorePtr slots_;
  std::vector<simgrid::s4u::Mailbox*> atc_mb_;  // per device, null without ATS
  std::vector<std::unique_ptr<InvPort>> ports_;
  InvalidationStats stats_;
  TraceSink* trace_ = nullptr;
};

}  // namespace iopf
