#include "models/domain/domain.hpp"

namespace iopf {

namespace {
unsigned lg2(uint64_t v) { return 63 - __builtin_clzll(v); }
}  // namespace

Domain::Domain(const DomainSpec& spec, uint32_t id) : spec_(spec), table_(make_page_table(spec.format)) {
  view_.id = id;
  view_.table = table_.get();
  // Each domain's guest memory sits in its own 2 TiB window of host physical memory, below
  // the page-table arena at 2^47, so translations of different domains never alias.
  hpa_base_ = static_cast<uint64_t>(id) << 41;
  if (spec_.kind == DomainKind::kSharedTdp) fault_page_lg2_ = spec_.page_bytes ? lg2(spec_.page_bytes) : 12;
}

void Domain::setup(Rng& rng) {
  if (spec_.kind == DomainKind::kPinned) {
    const unsigned max_lg2 = spec_.page_bytes ? lg2(spec_.page_bytes) : 30;
    table_->map(0, hpa_base_, spec_.memory_bytes, max_lg2, true);
    pinned_bytes_ = resident_bytes_ = spec_.memory_bytes;
    setup_ns_ = spec_.memory_bytes / 4096 * spec_.pin_ns_per_4k;
    return;
  }
  if (spec_.resident_fraction <= 0) return;
  const uint64_t page = 1ULL << fault_page_lg2_;
  const uint64_t pages = spec_.memory_bytes / page;
  for (uint64_t p = 0; p < pages; ++p) {
    if (rng.unit() < spec_.resident_fraction) {
      table_->map(p * page, hpa_base_ + p * page, page, fault_page_lg2_, true);
      resident_bytes_ += page;
    }
  }
}

bool Domain::fault_in(uint64_t va) {
  const uint64_t page = 1ULL << fault_page_lg2_;
  const uint64_t base = va & ~(page - 1);
  WalkOut o;
  table_->walk(base, &o);
  if (o.present) return false;
  if (moves_.empty()) {
    table_->map(base, hpa_base_ + base, page, fault_page_lg2_, true);
  } else {
    for (uint64_t off = 0; off < page; off += 4096) table_->map(base + off, frame_of(base + off), 4096, 12, true);
  }
  resident_bytes_ += page;
  ++faults_resolved_;
  return true;
}

uint64_t Domain::frame_of(uint64_t gpa) const {
  // A page taken away comes back in another frame: frames alternate between the lower and
  // upper TiB of the domain's window at each zap, so a stale translation has a wrong PA.
  auto it = moves_.find(gpa >> 12);
  const bool upper = it != moves_.end() && (it->second & 1);
  return hpa_base_ + gpa + (upper ? (1ULL << 40) : 0);
}

uint64_t Domain::zap(uint64_t va, uint64_t len) {
  const uint64_t removed = table_->unmap(va, len);
  resident_bytes_ -= removed;
  for (uint64_t off = 0; off < len; off += 4096) ++moves_[(va + off) >> 12];
  return removed;
}

void Domain::remap_moved(uint64_t va, uint64_t len) {
  for (uint64_t off = 0; off < len; off += 4096) {
    table_->map(va + off, frame_of(va + off), 4096, 12, true);
    resident_bytes_ += 4096;
  }
}

}  // namespace iopf
