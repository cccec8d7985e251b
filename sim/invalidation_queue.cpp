#include "sim/invalidation_queue.hpp"

#include <simgrid/s4u.hpp>

#include <algorithm>

#include "sim/sim_services.hpp"
#include "sim/system.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

namespace {

struct MailboxPort final : InvPort {
  explicit MailboxPort(const std::string& name) : mb(sg4::Mailbox::by_name(name)) {}
  sg4::Mailbox* mb;
};

struct AtcInvRequest {
  InvFilter filter;
};

}  // namespace

struct InvalidationQueue::Request {
  size_t domain;  // index; unused for global
  InvKind kind;
  InvReason reason;
  InvFilter filter;
  uint64_t submitted_ns;
  uint32_t descriptors;  // queue slots it holds
  sg4::Mailbox* done;
};

InvalidationQueue::InvalidationQueue(SimServices* svc, System* sys)
    : svc_(svc), sys_(sys), queue_(sg4::Mailbox::by_name("invq")), atc_done_(sg4::Mailbox::by_name("atc_done")),
      slots_(sg4::Semaphore::create(sys->sc.iommu.inv_queue_depth)) {
  for (const auto& d : sys->domains) stats_.by_reason.emplace_back(reasons_of(*d));
}

InvalidationQueue::~InvalidationQueue() = default;

InvPort* InvalidationQueue::open_port(const std::string& owner) {
  ports_.push_back(std::make_unique<MailboxPort>(owner));
  return ports_.back().get();
}

bool InvalidationQueue::add_device(Device* dev) {
  sg4::Mailbox* mb = dev->spec().ats ? sg4::Mailbox::by_name("atcinv:" + dev->spec().name) : nullptr;
  atc_mb_.push_back(mb);
  return mb != nullptr;
}

bool InvalidationQueue::targets(const Request& req, size_t device) const {
  return req.kind == InvKind::kGlobal || &sys_->devices[device]->domain() == sys_->domains[req.domain].get();
}

uint64_t InvalidationQueue::invalidate(size_t dom_index, InvKind kind, InvReason reason,
                                       const std::vector<InvFilter>& filters, InvPort* port) {
  const Domain* dom = sys_->domains[dom_index].get();
  uint32_t descriptors = 2;  // IOTLB/walk-cache descriptor + wait descriptor
  for (size_t i = 0; i < sys_->devices.size(); ++i)
    if (atc_mb_[i] && (kind == InvKind::kGlobal || &sys_->devices[i]->domain() == dom)) ++descriptors;
  descriptors = std::min<uint32_t>(descriptors, sys_->sc.iommu.inv_queue_depth);
  sg4::Mailbox* done = static_cast<MailboxPort*>(port)->mb;
  for (const InvFilter& f : filters) {
    for (uint32_t d = 0; d < descriptors; ++d) slots_->acquire();
    stats_.queue_depth += descriptors;
    stats_.queue_max_depth = std::max(stats_.queue_max_depth, stats_.queue_depth);
    queue_->put_init(new Request{dom_index, kind, reason, f, svc_->now_ns(), descriptors, done}, kDescriptorBytes)
        ->detach();
    svc_->count_event();
  }
  for (size_t i = 0; i < filters.size(); ++i) {
    delete done->get<Request>();
    svc_->count_event();
  }
  return svc_->now_ns();
}

void InvalidationQueue::work(Request* req) {
  const IommuSpec& is = sys_->sc.iommu;
  const bool unsafe = sys_->sc.engine.unsafe_batching;
  svc_->cpu_work(is.inv_desc_ns);
  // A guest's page or range unmap frees no page-table page: Linux sets the invalidation hint
  // (IH: leaf entries only) and the walk caches stay; every other request flushes them too.
  const bool leaf_only = req->reason == InvReason::kDmaApi && req->kind != InvKind::kDomain;
  stats_.iommu_entries_removed += sys_->iommu.invalidate(req->filter, leaf_only);
  // Drain: untranslated DMAs already translated by the old entries finish first.
  uint64_t drain_until = 0;
  for (size_t i = 0; i < sys_->devices.size(); ++i)
    if (!sys_->devices[i]->spec().ats && targets(*req, i))
      drain_until = std::max(drain_until, sys_->devices[i]->max_use_ns + 1);
  if (!unsafe) svc_->sleep_until(drain_until);
  int waiting = 0;
  for (size_t i = 0; i < sys_->devices.size(); ++i) {
    if (!atc_mb_[i] || !targets(*req, i)) continue;
    atc_mb_[i]->put_init(new AtcInvRequest{req->filter}, kAtcInvBytes)->detach();
    svc_->count_event();
    ++waiting;
    ++stats_.atc_requests;
  }
  for (; waiting > 0; --waiting) {
    delete atc_done_->get<AtcInvRequest>();
    svc_->count_event();
  }
  svc_->cpu_work(is.inv_wait_ns);
}

void InvalidationQueue::queue_loop() {
  for (;;) {
    auto* req = queue_->get<Request>();
    svc_->count_event();
    work(req);
    const uint64_t latency = svc_->now_ns() - req->submitted_ns;
    const int k = static_cast<int>(req->kind);
    ++stats_.count[k];
    stats_.latency_ns[k].record(latency);
    auto& rs = stats_.by_reason[req->domain][static_cast<int>(req->reason)];
    ++rs.count;
    rs.latency_ns.record(latency);
    if (trace_)
      trace_->span(TraceCat::kInvalidation, enum_name(kInvReasonNames, req->reason),
                   {TraceTrack::kIommuPid, TraceTrack::kInvQueueTid}, req->submitted_ns, svc_->now_ns(), "domain",
                   req->domain);
    stats_.queue_depth -= req->descriptors;
    for (uint32_t d = 0; d < req->descriptors; ++d) slots_->release();
    req->done->put_init(req, 8)->detach();  // the wait descriptor's status write
    svc_->count_event();
  }
}

void InvalidationQueue::atc_loop(size_t device) {
  Device* dev = sys_->devices[device].get();
  sg4::Mailbox* in = atc_mb_[device];
  for (;;) {
    auto* req = in->get<AtcInvRequest>();
    svc_->count_event();
    svc_->cpu_work(dev->spec().atc_inv_ns);
    dev->atc().invalidate(req->filter);
    ++dev->atc_invalidations;
    // In-flight DMAs that used old translations finish first.
    if (!sys_->sc.engine.unsafe_batching) svc_->sleep_until(dev->max_use_ns + 1);
    atc_done_->put_init(req, kAtcInvBytes)->detach();  // Invalidate Completion
    svc_->count_event();
  }
}

}  // namespace iopf
