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
                             uint64_t seed)
    : svc_(svc), iommu_(iommu), host_(host), memory_(memory), prq_(sg4::Mailbox::by_name("prq")),
      faults_(sg4::Mailbox::by_name("faults")), irq_rng_(seed, streams::irq_latency()) {}

sg4::Mailbox* FaultHandling::response_mailbox(const Device* p) {
  return sg4::Mailbox::by_name("prg:" + std::to_string(reinterpret_cast<uintptr_t>(p)));
}

// A page request in the timeline: on its device's track, id = device pid and its own number.
void FaultHandling::trace_request(const PageRequest* req, bool begin, const char* arg_name, uint64_t arg) {
  const uint32_t pid = req->device->trace_pid;
  trace_->async(TraceCat::kPageRequest, "page request", begin, {pid, 0}, (static_cast<uint64_t>(pid) << 40) | req->id,
                svc_->now_ns(), arg_name, arg);
}

void FaultHandling::send(PageRequest* req) {
  if (trace_) trace_request(req, true, "pages", req->pages);
  prq_->put_init(req, kPageRequestBytes * req->pages)->detach();
  svc_->count_event();
}

void FaultHandling::respond(PageRequest* req) {
  if (trace_) trace_request(req, false, "prg_code", static_cast<uint64_t>(req->code));
  response_mailbox(req->device)->put_init(req, kPrgResponseBytes)->detach();
  svc_->count_event();
}

void FaultHandling::prq_loop() {
  // The PRQ is a ring in host memory: the IOMMU writes each accepted request's descriptor there
  // at once (the hand-off starts when it is sent, not when a handler asks), and a handler that
  // becomes free reads what is already written. A permanent receiver makes the mailbox eager.
  faults_->set_receiver(sg4::Actor::self());
  for (;;) {
    auto* req = prq_->get<PageRequest>();
    svc_->count_event();
    ++stats_.requests;
    if (stats_.depth + req->pages > iommu_.prq_depth) {
      ++stats_.overflows;
      if (iommu_.prq_overflow == PrqOverflow::kDrop) {
        if (trace_) trace_request(req, false, "lost", 1);
        delete req;  // lost: the device times out
        continue;
      }
      ++stats_.auto_responses;  // answered Success without the host: the device will fault again
      respond(req);
      continue;
    }
    stats_.depth += req->pages;
    req->accepted_ns = svc_->now_ns();
    stats_.max_depth = std::max(stats_.max_depth, stats_.depth);
    svc_->cpu_work(iommu_.prq_handling_ns);
    faults_->put_init(req, kHandoffBytes)->detach();
    svc_->count_event();
  }
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
  std::vector<PageRequest*> batch;
  for (;;) {
    batch.assign(1, faults_->get<PageRequest>());
    svc_->count_event();
    while (batch.size() < host_.fault_batch && faults_->ready()) {  // answered together: one interrupt
      batch.push_back(faults_->get<PageRequest>());
      svc_->count_event();
    }
    // Interrupt delivery and handler wake-up: latency, not CPU work.
    svc_->sleep_until(svc_->now_ns() + host_.irq_latency.sample_ns(irq_rng_));
    for (PageRequest* req : batch) handle(req, core);
  }
}

}  // namespace iopf
