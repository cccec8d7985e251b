#include "models/host/activity.hpp"

#include <algorithm>
#include <cmath>

#include "models/common/rng.hpp"
#include "models/common/sizes.hpp"
#include "models/common/streams.hpp"
#include "models/iommu/checker.hpp"

namespace iopf {

HostActivity::HostActivity(std::vector<std::unique_ptr<Domain>>* domains, HostMemory* memory, uint64_t seed,
                           uint64_t dirty_log_ns_per_page)
    : domains_(domains), memory_(memory), seed_(seed), dirty_log_ns_per_page_(dirty_log_ns_per_page) {}

void HostActivity::attach(HostServices* svc, Invalidator* inv, Checker* checker) {
  svc_ = svc;
  inv_ = inv;
  checker_ = checker;
  per_domain_.assign(domains_->size(), DomainActivity{});
}

template <class Step>
void HostActivity::at_rate(double rate_per_s, ActivitySpan span, Step step) {
  const uint64_t period_ps = static_cast<uint64_t>(std::llround(1e12 / rate_per_s));
  for (uint64_t due_ps = 0; span.start_ns + due_ps / 1000 < span.end_ns; due_ps += period_ps) {
    svc_->sleep_until(span.start_ns + due_ps / 1000);
    step();
  }
}

void HostActivity::vcpu_loop(size_t di, uint32_t vcpu, double touch_rate_per_s, double write_fraction,
                             ActivitySpan span) {
  Domain& dom = *(*domains_)[di];
  Rng rng(seed_, streams::vcpu(dom.spec().name, vcpu));
  at_rate(touch_rate_per_s, span, [&] {
    const uint64_t va = rng.below(dom.spec().memory_bytes >> kBasePageLg2) << kBasePageLg2;
    const bool write = rng.unit() < write_fraction;
    DomainActivity& a = per_domain_[di];
    ++a.vcpu_touches;
    a.vcpu_writes += write;
    bool ok;
    if (memory_->fault_in(dom, va, write, &ok) != FaultKind::kNone) ++a.vcpu_faults;
    dom.touch(va);
  });
}

void HostActivity::migration_loop(size_t di, double rate_per_s, uint64_t copy_ns, ActivitySpan span) {
  Domain& dom = *(*domains_)[di];
  InvPort* port = inv_->open_port("invdone:migrate:" + std::to_string(di));
  Rng rng(seed_, streams::migration(dom.spec().name));
  at_rate(rate_per_s, span, [&] {
    uint64_t gpa;
    if (!dom.random_resident(rng, &gpa)) return;
    memory_->split_large(di, gpa, port);
    if (dom.classify(gpa, false) != FaultKind::kNone) return;
    const uint32_t id = dom.iommu_view().id;
    std::vector<uint64_t> keys;
    if (checker_) keys = checker_->on_zap(id, gpa, gpa + kBasePageBytes, &dom.table());  // before the change
    dom.evict(gpa, false);
    const uint64_t t = inv_->invalidate(di, InvKind::kPage, InvReason::kMigration,
                                        {inv_filter(InvKind::kPage, id, 0, gpa, gpa + kBasePageBytes)}, port);
    if (checker_) checker_->on_complete(keys, t);
    svc_->cpu_work(copy_ns);
    dom.place_migrated(gpa);
    ++per_domain_[di].migrations;
  });
}

void HostActivity::collapse_loop(size_t di, double rate_per_s, uint64_t copy_ns, ActivitySpan span) {
  Domain& dom = *(*domains_)[di];
  InvPort* port = inv_->open_port("invdone:collapse:" + std::to_string(di));
  Rng rng(seed_, streams::collapse(dom.spec().name));
  at_rate(rate_per_s, span, [&] {
    uint64_t lo;
    if (!dom.begin_collapse(rng, &lo)) return;
    invalidate_changed(*inv_, checker_, di, dom.iommu_view().id, InvKind::kRange, InvReason::kThpCollapse, lo,
                       lo + kHugePageBytes, port);
    svc_->cpu_work(copy_ns);
    dom.place_collapsed(lo);
    ++per_domain_[di].thp_collapses;
  });
}

void HostActivity::dirty_log_loop(size_t di, uint64_t first_ns, uint64_t interval_ns, ActivitySpan span) {
  Domain& dom = *(*domains_)[di];
  InvPort* port = inv_->open_port("invdone:dirty:" + std::to_string(di));
  for (uint64_t t = span.start_ns + first_ns; t < span.end_ns; t += interval_ns) {
    svc_->sleep_until(t);
    svc_->cpu_work((dom.resident_bytes() >> kBasePageLg2) * dirty_log_ns_per_page_);  // the scan
    const uint64_t bytes = dom.write_protect_all();
    ++per_domain_[di].dirty_log_cycles;
    per_domain_[di].write_protected_bytes += bytes;
    if (!bytes) continue;
    if (checker_) checker_->on_write_protect(dom.iommu_view().id, dom.table());
    const uint64_t done = inv_->invalidate(di, InvKind::kDomain, InvReason::kDirtyLog,
                                           {inv_filter(InvKind::kDomain, dom.iommu_view().id, 0, 0, ~0ULL)}, port);
    if (checker_) checker_->on_protect_complete(dom.iommu_view().id, done);
  }
}

namespace {

// One scripted source's state: what it took away and has not yet flushed (batching).
class ScriptedSource {
 public:
  ScriptedSource(const InvalidationSpec& spec, Domain* dom, HostMemory* memory, Invalidator* inv, Checker* checker,
                 InvPort* port)
      : spec_(spec), dom_(dom), memory_(memory), inv_(inv), checker_(checker), port_(port),
        dom_id_(dom->iommu_view().id) {}

  // One event on [lo, lo + range): take the range away (zap, remap), then invalidate it now
  // or defer it to the batch. Returns true when it flushed a batch.
  bool event(uint64_t lo, uint64_t now_ns) {
    std::vector<uint64_t> keys;
    if (spec_.action != InvAction::kFlush) take_away(lo, &keys);
    if (spec_.batch_entries) {
      if (!pending_) first_pending_ns_ = now_ns;
      pending_keys_.insert(pending_keys_.end(), keys.begin(), keys.end());
      if (spec_.action == InvAction::kRemap) pending_lo_.push_back(lo);
      if (++pending_ >= spec_.batch_entries) return flush(), true;
      return false;
    }
    const uint64_t hi = lo + spec_.range_bytes;
    const uint64_t t = inv_->invalidate(spec_.domain_index, spec_.kind, InvReason::kScripted,
                                        {inv_filter(spec_.kind, dom_id_, spec_.pasid, lo, hi)}, port_);
    if (checker_) checker_->on_complete(keys, t);
    // Only now, with every cache flushed, may the old frame be reused and the page come back.
    if (spec_.action == InvAction::kRemap) put_back(lo);
    return false;
  }

  // The deferred batch: one flush of the whole domain.
  void flush() {
    const uint64_t t = inv_->invalidate(spec_.domain_index, InvKind::kDomain, InvReason::kScripted,
                                        {inv_filter(InvKind::kDomain, dom_id_, 0, 0, ~0ULL)}, port_);
    if (checker_) checker_->on_complete(pending_keys_, t);
    for (uint64_t lo : pending_lo_) put_back(lo);
    pending_keys_.clear();
    pending_lo_.clear();
    pending_ = 0;
  }
  uint32_t pending() const { return pending_; }
  uint64_t batch_deadline_ns() const { return first_pending_ns_ + spec_.batch_timeout_ns; }

 private:
  void take_away(uint64_t lo, std::vector<uint64_t>* keys) {
    for (uint64_t p = lo; p < lo + spec_.range_bytes; p += kBasePageBytes) {
      if (dom_->classify(p, false) != FaultKind::kNone) continue;  // not present
      if (dom_->is_pinned(p) && spec_.action == InvAction::kZap) continue;
      if (checker_) {  // before the change: the checker records the PA it takes away
        auto k = checker_->on_zap(dom_id_, p, p + kBasePageBytes, &dom_->table());
        keys->insert(keys->end(), k.begin(), k.end());
      }
      const uint64_t before = dom_->resident_bytes();
      dom_->evict(p, false);
      if (spec_.action == InvAction::kZap) memory_->use(-static_cast<int64_t>(before - dom_->resident_bytes()));
    }
  }
  void put_back(uint64_t lo) {  // remap: each page taken away comes back in a new frame
    for (uint64_t p = lo; p < lo + spec_.range_bytes; p += kBasePageBytes)
      if (dom_->classify(p, false) == FaultKind::kMinor) dom_->place_migrated(p);
  }

  const InvalidationSpec& spec_;
  Domain* dom_;
  HostMemory* memory_;
  Invalidator* inv_;
  Checker* checker_;
  InvPort* port_;
  uint32_t dom_id_;
  std::vector<uint64_t> pending_keys_;  // checker pages zapped and not yet flushed
  std::vector<uint64_t> pending_lo_;    // ranges to map again after the flush (remap)
  uint32_t pending_ = 0;
  uint64_t first_pending_ns_ = 0;
};

}  // namespace

void HostActivity::source_loop(const InvalidationSpec& spec, size_t index, ActivitySpan span) {
  Domain* dom = (*domains_)[spec.domain_index].get();
  ScriptedSource src(spec, dom, memory_, inv_, checker_, inv_->open_port("invdone:" + std::to_string(index)));
  if (!spec.script.empty()) {  // a replayed trace's unmaps, page by page, until the window closes
    for (const ReplayUnmap& u : spec.script) {
      const uint64_t due = span.start_ns + spec.start_ns + u.t_ns;
      if (due >= span.end_ns) break;
      svc_->sleep_until(due);
      for (uint64_t page = u.iova & ~kBasePageMask; page < u.iova + u.bytes; page += kBasePageBytes) {
        ++source_events_;
        src.event(page, svc_->now_ns());
      }
    }
    return;
  }
  Rng rng(seed_, streams::scripted_source(spec.name));
  const uint64_t period_ps = static_cast<uint64_t>(std::llround(1e12 / spec.rate_per_s));
  const uint64_t slots = spec.region_bytes / spec.range_bytes;
  for (uint64_t due_ps = 0;; due_ps += period_ps) {
    const uint64_t due = span.start_ns + spec.start_ns + due_ps / 1000;
    if (src.pending() && src.batch_deadline_ns() <= std::min(due, span.end_ns)) {
      svc_->sleep_until(src.batch_deadline_ns());
      src.flush();
      ++batched_flushes_;
    }
    if (due >= span.end_ns) break;
    svc_->sleep_until(due);
    ++source_events_;
    if (src.event(spec.region_base + rng.below(slots) * spec.range_bytes, svc_->now_ns())) ++batched_flushes_;
  }
  if (src.pending()) {
    src.flush();
    ++batched_flushes_;
  }
}

}  // namespace iopf
