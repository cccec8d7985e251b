#include "models/device/device.hpp"

#include <cmath>
#include <algorithm>

#include "models/common/sizes.hpp"
#include "models/common/streams.hpp"

namespace iopf {

Device::Device(const DeviceSpec& spec, Domain* domain, Iommu* iommu, const DeviceTiming& t, uint64_t seed)
    : spec_(spec), domain_(domain), iommu_(iommu), timing_(t) {
  if (spec_.ats) atc_.configure(spec_.atc);
  ps_per_byte_x1000_ = static_cast<uint64_t>(std::llround(t.ps_per_byte * 1000.0));
  paths_.reserve(spec_.paths.size());
  for (size_t i = 0; i < spec_.paths.size(); ++i) paths_.emplace_back(spec_.paths[i], this, seed, streams::path(spec_.name, spec_.paths[i].name));
}

Path::Path(const PathSpec& spec, Device* dev, uint64_t seed, uint64_t stream)
    : spec_(spec), dev_(dev), rng_(seed, stream) {
  const WorkloadSpec& w = spec_.workload;
  if (w.rate_per_s > 0) {
    period_ps_ = static_cast<uint64_t>(std::llround(1e12 / w.rate_per_s));
    if (period_ps_ == 0) period_ps_ = 1;
  } else {
    for (uint32_t i = 0; i < w.outstanding; ++i) slots_.push(w.start_ns);
  }
  ready_ns_ = w.start_ns;
}

uint64_t Path::next_due_ns() const {
  if (period_ps_) return spec_.workload.start_ns + due_ps_ / 1000;
  return slots_.top();
}

uint64_t Path::next_address() {
  const WorkloadSpec& w = spec_.workload;
  if (w.pattern == Pattern::kRandom) return w.region_base + rng_.below(w.region_bytes / w.access_bytes) * w.access_bytes;
  // sequential and ring walk the region in access_size steps and wrap.
  const uint64_t va = w.region_base + cursor_;
  cursor_ += w.access_bytes;
  if (cursor_ >= w.region_bytes) cursor_ = 0;
  return va;
}

void Path::take_slot(uint64_t* due) {
  if (period_ps_) {
    *due = next_due_ns();
    due_ps_ += period_ps_;
  } else {
    *due = slots_.top();
    slots_.pop();
  }
}

void Path::complete(uint64_t due_ns, uint64_t done_ns) {
  ++dma_.completed;
  dma_.bytes += spec_.workload.access_bytes;
  dma_.latency_ns.record(done_ns - due_ns);
  if (!period_ps_) slots_.push(done_ns);
}

bool Path::issue_one() {
  uint64_t due;
  take_slot(&due);
  const uint64_t issue = due > ready_ns_ ? due : ready_ns_;
  ++dma_.issued;
  return do_dma(due, issue, next_address());
}

void Path::fail_pending(uint64_t now_ns) {
  stalled_ = false;
  ready_ns_ = now_ns;
  ++dma_.failed;
  ++dma_.pri_failed;
  if (!period_ps_) slots_.push(now_ns);
}

bool Path::on_fault(uint64_t due_ns, uint64_t t, uint64_t va) {
  Device& d = *dev_;
  const bool write = spec_.workload.write;
  if (d.spec().pri && spec_.fault_tolerant) {
    pending_ = PendingFault{va, write, due_ns, t};
    stalled_ = true;  // until resume() or fail_pending()
    return false;
  }
  ++dma_.failed;
  uint64_t free_at = t;
  switch (d.spec().intolerant) {
    case IntolerantAction::kAbort: ++dma_.aborted; break;
    case IntolerantAction::kDrop: ++dma_.dropped; break;
    case IntolerantAction::kStall:
      ++dma_.stalled;
      ++d.resets;
      free_at = t + d.spec().reset_ns;
      ready_ns_ = std::max(ready_ns_, free_at);  // nothing issues until the reset is over
      d.atc().clear();                           // a reset empties the ATC
      break;
  }
  if (!period_ps_) slots_.push(free_at);
  return true;
}

bool Path::resume(uint64_t now_ns) {
  ready_ns_ = now_ns;
  stalled_ = false;
  // After a PRG response the device translates again: its ATC must not answer from a
  // read-only or stale entry for this page.
  const uint64_t page = pending_.va & ~kBasePageMask;
  dev_->atc().invalidate(InvFilter{dev_->asid(), ~0ULL, page, page + kBasePageBytes});
  // The retried DMA keeps its original due time, so its latency includes the fault.
  return do_dma(pending_.scheduled_ns, now_ns, pending_.va);
}

bool Path::do_dma(uint64_t due_ns, uint64_t issue_ns, uint64_t va) {
  Device& d = *dev_;
  const DeviceTiming& tm = d.timing();
  const IommuDomain& dom = d.domain().iommu_view();
  Iommu& mmu = d.iommu();
  const WorkloadSpec& w = spec_.workload;
  uint64_t t = issue_ns;
  uint64_t untranslated_ns = 0;  // IOMMU time spent inline on an untranslated request
  uint64_t pa;

  if (d.spec().ats) {
    t += d.spec().atc_lookup_ns;
    TlbHit h;
    if (d.atc().lookup(d.asid(), va, &h) && (h.writable || !w.write)) {
      pa = h.pa;
    } else {
      ++d.ats_requests;
      const Xlate x = mmu.translate(dom, d.spec().pasid, va);
      t += 2 * tm.pcie_latency_ns + tm.ats_translation_ns + mmu.latency_ns(x);
      if (!x.present || (w.write && !x.writable)) return on_fault(due_ns, t, va);
      d.atc().insert(d.asid(), va, x.pa, x.page_lg2, x.writable);
      pa = x.pa;
    }
  } else {
    const Xlate x = mmu.translate(dom, d.spec().pasid, va);
    untranslated_ns = mmu.latency_ns(x);
    // No ATS, so no PRI: an unrecoverable DMA fault, handled as the device's intolerant_fault.
    if (!x.present || (w.write && !x.writable)) return on_fault(due_ns, t + tm.pcie_latency_ns + untranslated_ns, va);
    pa = x.pa;
  }
  if (t > d.max_use_ns) d.max_use_ns = t;
  if (d.checker) d.checker->on_use(dom.id, *dom.table, va, pa, t);

  uint64_t done;
  if (w.write) {
    const uint64_t sent = d.transfer(false, t, w.access_bytes);
    done = sent + tm.pcie_latency_ns + untranslated_ns + tm.memory_latency_ns;
  } else {
    const uint64_t data_ready = t + tm.pcie_latency_ns + untranslated_ns + tm.memory_latency_ns;
    done = d.transfer(true, data_ready, w.access_bytes) + tm.pcie_latency_ns;
  }
  complete(due_ns, done);
  return true;
}

}  // namespace iopf
