#include "models/device/device.hpp"

#include <algorithm>
#include <cmath>

#include "models/common/sizes.hpp"
#include "models/common/streams.hpp"
#include "models/device/root_complex_inl.hpp"

namespace iopf {

namespace {
constexpr uint64_t kHoldBackNs = 1000;  // chosen: see Path::do_dma
}  // namespace

Device::Device(const DeviceSpec& spec, Domain* domain, Iommu* iommu, const DeviceTiming& t, uint64_t seed)
    : spec_(spec), domain_(domain), asid_(make_asid(domain->iommu_view().id, spec.pasid)), iommu_(iommu), timing_(t) {
  if (spec_.ats) atc_.configure(spec_.atc);
  if (spec_.msi_every_dmas) msi_latency_ns = std::make_unique<Histogram>();
  ps_per_byte_x1000_ = static_cast<uint64_t>(std::llround(t.ps_per_byte * 1000.0));
  paths_.reserve(spec_.paths.size());
  for (const PathSpec& p : spec_.paths) paths_.emplace_back(p, this, seed, streams::path(spec_.name, p.name), streams::arrivals(spec_.name, p.name));
  path_stale_.assign(paths_.size(), 0);
}

inline uint64_t Device::transfer_wire(bool to_device, uint64_t t, uint64_t wire, uint64_t link_ns, bool counted) {
  uint64_t done;
  if (rc_) {  // the link and the root complex, as calendars
    done = rc_->transfer_inline(rc_port_, to_device, t, wire);
  } else {  // a device alone (unit tests): its link, a next-free time per direction
    uint64_t& free_at = to_device ? down_free_ns_ : up_free_ns_;
    done = std::max(t, free_at) + link_ns;
    free_at = done;
  }
  if (counted) bandwidth_wait_ns.record(done > t + link_ns ? done - (t + link_ns) : 0);
  return done;
}

uint64_t Device::transfer(bool to_device, uint64_t t, uint32_t bytes, bool counted) {
  const uint64_t wire = tlp_wire_bytes(bytes, spec_.max_payload_bytes);
  return transfer_wire(to_device, t, wire, link_ns(wire), counted);
}

void Device::set_window(uint64_t origin_ns, uint64_t start_ns, uint64_t end_ns) {
  for (Path& p : paths_) p.set_window(origin_ns, start_ns, end_ns);
}

void Path::set_window(uint64_t origin_ns, uint64_t start_ns, uint64_t end_ns) {
  dev_->path_changed(this);
  origin_ns_ = origin_ns;
  window_lo_ns_ = start_ns;
  window_hi_ns_ = end_ns;
  const WorkloadSpec& w = spec_.workload;
  ready_ns_ = origin_ns + w.start_ns;
  slots_ = {};
  if (driven() && arrivals_) return;  // set once (before its driver ran); the device actor sets it again
  if (open_loop_) {
    arrivals_.emplace(w.arrival, origin_ns + w.start_ns, arrival_rng_);
    next_due_ns_ = arrivals_->next_ns();
  } else {
    for (uint32_t i = 0; i < w.outstanding; ++i) slots_.push(origin_ns + w.start_ns);
  }
}

void Device::reset(uint64_t t, Path* path) {
  ++resets;
  const uint64_t done = t + spec_.reset_ns;
  if (path) path->stop_until(done);
  else ready_ns_ = std::max(ready_ns_, done);
  atc_.clear();  // a reset empties the ATC
  if (trace) trace->span(TraceCat::kReset, path ? "path reset" : "device reset", {trace_pid, 0}, t, done);
}

void Device::pri_failure(uint64_t t) {
  // The function stops sending page requests (PRI's Response Failure); the driver resets it,
  // which enables them again after reset_cost. DMAs that hit cached translations go on.
  ++resets;
  atc_.clear();
  pri_disabled_until_ns_ = std::max(pri_disabled_until_ns_, t + spec_.reset_ns);
  if (trace) trace->span(TraceCat::kReset, "reset after PRI Failure", {trace_pid, 0}, t, t + spec_.reset_ns);
}

Path::Path(const PathSpec& spec, Device* dev, uint64_t seed, uint64_t stream, uint64_t arrival_stream)
    : spec_(spec), dev_(dev), rng_(seed, stream), open_loop_(spec.workload.rate_per_s > 0),
      arrival_rng_(seed, arrival_stream) {
  ArrivalSpec& a = spec_.workload.arrival;  // a spec built without the loader: periodic at rate
  if (open_loop_ && (a.kind == ArrivalKind::kPeriodic || a.kind == ArrivalKind::kPoisson) && !(a.rate_per_s > 0))
    a.rate_per_s = spec_.workload.rate_per_s;
  const WorkloadSpec& w = spec_.workload;
  if (w.access_bytes) addresses_ = w.region_bytes / w.access_bytes;
  wire_bytes_ = tlp_wire_bytes(w.access_bytes, dev->spec().max_payload_bytes);
  hold_link_ns_ = static_cast<uint64_t>(static_cast<double>(wire_bytes_) * dev->timing().ps_per_byte / 1000.0);
  link_ns_ = dev->link_ns(wire_bytes_);
}

inline uint64_t Path::next_address() {
  const WorkloadSpec& w = spec_.workload;
  if (!w.replay.empty()) return w.replay[replay_next_ - 1].iova & ~static_cast<uint64_t>(w.access_bytes - 1);
  if (w.pattern == Pattern::kRandom) return w.region_base + rng_.below(addresses_) * w.access_bytes;
  // sequential and ring walk the region in access_size steps and wrap.
  const uint64_t va = w.region_base + cursor_;
  cursor_ += w.access_bytes;
  if (cursor_ >= w.region_bytes) cursor_ = 0;
  return va;
}

inline bool Path::take_slot(uint64_t* due, bool* counted, uint64_t* ready) {
  *due = next_due_ns();
  *counted = in_window(*due);
  *ready = std::max(ready_ns_, dev_->ready_ns());
  offered_ += *counted;
  const bool replay = !spec_.workload.replay.empty();
  if (!open_loop_ && !replay) {
    slots_.pop();
    return true;
  }
  if (!replay) next_due_ns_ = arrivals_->next_ns();
  else ++replay_next_;  // a replayed DMA arrives as an open-loop one does
  if (*due >= *ready) {  // the queue is empty when it arrives: the path issues at once
    queued_ = 0;
    return true;
  }
  if (queued_ >= spec_.workload.queue_depth) {  // arrived at a full queue: dropped
    dma_.overruns += *counted;
    return false;
  }
  ++queued_;
  return true;
}

void Path::release_slot(uint64_t t_ns) {
  if (!open_loop_) slots_.push(t_ns);
}

inline void Path::complete(uint64_t due_ns, uint64_t done_ns, bool counted) {
  last_completion_ns_ = std::max(last_completion_ns_, done_ns);
  last_done_ns_ = done_ns;
  release_slot(done_ns);
  if (!counted) return;
  if (lose_completion_) {
    lose_completion_ = false;
    return;
  }
  ++dma_.completed;
  if (done_ns > window_hi_ns_) ++dma_.completed_after_end;
  dma_.bytes += spec_.workload.access_bytes;
  dma_.latency_ns.record(done_ns - due_ns);
  if (interval_latency_ns_) interval_latency_ns_->record(done_ns - due_ns);
}

inline bool Path::issue_one(ParkedDma* parked) {
  uint64_t due, ready;
  bool counted;
  if (!take_slot(&due, &counted, &ready)) return true;  // an overrun: nothing to issue
  ++simulated_;
  dma_.issued += counted;
  return do_dma(due, std::max(due, ready), next_address(), counted, parked);
}

void Device::path_changed(const Path* p) {
  const auto i = static_cast<uint32_t>(p - paths_.data());
  if (path_stale_[i]) return;
  path_stale_[i] = 1;
  stale_paths_.push_back(i);
}

void Path::stop_until(uint64_t t_ns) {
  ready_ns_ = t_ns > ready_ns_ ? t_ns : ready_ns_;
  dev_->path_changed(this);
}

bool Device::issue_until(uint64_t limit_ns, uint64_t send_ns, ParkedDma* parked, uint64_t* next_issue_ns) {
  // Each path's next issue time is kept, between calls too: a DMA changes only its own path's,
  // or every path's when it moved the device's ready time (a reset); between calls, only the
  // paths marked stale changed (path_changed).
  const size_t n = paths_.size();
  if (next_issue_ns_.size() != n || issue_ready_ns_ != ready_ns_) {
    next_issue_ns_.resize(n);
    for (size_t i = 0; i < n; ++i) next_issue_ns_[i] = paths_[i].next_issue_ns();
  } else {
    for (const uint32_t i : stale_paths_) next_issue_ns_[i] = paths_[i].next_issue_ns();
  }
  for (const uint32_t i : stale_paths_) path_stale_[i] = 0;
  stale_paths_.clear();
  issue_ready_ns_ = ready_ns_;
  for (;;) {
    size_t first = 0;
    uint64_t next = n ? next_issue_ns_[0] : Path::kNever;
    for (size_t i = 1; i < n; ++i) {
      if (next_issue_ns_[i] < next) {
        next = next_issue_ns_[i];
        first = i;
        // A branch, not a conditional move: which path is next is predictable, and a cmov
        // would make the next DMA wait for this one's times instead of starting at once.
        asm volatile("");
      }
    }
    if (next == Path::kNever || next >= limit_ns || send_ns <= next) {
      *next_issue_ns = next;
      return false;
    }
    const uint64_t device_ready = ready_ns_;
    Path& p = paths_[first];
    const bool issued = p.issue_one(parked);
    if (ready_ns_ == device_ready) {
      next_issue_ns_[first] = p.next_issue_ns();
    } else {
      for (size_t i = 0; i < n; ++i) next_issue_ns_[i] = paths_[i].next_issue_ns();
      issue_ready_ns_ = ready_ns_;
    }
    if (!issued) return true;
  }
}

void Path::fail_parked(const ParkedDma& p, uint64_t now_ns, bool invalid) {
  dev_->path_changed(this);
  --parked_;
  if (p.counted) {
    ++dma_.failed;
    ++(invalid ? dma_.pri_invalid : dma_.pri_failure);
  }
  release_slot(now_ns);
}

void Path::abandon_parked(const ParkedDma& p) {
  dev_->path_changed(this);
  --parked_;
  if (p.counted) ++dma_.in_flight_at_end;
}

uint64_t Path::next_buffer_address() { return next_address(); }

uint64_t Path::peek_arrival_ns() const {
  const uint64_t due = next_due_ns();
  return due < window_hi_ns_ ? due : kNever;
}

uint64_t Path::take_arrival() {
  const uint64_t due = next_due_ns();
  next_due_ns_ = arrivals_->next_ns();
  if (in_window(due)) ++offered_;
  return due;
}

uint64_t Path::issue_driven(uint64_t due_ns, uint64_t now_ns, uint64_t va) {
  const bool counted = in_window(due_ns);
  ++simulated_;
  if (counted) ++dma_.issued;
  ParkedDma unused;
  do_dma_outline(due_ns, now_ns, va, counted, &unused);  // a driven path never parks (on_fault)
  return last_done_ns_;
}

void Path::count_backlog(uint64_t due_ns) {
  if (!in_window(due_ns)) return;
  if (!backlog_) backlog_oldest_age_ns_ = window_hi_ns_ - due_ns;
  ++backlog_;
}

void Path::close_window() {
  dev_->path_changed(this);
  // Open loop: what was due before the window closed and never issued.
  const bool replay = !spec_.workload.replay.empty();
  if ((!replay && (!open_loop_ || !arrivals_)) || driven()) return;  // a driven path's driver counts its own
  for (uint64_t due = next_due_ns(); due < window_hi_ns_; due = next_due_ns()) {
    if (replay) ++replay_next_;
    else next_due_ns_ = arrivals_->next_ns();
    if (!in_window(due)) continue;
    ++offered_;
    if (queued_ < spec_.workload.queue_depth) {
      if (!backlog_) backlog_oldest_age_ns_ = window_hi_ns_ - due;
      ++backlog_;
      ++queued_;
    } else {
      ++dma_.overruns;
    }
  }
}

bool Path::on_fault(uint64_t due_ns, uint64_t t, uint64_t va, bool counted, ParkedDma* parked) {
  Device& d = *dev_;
  const bool write = spec_.workload.write;
  last_done_ns_ = t;
  if (spec_.fault_tolerant && d.pri_enabled(t) && !driven()) {  // a driver's DMA does not wait for a page
    *parked = ParkedDma{this, due_ns, va, write, t, counted};
    ++parked_;
    return false;
  }
  fail_unrecoverable(t, counted);
  return true;
}

void Path::fail_unrecoverable(uint64_t t, bool counted) {
  Device& d = *dev_;
  last_done_ns_ = t;
  if (counted) ++dma_.failed;
  switch (d.spec().intolerant) {
    case IntolerantAction::kAbort:
      if (counted) ++dma_.aborted;
      d.reset(t, this);  // the device reports the error; the path waits for the reset
      break;
    case IntolerantAction::kDrop:
      if (counted) ++dma_.dropped;
      break;
    case IntolerantAction::kStall:
      if (counted) ++dma_.stalled;
      d.reset(t, nullptr);  // the whole device waits for the reset
      break;
  }
  release_slot(std::max(t, std::max(ready_ns_, d.ready_ns())));
}

bool Path::retry(ParkedDma* p, uint64_t now_ns) {
  dev_->path_changed(this);
  --parked_;
  // After a PRG response the device translates again: its ATC must not answer from a
  // read-only or stale entry for this page.
  const uint64_t page = p->va & ~kBasePageMask;
  dev_->atc().invalidate(InvFilter{dev_->asid(), ~0ULL, page, page + kBasePageBytes});
  // The retried DMA keeps its due time, so its latency includes the fault. It goes no earlier
  // than it was due: a DMA issued ahead (within the batch quantum) can find its page's
  // response, asked for by an earlier DMA, arriving before its own time.
  const ParkedDma was = *p;
  return do_dma_outline(was.due_ns, std::max(now_ns, was.due_ns), was.va, was.counted, p);
}

bool Path::do_dma_outline(uint64_t due_ns, uint64_t issue_ns, uint64_t va, bool counted, ParkedDma* parked) {
  return do_dma(due_ns, issue_ns, va, counted, parked);
}

inline bool Path::do_dma(uint64_t due_ns, uint64_t issue_ns, uint64_t va, bool counted, ParkedDma* parked) {
  Device& d = *dev_;
  const DeviceTiming& tm = d.timing();
  const IommuDomain& dom = d.domain().iommu_view();
  Iommu& mmu = d.iommu();
  const WorkloadSpec& w = spec_.workload;
  uint64_t t = issue_ns;
  uint64_t untranslated_ns = 0;  // IOMMU time spent inline on an untranslated request
  Xlate x;
  bool from_atc = false;

  if (d.spec().ats) {
    t += d.spec().atc_lookup_ns;
    TlbHit h;
    if (d.atc().lookup(d.asid(), va, &h) && (h.writable || !w.write)) {
      x.present = true, x.writable = h.writable, x.page_lg2 = h.page_lg2, x.pa = h.pa;
      from_atc = true;
    } else {
      ++d.ats_requests;
      x = mmu.translate(dom, d.spec().pasid, va);
      if (tm.walk_sets_accessed && x.present && !x.iotlb_hit) d.domain().touch(va);  // the walk sets it
      // The request crosses PCIe, queues at the IOMMU's front end, is looked up (and walked,
      // waiting for a walker slot), and the completion crosses back.
      const uint64_t looked_up = mmu.ats_front_ns(t + tm.pcie_latency_ns, counted);
      t = looked_up + mmu.timed_latency_ns(x, looked_up, counted) + tm.pcie_latency_ns;
      if (!x.present || (w.write && !x.writable)) return on_fault(due_ns, t, va, counted, parked);
      d.atc().insert(d.asid(), va, x.pa, x.page_lg2, x.writable);
    }
  } else {
    x = mmu.translate(dom, d.spec().pasid, va);
    if (tm.walk_sets_accessed && x.present && !x.iotlb_hit) d.domain().touch(va);
    untranslated_ns = mmu.timed_latency_ns(x, t + tm.pcie_latency_ns, counted);
    // No ATS, so no PRI: an unrecoverable DMA fault, handled as the device's intolerant_fault.
    if (!x.present || (w.write && !x.writable))
      return on_fault(due_ns, t + tm.pcie_latency_ns + untranslated_ns, va, counted, parked);
  }
  // Translated; memory may still refuse it (SEV-SNP's RMP check): it fails where it was translated.
  if (d.domain().checks_memory() && !d.domain().dma_reaches_memory(va, x, from_atc)) {
    fail_unrecoverable(d.spec().ats ? t : t + tm.pcie_latency_ns + untranslated_ns, counted);
    return true;
  }
  const uint64_t pa = x.pa;
  if (t > d.max_use_ns) d.max_use_ns = t;
  if (d.checker) d.checker->on_use(dom, va, pa, t, w.write);

  uint64_t done;
  if (w.write) {
    const uint64_t sent = d.transfer_wire(false, t, wire_bytes_, link_ns_, counted);
    // The write's data leaves the device's buffer only as fast as the link and the root complex
    // take it: when this transfer had to wait over kHoldBackNs (the data the device buffers,
    // chosen: 1 us of it), the path's next write issues (and translates, overlapping this
    // transfer) only once this one's data has started to leave. So a write stream the link or the root complex
    // cannot carry queues in the path, and overruns past queue_depth.
    const uint64_t link_ns = hold_link_ns_;
    if (sent > t + link_ns + kHoldBackNs) ready_ns_ = std::max(ready_ns_, sent - link_ns);
    done = sent + tm.pcie_latency_ns + untranslated_ns + tm.memory_latency_ns;
  } else {
    const uint64_t data_ready = t + tm.pcie_latency_ns + untranslated_ns + tm.memory_latency_ns;
    done = d.transfer_wire(true, data_ready, wire_bytes_, link_ns_, counted) + tm.pcie_latency_ns;
  }
  complete(due_ns, done, counted);
  if (counted && d.spec().msi_every_dmas) d.dma_done_for_msi(done);
  return true;
}

void Device::dma_done_for_msi(uint64_t t) {
  if (++dmas_since_msi_ < spec_.msi_every_dmas) return;
  dmas_since_msi_ = 0;
  uint64_t iova = 0;
  const IommuDomain& dom = domain_->iommu_view();
  const Xlate x = domain_->msi_doorbell_iova(&iova) ? iommu_->translate(dom, spec_.pasid, iova) : Xlate{};
  // An MSI is sent untranslated (the IOMMU translates it, whatever the device's ATS); the
  // IOMMU's time is inline, then the posted write to the ITS.
  const uint64_t arrived = transfer(false, t, 4, false) + timing_.pcie_latency_ns;  // not a DMA: no bandwidth_wait
  const uint64_t at = arrived + iommu_->timed_latency_ns(x, arrived, false);
  if (!x.present || !x.writable) {
    ++msi_faults;  // the IOMMU drops it and records an event; the interrupt is lost
    return;
  }
  if (at > max_use_ns) max_use_ns = at;
  if (checker) checker->on_use(dom, iova, x.pa, at, true);
  ++msi_writes;
  msi_latency_ns->record(at - t);
}

}  // namespace iopf
