#include "models/common/calendar.hpp"

#include <algorithm>
#include <cmath>

namespace iopf {

void BinCalendar::configure(double units_per_ns, uint64_t bin_ns, uint64_t keep_ns) {
  bin_ns_ = bin_ns ? bin_ns : 1;
  capacity_ = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(units_per_ns * static_cast<double>(bin_ns_))));
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
  return std::max(max_fill_, capacity_ ? static_cast<double>(most) / static_cast<double>(capacity_) : 0.0);
}

// The ring ends before bin b: extend it (growing it when full).
void BinCalendar::extend(uint64_t b) {
  while (end_ <= b) {
    if (end_ - base_ == bins_.size()) grow();
    bins_[end_ & mask_] = 0;
    ++end_;
  }
}

// Work spilled further ahead than the ring holds: twice the room, same bins.
void BinCalendar::grow() {
  std::vector<uint64_t> bigger(2 * bins_.size(), 0);
  const uint64_t mask = bigger.size() - 1;
  for (uint64_t b = base_; b < end_; ++b) bigger[b & mask] = bins_[b & mask_];
  bins_.swap(bigger);
  mask_ = mask;
}

void BinCalendar::forget_old() {
  while (base_ < end_ && base_ + keep_bins_ < latest_) {
    note(bins_[base_ & mask_]);
    ++base_;
  }
  if (base_ == end_ && base_ + keep_bins_ < latest_) base_ = end_ = latest_ - keep_bins_;
}

void BinCalendar::note(uint64_t used) {
  const double f = static_cast<double>(used) / static_cast<double>(capacity_);
  if (f > max_fill_) max_fill_ = f;
}

}  // namespace iopf
