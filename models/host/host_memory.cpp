#include "models/host/host_memory.hpp"

#include "models/common/rounding.hpp"
#include "models/common/sizes.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/iommu.hpp"

namespace iopf {

HostMemory::HostMemory(const HostSpec& spec, std::vector<std::unique_ptr<Domain>>* domains)
    : spec_(spec), domains_(domains) {}

void HostMemory::attach(HostServices* svc, Invalidator* inv, Iommu* iommu, Checker* checker) {
  svc_ = svc;
  inv_ = inv;
  iommu_ = iommu;
  checker_ = checker;
  kswapd_wake_ = svc->make_wakeup("kswapd");
  freed_ = svc->make_condition();
  thp_splits_.assign(domains_->size(), 0);
}

bool HostMemory::any_reclaimable() const {
  for (const auto& d : *domains_)
    if (d->faultable() && d->resident_bytes() > d->pinned_bytes()) return true;
  return false;
}

void HostMemory::wake_reclaim() {
  if (kswapd_busy_) return;
  kswapd_busy_ = true;
  kswapd_wake_->notify();
}

bool HostMemory::reserve_at_once(uint64_t bytes) {
  if (free_bytes() < bytes || (free_bytes() - bytes < spec_.free_target_bytes && !kswapd_busy_)) return false;
  use(static_cast<int64_t>(bytes));
  return true;
}

bool HostMemory::reserve(uint64_t bytes) {
  if (reserve_at_once(bytes)) return true;
  while (free_bytes() < bytes) {
    if (!any_reclaimable()) return false;
    ++reclaim_waits_;
    waiting_bytes_ += bytes;  // kswapd frees this much beyond its target
    wake_reclaim();
    freed_->wait();
    waiting_bytes_ -= bytes;
    if (exhausted_ && free_bytes() < bytes) return false;  // kswapd found nothing to take
  }
  use(static_cast<int64_t>(bytes));
  if (free_bytes() < spec_.free_target_bytes) wake_reclaim();
  return true;
}

uint64_t HostMemory::need_bytes(const Domain& dom, FaultKind kind) const {
  return kind == FaultKind::kWriteProtect ? 0 : kind == FaultKind::kMajor ? kBasePageBytes : (1ULL << dom.fault_page_lg2());
}

uint64_t HostMemory::sample_cost_ns(Domain& dom, FaultKind kind, uint64_t need) const {
  uint64_t cpu = dom.sample_fault_cost_ns();
  if (kind == FaultKind::kMinor)  // zero-fill the bytes made present
    cpu += round_half_away(static_cast<double>(need) * 1e9 / spec_.zero_bytes_per_s);
  if (kind == FaultKind::kMajor) cpu += dom.sample_major_fault_cost_ns();
  return cpu;
}

FaultKind HostMemory::fault_in(Domain& dom, uint64_t va, bool write, bool* ok) {
  *ok = true;
  PageFault f;
  f.kind = dom.classify(va, write);
  if (f.kind == FaultKind::kNone) return f.kind;
  f.need_bytes = need_bytes(dom, f.kind);
  if (f.need_bytes && !reserve(f.need_bytes)) {
    *ok = false;
    return f.kind;
  }
  f.cpu_ns = sample_cost_ns(dom, f.kind, f.need_bytes);
  if (f.kind == FaultKind::kMajor) {
    svc_->sleep_until(svc_->now_ns() + spec_.swap_latency_ns);
    svc_->swap_read(kBasePageBytes);
    swap_in_bytes_ += kBasePageBytes;
  }
  svc_->cpu_work(f.cpu_ns);
  finish_fault(dom, va, write, f);
  return f.kind;
}

bool HostMemory::start_fault(Domain& dom, uint64_t va, bool write, PageFault* f) {
  f->kind = dom.classify(va, write);
  f->need_bytes = 0;
  f->cpu_ns = 0;
  if (f->kind == FaultKind::kNone) return true;
  if (f->kind == FaultKind::kMajor) return false;  // reads swap
  const uint64_t need = need_bytes(dom, f->kind);
  if (need && !reserve_at_once(need)) return false;  // reserve() must wait for reclaim, or wake kswapd
  f->need_bytes = need;
  f->cpu_ns = sample_cost_ns(dom, f->kind, need);
  return true;
}

void HostMemory::finish_fault(Domain& dom, uint64_t va, bool write, const PageFault& f) {
  fault_cpu_ns_ += f.cpu_ns;
  const uint64_t used = dom.resolve(va, write);
  use(static_cast<int64_t>(used) - static_cast<int64_t>(f.need_bytes));
  if (f.kind == FaultKind::kWriteProtect) {
    // The IOMMU may cache the read-only entry: drop it with the upgrade (done synchronously).
    const uint64_t page = va & ~kBasePageMask;
    iommu_->invalidate(InvFilter{make_asid(dom.iommu_view().id, 0), kAsidDomainMask, page, page + kBasePageBytes},
                       true);
  }
}

void HostMemory::split_large(size_t di, uint64_t gpa, InvPort* port) {
  Domain& dom = *(*domains_)[di];
  uint64_t lo, hi;
  if (!dom.split_if_large(gpa, &lo, &hi)) return;
  ++thp_splits_[di];
  inv_->invalidate(di, InvKind::kRange, InvReason::kThpSplit, {inv_filter(InvKind::kRange, dom.iommu_view().id, 0, lo, hi)},
                   port);
}

uint32_t HostMemory::reclaim_batch(size_t* rr, InvPort* port) {
  auto& domains = *domains_;
  std::vector<std::vector<InvFilter>> filters(domains.size());
  std::vector<std::vector<uint64_t>> keys(domains.size());
  uint32_t taken = 0;
  for (uint32_t miss = 0; taken < kReclaimBatch && miss < domains.size();) {
    const size_t di = (*rr)++ % domains.size();
    Domain& dom = *domains[di];
    uint64_t gpa, scanned = 0;
    const bool found = dom.faultable() && dom.next_victim(&gpa, &scanned);
    reclaim_scanned_ += scanned;
    reclaim_cpu_ns_ += scanned * spec_.reclaim_scan_ns_per_page;
    svc_->cpu_work(scanned * spec_.reclaim_scan_ns_per_page);
    if (!found) {
      ++miss;
      continue;
    }
    miss = 0;
    split_large(di, gpa, port);
    if (dom.classify(gpa, false) != FaultKind::kNone) continue;  // faulted away meanwhile
    const uint32_t id = dom.iommu_view().id;
    if (checker_) {  // before the change: the checker records the PA it takes away
      auto k = checker_->on_zap(id, gpa, gpa + kBasePageBytes, &dom.table());
      keys[di].insert(keys[di].end(), k.begin(), k.end());
    }
    dom.evict(gpa, true);
    filters[di].push_back(inv_filter(InvKind::kPage, id, 0, gpa, gpa + kBasePageBytes));
    ++taken;
  }
  if (!taken) return 0;
  for (size_t di = 0; di < domains.size(); ++di) {
    if (filters[di].empty()) continue;
    const uint64_t t = inv_->invalidate(di, InvKind::kPage, InvReason::kReclaim, filters[di], port);
    if (checker_) checker_->on_complete(keys[di], t);
  }
  svc_->sleep_until(svc_->now_ns() + spec_.swap_latency_ns);
  svc_->swap_write(static_cast<uint64_t>(taken) * kBasePageBytes);
  swap_out_bytes_ += static_cast<uint64_t>(taken) * kBasePageBytes;
  reclaimed_pages_ += taken;
  use(-static_cast<int64_t>(taken) * static_cast<int64_t>(kBasePageBytes));
  return taken;
}

void HostMemory::reclaim_loop() {
  InvPort* port = inv_->open_port("invdone:kswapd");
  size_t rr = 0;
  for (;;) {
    kswapd_wake_->wait();
    exhausted_ = false;
    while (free_bytes() < spec_.free_target_bytes + waiting_bytes_) {
      const uint64_t start_ns = trace_ ? svc_->now_ns() : 0;
      const uint32_t pages = reclaim_batch(&rr, port);
      if (trace_) trace_->span(TraceCat::kReclaim, "reclaim batch", {TraceTrack::kHostPid, TraceTrack::kKswapdTid},
                               start_ns, svc_->now_ns(), "pages", pages);
      if (!pages) {  // nothing left to reclaim
        exhausted_ = true;
        break;
      }
      freed_->notify_all();
    }
    kswapd_busy_ = false;
    freed_->notify_all();  // waiters look again (and give up if nothing is reclaimable)
  }
}

}  // namespace iopf
