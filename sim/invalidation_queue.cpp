#include "sim/invalidation_queue.hpp"

#include <simgrid/s4u.hpp>

#include <algorithm>
#include <stdexcept>

#include "models/iommu/inv_ranges.hpp"
#include "sim/sim_services.hpp"
#include "sim/system.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

namespace {

// Every mailbox here is eager (a permanent receiver: its owner): a message flies from when it
// is sent, whether or not its receiver is busy, as a descriptor written to a queue in memory
// or a TLP on a link does. Without one, SimGrid starts a message's transfer only when the
// receiver asks for it, so a batch queued behind another paid its flight again after it.
struct MailboxPort final : InvPort {
  explicit MailboxPort(const std::string& name) : mb(sg4::Mailbox::by_name(name)) {}
  sg4::Mailbox* mb;
  bool eager = false;  // set by the first invalidation, from the owner's own thread
};

// ATS Invalidate Requests outstanding at a device together (at most its Invalidate Queue Depth).
struct AtcInvRequest {
  std::vector<InvFilter> filters;
};

}  // namespace

// One batch: its descriptors under one wait descriptor.
struct InvalidationQueue::Request {
  size_t domain;  // index; unused for global
  InvKind kind;
  std::vector<InvFilter> ranges;  // one IOTLB/walk-cache descriptor each, and one ATS per device
  uint32_t descriptors;           // queue slots it holds, the wait descriptor included
  sg4::Mailbox* done;
  bool leaf_only;                 // a guest DMA-API unmap of pages or a range (IH)
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
  if (!refuse_why_.empty())
    throw std::logic_error("internal error: an invalidation of domain " + sys_->domains[dom_index]->spec().name +
                           " in a run where none could happen (" + refuse_why_ + ")");
  const uint64_t submitted = svc_->now_ns();
  const Domain* dom = sys_->domains[dom_index].get();
  uint32_t ats = 0;  // ATS devices the invalidation reaches
  for (size_t i = 0; i < sys_->devices.size(); ++i)
    if (atc_mb_[i] && (kind == InvKind::kGlobal || &sys_->devices[i]->domain() == dom)) ++ats;
  const bool ranged = kind == InvKind::kPage || kind == InvKind::kRange;
  const std::vector<InvFilter> ranges = ranged ? merge_inv_ranges(filters) : filters;
  // Batches that fit the queue: per range an IOTLB and `ats` ATS descriptors, plus the wait.
  const uint32_t depth = sys_->sc.iommu.inv_queue_depth, per_range = 1 + ats;
  const size_t fit = depth > per_range ? (depth - 1) / per_range : 1;
  auto* mp = static_cast<MailboxPort*>(port);
  if (!mp->eager) {
    mp->mb->set_receiver(sg4::Actor::self());
    mp->eager = true;
  }
  sg4::Mailbox* done = mp->mb;
  size_t batches = 0;
  for (size_t lo = 0; lo < ranges.size(); lo += fit, ++batches) {
    const size_t hi = std::min(ranges.size(), lo + fit);
    const auto descriptors = std::min<uint32_t>(depth, static_cast<uint32_t>((hi - lo) * per_range + 1));
    for (uint32_t d = 0; d < descriptors; ++d) slots_->acquire();
    stats_.queue_depth += descriptors;
    stats_.queue_max_depth = std::max(stats_.queue_max_depth, stats_.queue_depth);
    stats_.descriptors += descriptors - 1;
    ++stats_.batches;
    auto* req = new Request{dom_index, kind, {ranges.begin() + lo, ranges.begin() + hi}, descriptors, done,
                            reason == InvReason::kDmaApi && kind != InvKind::kDomain};
    queue_->put_init(req, kDescriptorBytes * descriptors)->detach();
    svc_->count_event();
  }
  for (size_t i = 0; i < batches; ++i) {
    delete done->get<Request>();
    svc_->count_event();
  }
  const uint64_t latency = svc_->now_ns() - submitted;
  const int k = static_cast<int>(kind);
  auto& rs = stats_.by_reason[dom_index][static_cast<int>(reason)];
  for (size_t i = 0; i < filters.size(); ++i) {  // every invalidation asked for completes now
    ++stats_.count[k];
    stats_.latency_ns[k].record(latency);
    ++rs.count;
    rs.latency_ns.record(latency);
  }
  if (trace_)
    trace_->span(TraceCat::kInvalidation, enum_name(kInvReasonNames, reason),
                 {TraceTrack::kIommuPid, TraceTrack::kInvQueueTid}, submitted, svc_->now_ns(), "domain", dom_index);
  return svc_->now_ns();
}

void InvalidationQueue::work(Request* req) {
  const IommuSpec& is = sys_->sc.iommu;
  const bool unsafe = sys_->sc.engine.unsafe_batching;
  // IOMMU time (not a host core): descriptors pipelined, the first taking inv_desc.
  const uint64_t n = req->ranges.size();
  svc_->sleep_until(svc_->now_ns() + is.inv_desc_ns + (n ? n - 1 : 0) * is.inv_desc_interval_ns);
  // A guest's page or range unmap frees no page-table page: Linux sets the invalidation hint
  // (IH: leaf entries only) and the walk caches stay; every other request flushes them too.
  for (const InvFilter& f : req->ranges) stats_.iommu_entries_removed += sys_->iommu.invalidate(f, req->leaf_only);
  // Drain: untranslated DMAs already translated by the old entries finish first.
  uint64_t drain_until = 0;
  for (size_t i = 0; i < sys_->devices.size(); ++i)
    if (!sys_->devices[i]->spec().ats && targets(*req, i))
      drain_until = std::max(drain_until, sys_->devices[i]->max_use_ns + 1);
  if (!unsafe) svc_->sleep_until(drain_until);
  ats_invalidate(*req);
  svc_->sleep_until(svc_->now_ns() + is.inv_wait_ns);
}

// ATS Invalidate Requests, to each device up to its Invalidate Queue Depth at once; the next
// ones go when those completions are back.
void InvalidationQueue::ats_invalidate(const Request& req) {
  const size_t n = req.ranges.size();
  for (size_t round = 0;; ++round) {
    int waiting = 0;
    for (size_t i = 0; i < sys_->devices.size(); ++i) {
      if (!atc_mb_[i] || !targets(req, i)) continue;
      const size_t iqd = sys_->devices[i]->spec().inv_queue_depth;
      const size_t lo = round * iqd;
      if (lo >= n) continue;
      auto* m = new AtcInvRequest{{req.ranges.begin() + lo, req.ranges.begin() + std::min(n, lo + iqd)}};
      stats_.atc_requests += m->filters.size();
      atc_mb_[i]->put_init(m, kAtcInvBytes * m->filters.size())->detach();
      svc_->count_event();
      ++waiting;
    }
    if (!waiting) return;
    for (; waiting > 0; --waiting) {
      delete atc_done_->get<AtcInvRequest>();
      svc_->count_event();
    }
  }
}

void InvalidationQueue::queue_loop() {
  queue_->set_receiver(sg4::Actor::self());
  atc_done_->set_receiver(sg4::Actor::self());
  for (;;) {
    auto* req = queue_->get<Request>();
    svc_->count_event();
    work(req);
    stats_.queue_depth -= req->descriptors;
    for (uint32_t d = 0; d < req->descriptors; ++d) slots_->release();
    req->done->put_init(req, 8)->detach();  // the wait descriptor's status write
    svc_->count_event();
  }
}

void InvalidationQueue::atc_loop(size_t device) {
  Device* dev = sys_->devices[device].get();
  sg4::Mailbox* in = atc_mb_[device];
  in->set_receiver(sg4::Actor::self());
  for (;;) {
    auto* req = in->get<AtcInvRequest>();
    svc_->count_event();
    svc_->cpu_work(dev->spec().atc_inv_ns);  // for every request it holds: they are worked together
    for (const InvFilter& f : req->filters) dev->atc().invalidate(f);
    dev->atc_invalidations += req->filters.size();
    // In-flight DMAs that used old translations finish first.
    if (!sys_->sc.engine.unsafe_batching) svc_->sleep_until(dev->max_use_ns + 1);
    atc_done_->put_init(req, kAtcInvBytes * req->filters.size())->detach();  // Invalidate Completions
    svc_->count_event();
  }
}

}  // namespace iopf
