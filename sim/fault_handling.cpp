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

// A fault handler thread. The engine drives it through its batches (its timer ends each wait:
// the interrupt's latency, a page's CPU work on a core of its own), so a fault storm's
// handlers cost no thread switches; the thread runs only what must wait otherwise (memory to
// be reclaimed, swap, cores shared), then hands the handler back to the engine.
struct FaultHandling::Handler final : CpuCores::Alone {
  Handler(FaultHandling* f, uint32_t c)
      : core(c), who("fault_handler:" + std::to_string(c)), wake(sg4::Semaphore::create(0)),
        timer([f, this] { f->on_timer(*this); }) {}
  // The cores became shared during its page's work: its thread goes on with what is left.
  // (CpuCores has set `shared`: its thread finishes the work first.)
  void interrupt() override {
    timer.disarm();
    on_core = false;
    wake->release();
  }

  uint32_t core;
  std::string who;         // for an error's message
  sg4::SemaphorePtr wake;  // its thread waits here while the engine drives it
  EngineTimer timer;
  bool on_core = false;    // the timer ends a page's CPU work (else the interrupt's latency)
  std::vector<PageRequest*> batch;
  size_t at = 0;           // batch[at] is being handled
  bool begun = false;      // batch[at]'s handling has begun
  uint32_t page = 0;       // batch[at]'s next page
  bool ok = true;          // batch[at]'s faulting page could be had
  uint64_t start_ns = 0;   // batch[at]'s handling began
  HostMemory::PageFault fault;  // the page on the core (on_core)
};

void FaultHandling::hand_off(PageRequest* req, uint64_t ready_ns) {
  if (idle_.empty()) {
    pending_.push_back(Handoff{req, ready_ns});
    return;
  }
  Handler* h = idle_.front();
  idle_.pop_front();
  svc_->count_event();  // its wake-up
  if (!begin_batch(*h, Handoff{req, ready_ns})) run(*h);
}

// Woken by the first (when it reaches the host), the handler also takes what had reached the
// host before it: one interrupt. Requests reach the host in the order handed off, so only a
// handler that was busy when its first arrived finds others already there.
bool FaultHandling::begin_batch(Handler& h, const Handoff& first) {
  h.batch.assign(1, first.req);
  h.at = 0;
  h.begun = false;
  const uint64_t now = svc_->now_ns();
  const uint64_t woken = std::max(now, first.ready_ns);
  while (h.batch.size() < host_.fault_batch && !pending_.empty() && pending_.front().ready_ns <= now) {
    h.batch.push_back(pending_.front().req);
    pending_.pop_front();
  }
  // Interrupt delivery and handler wake-up: latency, not CPU work.
  const uint64_t handled_from = woken + host_.irq_latency.sample_ns(irq_rng_);
  if (handled_from <= now) return false;
  h.on_core = false;
  h.timer.arm(handled_from);
  return true;
}

// Handles h's batch at now until it must wait: for its timer, for a request (idle), or in its
// thread; then, the batch done, takes the next one.
void FaultHandling::run(Handler& h) {
  for (;;) {
    if (h.at == h.batch.size()) {
      if (pending_.empty()) {
        idle_.push_back(&h);
        return;
      }
      const Handoff first = pending_.front();
      pending_.pop_front();
      if (begin_batch(h, first)) return;
      continue;
    }
    PageRequest* req = h.batch[h.at];
    if (!h.begun) begin_request(h, req);
    if (!more_pages(h, req)) {
      end_request(h, req);
      continue;
    }
    CpuCores& cores = svc_->cores();
    if (!cores.core_free() || !memory_->start_fault(req->device->domain(), page_va(req, h.page), req->write, &h.fault)) {
      h.wake->release();  // its thread does what must wait (and the rest of the batch)
      return;
    }
    if (h.fault.kind != FaultKind::kNone && h.fault.cpu_ns) {
      cores.start_alone(&h, h.fault.cpu_ns);
      h.on_core = true;
      h.timer.arm(svc_->now_ns() + h.fault.cpu_ns);
      return;
    }
    if (h.fault.kind != FaultKind::kNone) end_work(h);
    else end_page(h, req, h.fault.kind, true);
  }
}

void FaultHandling::on_timer(Handler& h) {
  svc_->guarded(h.who, [&] {
    svc_->count_event();  // the wait it ended (as a thread's sleep or work counts when it ends)
    if (h.on_core) {  // its page's work is done
      h.on_core = false;
      svc_->cores().end_alone(&h);
      end_work(h);
    }
    run(h);
  });
}

// The page h started (start_fault) has had its CPU work: it is mapped.
void FaultHandling::end_work(Handler& h) {
  PageRequest* req = h.batch[h.at];
  memory_->finish_fault(req->device->domain(), page_va(req, h.page), req->write, h.fault);
  end_page(h, req, h.fault.kind, true);
}

// In h's thread: the rest of its batch, with waits.
void FaultHandling::finish_in_thread(Handler& h) {
  if (h.shared) {  // its page's work, interrupted: what is left, as an execution
    h.shared = false;
    svc_->cores().execute_rest(h);
    svc_->count_event();
    end_work(h);
  }
  for (; h.at < h.batch.size();) {
    PageRequest* req = h.batch[h.at];
    if (!h.begun) begin_request(h, req);
    while (more_pages(h, req)) {
      bool page_ok = true;
      const FaultKind kind = memory_->fault_in(req->device->domain(), page_va(req, h.page), req->write, &page_ok);
      end_page(h, req, kind, page_ok);
    }
    end_request(h, req);
  }
}

// The address a group's page is faulted at: the faulting address itself, then the pages after it.
uint64_t FaultHandling::page_va(const PageRequest* req, uint32_t page) {
  return page ? (req->va & ~kBasePageMask) + kBasePageBytes * page : req->va;
}

void FaultHandling::begin_request(Handler& h, PageRequest* req) {
  h.begun = true;
  h.page = 0;
  h.ok = true;
  h.start_ns = svc_->now_ns();
  const Domain& dom = req->device->domain();
  // Outside guest memory, or a gIOVA: Invalid, and no page is looked at.
  if (req->va >= dom.spec().memory_bytes || !dom.answers_page_requests()) req->code = PrgCode::kInvalid;
}

// The faulting page decides the response; the rest of the group is best effort (pages past
// the end of guest memory are skipped).
bool FaultHandling::more_pages(const Handler& h, const PageRequest* req) const {
  if (req->code == PrgCode::kInvalid || h.page >= req->pages) return false;
  return page_va(req, h.page) < req->device->domain().spec().memory_bytes;
}

void FaultHandling::end_page(Handler& h, PageRequest* req, FaultKind kind, bool ok) {
  if (h.page == 0) {
    req->kind = kind;
    h.ok = ok;
  }
  ++stats_.device_faults[static_cast<int>(kind)];
  ++h.page;
}

void FaultHandling::end_request(Handler& h, PageRequest* req) {
  static constexpr const char* kFaultNames[] = {"no fault", "minor fault", "major fault", "write-protect fault"};
  if (req->code != PrgCode::kInvalid) req->code = h.ok ? PrgCode::kSuccess : PrgCode::kFailure;
  stats_.depth -= req->pages;
  stats_.residence_ns.record(svc_->now_ns() - req->accepted_ns);
  if (trace_ && req->code != PrgCode::kInvalid)
    trace_->span(TraceCat::kFault, kFaultNames[static_cast<int>(req->kind)], {TraceTrack::kHostPid, h.core}, h.start_ns,
                 svc_->now_ns(), "va", req->va);
  respond(req);
  ++h.at;
  h.begun = false;
}

void FaultHandling::handler_loop(uint32_t core) {
  Handler h(this, core);
  struct Leave {  // an actor killed (the run is over) unwinds through here: off the core and idle list
    FaultHandling& fh;
    Handler& h;
    ~Leave() {
      if (h.on_core) fh.svc_->cores().end_alone(&h);
      fh.idle_.erase(std::remove(fh.idle_.begin(), fh.idle_.end(), &h), fh.idle_.end());
    }
  } leave{*this, h};
  run(h);
  for (;;) {
    h.wake->acquire();  // the engine drives it until something must wait
    finish_in_thread(h);
    run(h);
  }
}

}  // namespace iopf
