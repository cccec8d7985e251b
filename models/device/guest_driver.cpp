#include "models/device/guest_driver.hpp"

#include <algorithm>

#include "models/common/sizes.hpp"

namespace iopf {

GuestDriver::GuestDriver(Path& path, Domain& dom, size_t dom_index, HostServices& svc, Invalidator& inv,
                         Checker* checker, const std::string& name, uint32_t index)
    : path_(path), dom_(dom), svc_(svc),
      env_(svc, inv, inv.open_port("invdone:" + name), checker, dom_index, dom.dma_stats()),
      spec_(path.spec().workload.dma),
      fq_(spec_.fq_mode == DmaFqMode::kSingle ? dom.shared_flush_queue() : own_fq_), index_(index),
      next_iova_(kIovaBase + (static_cast<uint64_t>(index) << kIovaWindowLg2)) {
  if (fq_.owners.size() <= index) fq_.owners.resize(index + 1, nullptr);
  fq_.owners[index] = this;
}

void GuestDriver::run() {
  constexpr uint64_t kNever = Path::kNever;
  for (;;) {
    const uint64_t t_arrival = path_.peek_arrival_ns();
    const uint64_t t_done = in_flight_.empty() ? kNever : in_flight_.top().done_ns;
    // Nothing left to arrive or complete: the window closed, and the flush queue is flushed
    // now (below), as Linux flushes it when the domain goes, not at its timer past the window.
    if (t_arrival == kNever && t_done == kNever) break;
    const uint64_t t_queue = fq_.entries.empty() ? kNever : fq_.deadline_ns;
    const uint64_t t = std::min({t_arrival, t_done, t_queue});
    svc_.sleep_until(t);
    if (t_done == t) {  // completions first: they free IOVAs
      const size_t b = in_flight_.top().batch;
      in_flight_.pop();
      completed(b);
    } else if (t_queue == t) {
      // A shared queue may have been flushed (and refilled) by another vCPU meanwhile.
      if (!fq_.entries.empty() && fq_.deadline_ns <= svc_.now_ns()) flush_queue();
    } else {
      arrival();
    }
  }
  // The window closed: buffers mapped and never used are unmapped, the queue flushed.
  for (const Buffer& b : mapped_) completed(b.batch);
  mapped_.clear();
  if (!fq_.entries.empty()) flush_queue();
}

void GuestDriver::arrival() {
  const uint64_t due = path_.take_arrival();
  const uint64_t now = svc_.now_ns();
  if (now >= path_.window_end_ns()) return path_.count_backlog(due);  // no DMA starts after the window
  const uint64_t waiting = path_.period_ns() ? (now - due) / path_.period_ns() : 0;
  if (waiting >= path_.spec().workload.queue_depth) return path_.count_overrun(due);
  if (mapped_.empty() && !map_batch(spec_.mode == DmaApiMode::kBatched ? spec_.batch : 1))
    return path_.fail_unmapped(due);
  const Buffer b = mapped_.back();
  mapped_.pop_back();
  const uint64_t offset = b.address & kBasePageMask;
  const uint64_t va = dom_.dma_translates() ? b.iova + offset : b.address;
  const uint64_t done = path_.issue_driven(due, svc_.now_ns(), va);
  in_flight_.push(Done{done, b.batch});
}

bool GuestDriver::map_batch(size_t n) {
  const uint64_t t0 = svc_.now_ns();
  std::vector<Buffer> bufs(n);
  std::vector<uint64_t> gpas(n);
  const uint64_t iova = alloc_iova(n);
  for (size_t i = 0; i < n; ++i) {
    bufs[i].address = path_.next_buffer_address();
    bufs[i].iova = iova + i * kBasePageBytes;
    bufs[i].batch = batches_.size();
    gpas[i] = bufs[i].address & ~kBasePageMask;
  }
  const bool ok = dom_.dma_map(env_, iova, gpas);
  DmaApiStats& s = dom_.dma_stats();
  s.map_latency_ns.record(svc_.now_ns() - t0);  // a refused call counts too: it was made
  if (!ok) {
    free_iova(iova, n);
    return false;
  }
  batches_.push_back(Batch{iova, n, n});
  s.map_pages += n;
  mapped_.insert(mapped_.end(), bufs.rbegin(), bufs.rend());  // used in address order
  return true;
}

void GuestDriver::completed(size_t batch) {
  Batch& b = batches_[batch];
  if (--b.left == 0) unmap(b.iova, b.pages);
}

void GuestDriver::unmap(uint64_t iova, size_t pages) {
  const uint64_t t0 = svc_.now_ns();
  const bool strict = spec_.flush == DmaFlush::kStrict;
  std::vector<uint64_t> keys = dom_.dma_unmap(env_, iova, pages, strict);
  if (strict) {
    const InvKind kind = pages == 1 ? InvKind::kPage : InvKind::kRange;
    dom_.dma_flush(env_, kind, iova, iova + pages * kBasePageBytes, true, keys);
    dom_.dma_release(env_, pages);
    free_iova(iova, pages);
  } else {
    if (fq_.entries.empty()) fq_.deadline_ns = t0 + spec_.fq_timeout_ns;
    fq_.entries.push_back(DmaFlushQueue::Entry{index_, iova, pages, std::move(keys)});
    if (fq_.entries.size() >= spec_.fq_entries) flush_queue();  // full: flushed at once, as Linux does
  }
  DmaApiStats& s = dom_.dma_stats();
  s.unmap_latency_ns.record(svc_.now_ns() - t0);
  s.unmap_pages += pages;
}

void GuestDriver::flush_queue() {
  // Taken out first: other vCPUs may queue into a shared queue while this one flushes.
  std::vector<DmaFlushQueue::Entry> q;
  q.swap(fq_.entries);
  std::vector<uint64_t> keys;
  for (const DmaFlushQueue::Entry& e : q) keys.insert(keys.end(), e.keys.begin(), e.keys.end());
  ++dom_.dma_stats().flush_queue_flushes;
  dom_.dma_flush(env_, InvKind::kDomain, 0, ~0ULL, false, keys);
  for (const DmaFlushQueue::Entry& e : q) {
    dom_.dma_release(env_, e.pages);
    if (GuestDriver* owner = fq_.owners[e.owner]) owner->free_iova(e.iova, e.pages);
  }
}

uint64_t GuestDriver::alloc_iova(size_t pages) {
  std::vector<uint64_t>& f = free_[pages];
  if (!f.empty()) {
    const uint64_t iova = f.back();
    f.pop_back();
    return iova;
  }
  const uint64_t iova = next_iova_;
  next_iova_ += pages * kBasePageBytes;
  return iova;
}

}  // namespace iopf
