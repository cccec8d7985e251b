#include "models/domain/domain.hpp"

#include "models/common/streams.hpp"

#include <algorithm>
#include <cmath>

namespace iopf {

namespace {
unsigned lg2(uint64_t v) { return 63 - __builtin_clzll(v); }
}  // namespace

void Domain::seed_costs(uint64_t seed) { cost_rng_ = Rng(seed, streams::fault_costs(spec_.name)); }

Domain::Domain(const DomainSpec& spec, uint32_t id)
    : spec_(spec), table_(make_page_table(spec.format)) {
  view_.id = id;
  view_.table = table_.get();
  // Each domain's guest memory sits in its own 2 TiB window of host physical memory, below
  // the page-table arena at 2^47, so translations of different domains never alias.
  hpa_base_ = static_cast<uint64_t>(id) << 41;
  fault_page_lg2_ = spec_.page_bytes ? lg2(spec_.page_bytes) : 12;
}

void Domain::apply_pin_plan(const PinPlan& plan) {
  pin_all_ = plan.all;
  pinned_ = plan.ranges;
}

uint64_t Domain::pinned_request_bytes() const {
  if (pin_all_) return spec_.memory_bytes;
  uint64_t b = 0;
  for (const auto& [lo, hi] : pinned_) b += hi - lo;
  return b;
}

bool Domain::is_pinned(uint64_t gpa) const {
  if (pin_all_) return true;
  for (const auto& [lo, hi] : pinned_)
    if (gpa >= lo && gpa < hi) return true;
  return false;
}

uint64_t Domain::pin_work_ns(double zero_bytes_per_s) const {
  const uint64_t bytes = pinned_request_bytes();
  const double zero_ns = static_cast<double>(bytes) * 1e9 / zero_bytes_per_s;
  return bytes / kBasePageBytes * spec_.pin_ns_per_page + static_cast<uint64_t>(std::llround(zero_ns));
}

void Domain::touch(uint64_t va) {
  const uint64_t page = va >> kBasePageLg2;
  if ((page >> 6) >= accessed_.size()) return;  // none kept, or an IOVA outside guest memory
  accessed_[page >> 6] |= 1ULL << (page & 63);
}

bool Domain::test_and_clear_accessed(uint64_t page) {
  uint64_t& w = accessed_[page >> 6];
  const uint64_t bit = 1ULL << (page & 63);
  const bool was = w & bit;
  w &= ~bit;
  return was;
}

uint64_t Domain::frame_of(uint64_t gpa) const {
  // A page taken away comes back in another frame: frames alternate between the lower and
  // upper TiB of the domain's window at each move, so a stale translation has a wrong PA.
  auto it = moves_.find(gpa >> kBasePageLg2);
  const bool upper = it != moves_.end() && (it->second & 1);
  return hpa_base_ + gpa + (upper ? (1ULL << 40) : 0);
}

void Domain::map_present(uint64_t gpa, unsigned page_lg2) {
  const uint64_t size = 1ULL << page_lg2;
  const uint64_t base = gpa & ~(size - 1);
  bool whole = page_lg2 > 12;
  if (whole) {  // a large page only where no 4 KiB piece has moved or sits in swap
    for (uint64_t off = 0; off < size && whole; off += kBasePageBytes)
      whole = !moves_.count((base + off) >> kBasePageLg2) && !swapped_.count((base + off) >> kBasePageLg2);
    WalkOut o;
    for (uint64_t off = 0; off < size && whole; off += kBasePageBytes) {
      table_->walk(base + off, &o);
      whole = !o.present;
    }
  }
  if (whole) {
    table_->map(base, hpa_base_ + base, size, page_lg2, true);
    for (uint64_t off = 0; off < size; off += kBasePageBytes) enqueue(base + off);
    resident_bytes_ += size;
  } else {
    const uint64_t page = gpa & ~kBasePageMask;
    table_->map(page, frame_of(page), kBasePageBytes, kBasePageLg2, true);
    enqueue(page);
    resident_bytes_ += kBasePageBytes;
  }
}

uint64_t Domain::setup(Rng& rng, uint64_t room_bytes) {
  const unsigned max_lg2 = spec_.page_bytes ? lg2(spec_.page_bytes) : 30;
  if (pin_all_) {
    table_->map(0, hpa_base_, spec_.memory_bytes, max_lg2, true);
    pinned_bytes_ = resident_bytes_ = spec_.memory_bytes;
    return resident_bytes_;
  }
  accessed_.assign(((spec_.memory_bytes >> kBasePageLg2) + 63) / 64, 0);
  std::sort(pinned_.begin(), pinned_.end());
  for (const auto& [lo, hi] : pinned_) {  // pre-faulted and pinned
    table_->map(lo, hpa_base_ + lo, hi - lo, std::min(max_lg2, 21u), true);
    pinned_bytes_ += hi - lo;
  }
  resident_bytes_ = pinned_bytes_;
  uint64_t room = room_bytes > pinned_bytes_ ? room_bytes - pinned_bytes_ : 0;
  if (resident_fraction_ > 0) {
    const uint64_t page = 1ULL << fault_page_lg2_;
    // Runs of consecutive resident pages are mapped by one call (the same leaves as page by
    // page, much faster for a large guest).
    uint64_t run_lo = 0, run_hi = 0;
    auto map_run = [&] {
      if (run_hi > run_lo) table_->map(run_lo, hpa_base_ + run_lo, run_hi - run_lo, fault_page_lg2_, true);
      run_lo = run_hi = 0;
    };
    for (uint64_t p = 0; p < spec_.memory_bytes; p += page) {
      if (rng.unit() >= resident_fraction_) continue;
      if (is_pinned(p)) continue;
      if (room >= page) {
        if (run_hi != p) {
          map_run();
          run_lo = p;
        }
        run_hi = p + page;
        for (uint64_t off = 0; off < page; off += kBasePageBytes) enqueue(p + off);
        resident_bytes_ += page;
        room -= page;
      } else {  // touched earlier, pushed out to swap when the host filled up
        for (uint64_t off = 0; off < page; off += kBasePageBytes) swapped_.insert((p + off) >> kBasePageLg2);
      }
    }
    map_run();
    // Pages touched before the run have no address order in the LRU: shuffle (Fisher-Yates,
    // seeded) so reclaim does not walk memory from address 0 up.
    for (size_t i = residency_.size(); i > 1; --i) std::swap(residency_[i - 1], residency_[rng.below(i)]);
  }
  return resident_bytes_;
}

FaultKind Domain::classify(uint64_t va, bool write) const {
  WalkOut o;
  table_->walk(va, &o);
  if (o.present) return (write && !o.writable) ? FaultKind::kWriteProtect : FaultKind::kNone;
  return swapped_.count(va >> kBasePageLg2) ? FaultKind::kMajor : FaultKind::kMinor;
}

uint64_t Domain::resolve(uint64_t va, bool write) {
  WalkOut o;
  table_->walk(va, &o);
  if (o.present) {
    if (write && !o.writable) {  // dirty logging: the leaf becomes writable again, same frame
      const uint64_t size = 1ULL << o.page_lg2;
      const uint64_t base = va & ~(size - 1);
      table_->map(base, o.pa & ~(size - 1), size, o.page_lg2, true);
      ++faults_resolved_;
    }
    return 0;
  }
  const bool major = swapped_.erase(va >> kBasePageLg2) > 0;
  const uint64_t before = resident_bytes_;
  map_present(va, major ? 12 : fault_page_lg2_);
  ++faults_resolved_;
  if (major) ++major_faults_;
  return resident_bytes_ - before;
}

void Domain::enqueue(uint64_t gpa) {
  residency_.push_back(static_cast<uint32_t>(gpa >> kBasePageLg2));
  // Pages taken away and faulted back leave their old entries behind; without reclaim to pop
  // them (no memory pressure) the queue would grow with every refault. Past 1.25x the
  // resident pages, keep only each present page's newest entry: its true age. (Amortized,
  // at most about 4 table walks per page queued.)
  const uint64_t resident_pages = resident_bytes_ >> kBasePageLg2;
  if (residency_.size() > resident_pages + resident_pages / 4 + 4096) compact_queue();
}

void Domain::compact_queue() {
  std::vector<uint64_t> seen(((spec_.memory_bytes >> kBasePageLg2) + 63) / 64, 0);
  std::deque<uint32_t> kept;
  WalkOut o;
  for (auto it = residency_.rbegin(); it != residency_.rend(); ++it) {
    const uint64_t pn = *it;
    uint64_t& w = seen[pn >> 6];
    const uint64_t bit = 1ULL << (pn & 63);
    if (w & bit) continue;  // an older entry of a page already kept
    w |= bit;
    table_->walk(pn << kBasePageLg2, &o);
    if (o.present) kept.push_front(*it);
  }
  residency_.swap(kept);
}

uint64_t Domain::state_bytes() const {
  // libstdc++: a hash node holds the value and a next pointer (and the cached hash for
  // uint64_t keys: none), each bucket a pointer.
  const uint64_t node = 2 * sizeof(void*);
  return residency_.size() * sizeof(uint32_t) + accessed_.capacity() * sizeof(uint64_t) +
         swapped_.size() * (sizeof(uint64_t) + node) + swapped_.bucket_count() * sizeof(void*) +
         moves_.size() * (2 * sizeof(uint64_t) + node) + moves_.bucket_count() * sizeof(void*) +
         pinned_.capacity() * sizeof(pinned_[0]);
}

bool Domain::next_victim(uint64_t* gpa, uint64_t* scanned) {
  // Two rounds at most: after one, every accessed bit met has been cleared.
  for (size_t budget = 2 * residency_.size() + 1; budget && !residency_.empty(); --budget) {
    const uint64_t pn = residency_.front();
    const uint64_t page = pn << kBasePageLg2;
    residency_.pop_front();
    ++*scanned;
    if (is_pinned(page)) continue;
    WalkOut o;
    table_->walk(page, &o);
    if (!o.present) continue;  // already taken away (stale queue entry)
    if (test_and_clear_accessed(pn)) {  // used since the hand last passed: a second chance
      residency_.push_back(static_cast<uint32_t>(pn));
      continue;
    }
    *gpa = page;
    return true;
  }
  return false;
}

bool Domain::split_if_large(uint64_t gpa, uint64_t* lo, uint64_t* hi) {
  WalkOut o;
  table_->walk(gpa, &o);
  if (!o.present || o.page_lg2 == 12) return false;
  const uint64_t size = 1ULL << o.page_lg2;
  *lo = gpa & ~(size - 1);
  *hi = *lo + size;
  table_->map(*lo, o.pa & ~(size - 1), size, 12, o.writable);  // same frames, 4 KiB leaves
  return true;
}

void Domain::evict(uint64_t gpa, bool swapped) {
  resident_bytes_ -= table_->unmap(gpa, kBasePageBytes);
  ++moves_[gpa >> kBasePageLg2];
  if (swapped) swapped_.insert(gpa >> kBasePageLg2);
}

void Domain::place_migrated(uint64_t gpa) {
  table_->map(gpa, frame_of(gpa), kBasePageBytes, kBasePageLg2, true);
  enqueue(gpa);
  resident_bytes_ += kBasePageBytes;
}

bool Domain::begin_collapse(Rng& rng, uint64_t* lo) {
  const uint64_t base = rng.below(spec_.memory_bytes >> 21) << 21;
  if (is_pinned(base) || is_pinned(base + kHugePageBytes - 1)) return false;
  WalkOut o;
  for (uint64_t off = 0; off < kHugePageBytes; off += kBasePageBytes) {
    table_->walk(base + off, &o);
    if (!o.present || o.page_lg2 != 12) return false;
  }
  resident_bytes_ -= table_->unmap(base, 2ULL << 20);
  // The new huge page goes in the half of the window opposite the region's first page; a
  // piece already in that half keeps its frame number (the checker cannot see it go stale,
  // which is a limit of the check, not of the model's safety).
  auto first = moves_.find(base >> kBasePageLg2);
  const uint64_t target = (first == moves_.end() ? 0 : (first->second & 1)) ^ 1;
  for (uint64_t off = 0; off < kHugePageBytes; off += kBasePageBytes) {
    uint64_t& m = moves_[(base + off) >> kBasePageLg2];
    m += ((m & 1) != target) ? 1 : 2;  // every piece counts a move; all land on `target`
  }
  *lo = base;
  return true;
}

void Domain::place_collapsed(uint64_t lo) {
  table_->map(lo, frame_of(lo), 2ULL << 20, 21, true);
  for (uint64_t off = 0; off < kHugePageBytes; off += kBasePageBytes) enqueue(lo + off);
  resident_bytes_ += 2ULL << 20;
}

uint64_t Domain::write_protect_all() {
  if (pin_all_) return 0;
  uint64_t done = 0, at = 0;
  for (const auto& [lo, hi] : pinned_) {  // pinned ranges stay writable (VFIO counts them dirty)
    if (lo > at) done += table_->write_protect(at, lo - at);
    at = std::max(at, hi);
  }
  if (at < spec_.memory_bytes) done += table_->write_protect(at, spec_.memory_bytes - at);
  return done;
}

bool Domain::random_resident(Rng& rng, uint64_t* gpa) const {
  for (int tries = 0; tries < 64; ++tries) {
    const uint64_t page = rng.below(spec_.memory_bytes >> kBasePageLg2) << kBasePageLg2;
    if (is_pinned(page)) continue;
    WalkOut o;
    table_->walk(page, &o);
    if (o.present) {
      *gpa = page;
      return true;
    }
  }
  return false;
}

// dma-direct (no vIOMMU): the device uses the GPA; nothing to map, nothing to flush.
// 50 ns per call: chosen (dma_direct_map_page is a few dozen instructions).
constexpr uint64_t kDirectCallNs = 50;

bool Domain::dma_map(DmaApiEnv& env, uint64_t, const std::vector<uint64_t>&) {
  env.cpu(kDirectCallNs);
  return true;
}

std::vector<uint64_t> Domain::dma_unmap(DmaApiEnv& env, uint64_t, size_t, bool) {
  env.cpu(kDirectCallNs);
  return {};
}

void Domain::dma_flush(DmaApiEnv&, InvKind, uint64_t, uint64_t, bool, const std::vector<uint64_t>&) {}

}  // namespace iopf
