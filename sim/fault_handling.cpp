#include "sim/fault_handling.hpp"

#include <simgrid/s4u.hpp>

#include <algorithm>
#include <vector>

#include "models/common/sizes.hpp"
#include "models/common/streams.hpp"
#include "models/device/device.hpp"
#include "models/host/host_memory.hpp"
#include "models/host/params.hpp"
#include "models/iommu/params.hpp"
#include "sim/sim_services.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {


FaultHandling::FaultHandling(SimServices* svc, const IommuSpec& iommu, const HostSpec& host, HostMemory* memory,
                             uint64_t seed, const HostLink& host_link)
    : svc_(svc), iommu_(iommu), host_(host), memory_(memory), host_link_(host_link),
      prq_timer_([this] { prq_serve(); }), irq_rng_(seed, streams::irq_latency()) {}

FaultHandling::~FaultHandling() = default;

void FaultHandling::retire(PageRequest* req) { retired_.push_back(req); }

Inbox& FaultHandling::responses(const Device* d) {
  std::unique_ptr<Inbox>& in = responses_[d];
  if (!in) in = std::make_unique<Inbox>();
  return *in;
}

// A page request in the timeline: on its device's track, id = device pid and its own number.
void FaultHandling::trace_request(const PageRequest* req, bool begin, const char* arg_name, uint64_t arg) {
  const uint32_t pid = req->device->trace_pid;
  trace_->async(TraceCat::kPageRequest, "page request", begin, {pid, 0}, (static_cast<uint64_t>(pid) << 40) | req->id,
                svc_->now_ns(), arg_name, arg);
}

void FaultHandling::send(const PageRequest& request) {
  PageRequest* req;
  if (retired_.empty()) {
    req = &requests_.emplace_back(request);
  } else {
    req = retired_.back();
    retired_.pop_back();
    *req = request;
  }
  if (trace_) trace_request(req, true, "pages", req->pages);
  const DeviceSpec& ds = req->device->spec();  // device to IOMMU: its PCIe link
  prq_.send(req, svc_->now_ns() + message_ns(ds.pcie_latency_ns, kPageRequestBytes * req->pages,
                                             ds.pcie_bandwidth_bytes_per_s));
  prq_schedule();
}

void FaultHandling::respond(PageRequest* req) {
  if (trace_) trace_request(req, false, "prg_code", static_cast<uint64_t>(req->code));
  const DeviceSpec& ds = req->device->spec();  // CPU to device: the root complex, then its PCIe link
  const uint64_t flight = message_ns(host_link_.latency_ns + ds.pcie_latency_ns, kPrgResponseBytes,
                                     std::min(ds.pcie_bandwidth_bytes_per_s, host_link_.bytes_per_s));
  responses(req->device).send(req, svc_->now_ns() + flight);
}

// The next request is served once it has arrived and the one before has been handled: the
// engine runs prq_serve then (prq_timer_), and a request sent to an idle PRQ arms it.
void FaultHandling::prq_schedule() {
  const uint64_t arrival = prq_.next_arrival_ns();
  const uint64_t start = arrival == Inbox::kNever ? EngineTimer::kNever : std::max(arrival, prq_free_ns_);
  if (start != prq_timer_.at_ns()) prq_timer_.arm(start);
}

void FaultHandling::prq_serve() {
  svc_->guarded("prq", [this] {
    svc_->count_event();
    const uint64_t now = svc_->now_ns();
    while (prq_free_ns_ <= now && prq_.arrived(now)) accept(prq_.pop(), now);
    prq_schedule();
  });
}

void FaultHandling::prq_keeper() {
  struct Stop {  // the run is over (SimGrid kills the daemons): so is the PRQ's timer
    EngineTimer& timer;
    ~Stop() { timer.disarm(); }
  } stop{prq_timer_};
  sg4::Semaphore::create(0)->acquire();
}

// The request's PRQ entries are taken, or it finds the PRQ full.
void FaultHandling::accept(PageRequest* req, uint64_t now) {
  ++stats_.requests;
  if (stats_.depth + req->pages > iommu_.prq_depth) {
    ++stats_.overflows;
    if (iommu_.prq_overflow == PrqOverflow::kDrop) {
      if (trace_) trace_request(req, false, "lost", 1);
      retire(req);  // lost: the device times out
      return;
    }
    ++stats_.auto_responses;  // answered Success without the host: the device will fault again
    respond(req);
    return;
  }
  stats_.depth += req->pages;
  req->accepted_ns = now;
  stats_.max_depth = std::max(stats_.max_depth, stats_.depth);
  // The IOMMU's own work (nothing else runs on it), then the descriptor crosses to the host.
  prq_free_ns_ = now + iommu_.prq_handling_ns;
  hand_off(req, prq_free_ns_ + message_ns(host_link_.latency_ns, kHandoffBytes, host_link_.bytes_per_s));
}

void FaultHandling::hand_off(PageRequest* req, uint64_t ready_ns) {
  if (idle_.empty()) {
    pending_.push_back(Handoff{req, ready_ns});
    return;
  }
  Handler* h = idle_.front();
  idle_.pop_front();
  h->given = Handoff{req, ready_ns};
  h->wake->release();
}

// The handler's next request: one already handed off, or the next one to be.
FaultHandling::Handoff FaultHandling::next_request(Handler& me) {
  if (!pending_.empty()) {
    const Handoff h = pending_.front();
    pending_.pop_front();
    return h;
  }
  idle_.push_back(&me);
  me.wake->acquire();
  svc_->count_event();
  return me.given;
}

void FaultHandling::handle(PageRequest* req, uint32_t core) {
  static constexpr const char* kFaultNames[] = {"no fault", "minor fault", "major fault", "write-protect fault"};
  const uint64_t start_ns = svc_->now_ns();
  Domain& dom = req->device->domain();
  if (req->va >= dom.spec().memory_bytes || !dom.answers_page_requests()) {  // outside guest memory, or a gIOVA
    req->code = PrgCode::kInvalid;
  } else {
    // The faulting page decides the response; the rest of the group is best effort (pages
    // past the end of guest memory are skipped).
    bool ok = true;
    for (uint32_t i = 0; i < req->pages; ++i) {
      const uint64_t va = (req->va & ~kBasePageMask) + kBasePageBytes * i;
      if (va >= dom.spec().memory_bytes) break;
      bool page_ok = true;
      const FaultKind kind = memory_->fault_in(dom, i ? va : req->va, req->write, &page_ok);
      if (i == 0) {
        req->kind = kind;
        ok = page_ok;
      }
      ++stats_.device_faults[static_cast<int>(kind)];
    }
    req->code = ok ? PrgCode::kSuccess : PrgCode::kFailure;
  }
  stats_.depth -= req->pages;
  stats_.residence_ns.record(svc_->now_ns() - req->accepted_ns);
  if (trace_ && req->code != PrgCode::kInvalid)
    trace_->span(TraceCat::kFault, kFaultNames[static_cast<int>(req->kind)], {TraceTrack::kHostPid, core}, start_ns,
                 svc_->now_ns(), "va", req->va);
  respond(req);
}

void FaultHandling::handler_loop(uint32_t core) {
  Handler me{sg4::Semaphore::create(0)};
  std::vector<PageRequest*> batch;
  for (;;) {
    const Handoff first = next_request(me);
    batch.assign(1, first.req);
    // Woken by the first (when it reaches the host), the handler also takes what had reached
    // the host before it: one interrupt. Requests reach the host in the order handed off, so
    // only a handler that was busy when its first arrived finds others already there.
    const uint64_t now = svc_->now_ns();
    const uint64_t woken = std::max(now, first.ready_ns);
    while (batch.size() < host_.fault_batch && !pending_.empty() && pending_.front().ready_ns <= now) {
      batch.push_back(pending_.front().req);
      pending_.pop_front();
    }
    // Interrupt delivery and handler wake-up: latency, not CPU work.
    svc_->sleep_until(woken + host_.irq_latency.sample_ns(irq_rng_));
    for (PageRequest* req : batch) handle(req, core);
  }
}

}  // namespace iopf
