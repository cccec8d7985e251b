#include "models/common/calendar.hpp"

#include <algorithm>
#include <cmath>

namespace iopf {

void BinCalendar::configure(double units_per_ns, uint64_t bin_ns, uint64_t keep_ns) {
  max_fill_ = fraction(max_used_);
  max_used_ = 0;
  bin_ns_ = bin_ns ? bin_ns : 1;
  capacity_ = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(units_per_ns * static_cast<double>(bin_ns_))));
  per_bin_ = Divider(bin_ns_);
  per_capacity_ = Divider(capacity_);
  keep_bins_ = keep_ns / bin_ns_ + 2;
  size_t size = 64;
  while (size < 2 * keep_bins_) size *= 2;
  bins_.assign(size, 0);
  mask_ = size - 1;
  base_ = end_ = latest_ = 0;
}

double BinCalendar::max_fill() const {
  uint64_t most = 0;
  for (uint64_t b = base_; b < end_; ++b) most = std::max(most, bins_[b & mask_]);
  return std::max(fraction(max_used_), capacity_ ? static_cast<double>(most) / static_cast<double>(capacity_) : 0.0);
}

BinCalendar::Booking BinCalendar::spill(uint64_t b, uint64_t t, uint64_t units, uint64_t min_duration_ns) {
  uint64_t start = t;
  bool started = false;
  uint64_t remaining = units;
  uint64_t fill = 0;
  for (;; ++b) {
    uint64_t& used = bin(b);
    if (used >= capacity_) continue;
    if (!started) {
      started = true;
      if (b * bin_ns_ > start) start = b * bin_ns_;
    }
    const uint64_t take = std::min(remaining, capacity_ - used);
    used += take;
    remaining -= take;
    if (remaining == 0) {
      fill = used;
      break;
    }
  }
  return {start, finish_ns(b, fill, t + min_duration_ns)};
}

// Work spilled further ahead than the ring holds: twice the room, same bins.
void BinCalendar::grow() {
  std::vector<uint64_t> bigger(2 * bins_.size(), 0);
  const uint64_t mask = bigger.size() - 1;
  for (uint64_t b = base_; b < end_; ++b) bigger[b & mask] = bins_[b & mask_];
  bins_.swap(bigger);
  mask_ = mask;
}

// The highest fill noted, max_fill_ included: used / capacity is monotonic in used, so the
// fraction of the fullest bin is the largest fraction (the same double).
double BinCalendar::fraction(uint64_t used) const {
  const double f = capacity_ ? static_cast<double>(used) / static_cast<double>(capacity_) : 0.0;
  return f > max_fill_ ? f : max_fill_;
}

}  // namespace iopf
