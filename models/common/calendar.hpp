// An inline calendar for a shared resource on the hot path (IOMMU walker slots, the ATS
// translation-request front end, root-complex bandwidth): no SimGrid activity per use.
//
// Models: a server of `rate` units of work per ns (bytes per ns for bandwidth, slots for a
// pool of walkers) as a fluid queue in time bins of bin_ns: each bin holds rate x bin_ns units.
// A request at t takes room from the bin holding t onward, spilling into later bins when
// they are full; it starts at t, or at the first bin with room when the bin of t is full;
// it finishes when its last unit is placed (never before t + min_duration, its
// unloaded service time). The wait is start - t, and the delay finish - (t + min_duration).
// Why bins and not "the time the unit is next free": device actors run up to one batch
// quantum ahead of each other (sim/engine.cpp), so requests reach a shared calendar slightly
// out of time order. A single next-free time would make a request that is early in SimGrid
// time wait behind another device's requests booked later in the quantum (an error up to the
// quantum, 10 us, on a 600 ns DMA). Bins keep each request at its own time: the error is one
// bin. Bins older than keep_ns behind the latest request are forgotten; a request earlier
// than the oldest bin kept is served as if it arrived there (counted in `clamped`: an
// over-estimate, bounded by how far behind it was; keep_ns is two quanta, so it should not
// happen).
// Include this only from .cpp files (walkers.cpp, root_complex.cpp): headers that many files
// include forward-declare BinCalendar, so a change here rebuilds two files, not the tree.
// Does not model: the order of service inside a bin (fluid: requests share it), a single
// request using more than one unit at once (a walk's reads are sequential, but the fluid
// queue lets its work spread over the slots of a bin: the pool's total occupancy is exact,
// one walk's own duration is bounded below by min_duration).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace iopf {

// n / d for a d fixed once, by a multiply and one or two corrections: exact for every n
// (the estimate floor(n * floor((2^64 - 1) / d) / 2^64) is at most 2 below n / d), and no
// hardware divide on the hot path.
class Divider {
 public:
  explicit Divider(uint64_t d = 1) : d_(d), m_(~0ULL / d) {}
  uint64_t operator()(uint64_t n) const {
    uint64_t q = static_cast<uint64_t>((static_cast<unsigned __int128>(n) * m_) >> 64);
    uint64_t r = n - q * d_;
    while (r >= d_) {
      ++q;
      r -= d_;
    }
    return q;
  }

 private:
  uint64_t d_;
  uint64_t m_;
};

class BinCalendar {
 public:
  struct Booking {
    uint64_t start_ns;
    uint64_t finish_ns;
  };

  void configure(double units_per_ns, uint64_t bin_ns, uint64_t keep_ns);
  bool configured() const { return capacity_ != 0; }
  // Places `units` of work arriving at t; min_duration_ns is its service time alone.
  // Inline (forced: the compiler would not) with the slow part out of line: one or two per DMA
  // (root_complex.cpp, walkers.cpp include this header).
  __attribute__((always_inline)) Booking book(uint64_t t, uint64_t units, uint64_t min_duration_ns) {
    uint64_t b = per_bin_(t);
    if (b > latest_) {  // forget_old can only drop bins when the latest request moved on
      latest_ = b;
      forget_old();
    }
    if (b < base_) {
      ++clamped;
      b = base_;
      t = base_ * bin_ns_;
    }
    uint64_t start = t;
    if (units == 0) return {start, start + min_duration_ns};
    uint64_t& first = bin(b);
    if (units <= capacity_ - first) {  // the common case: it fits in the bin of t (which is not full)
      first += units;
      return {start, finish_ns(b, first, t + min_duration_ns)};
    }
    return spill(b, t, units, min_duration_ns);
  }
  // Highest occupancy of any bin, as a fraction of its capacity (1 = full).
  double max_fill() const;
  // What its ring holds (sim.memory): the most bins it has needed at once.
  uint64_t memory_bytes() const { return bins_.capacity() * sizeof(uint64_t); }
  uint64_t clamped = 0;  // requests earlier than the oldest bin kept

 private:
  uint64_t& bin(uint64_t b) {
    if (end_ <= b) extend(b);
    return bins_[b & mask_];
  }
  // The ring ends before bin b: extend it (growing it when full). Inline: every new bin.
  void extend(uint64_t b) {
    while (end_ <= b) {
      if (end_ - base_ == bins_.size()) grow();
      bins_[end_ & mask_] = 0;
      ++end_;
    }
  }
  // A request whose last unit went into bin b, filling it to `fill`, and that alone would
  // finish at alone_ns: fluid, its work is placed by b * bin + ceil(fill * bin / capacity),
  // and it finishes then or alone, the later. When alone is inside bin b or after and the
  // placement is no later, the division is skipped: floor(x / capacity) <= y exactly when
  // x < (y + 1) * capacity.
  uint64_t finish_ns(uint64_t b, uint64_t fill, uint64_t alone_ns) const {
    const uint64_t bin_start = b * bin_ns_, x = fill * bin_ns_ + capacity_ - 1;
    if (alone_ns >= bin_start && static_cast<unsigned __int128>(alone_ns - bin_start + 1) * capacity_ > x)
      return alone_ns;
    return std::max(bin_start + per_capacity_(x), alone_ns);
  }
  // book() when the request does not fit in the bin of t: from bin b on, spilling.
  Booking spill(uint64_t b, uint64_t t, uint64_t units, uint64_t min_duration_ns);
  // Inline: every new latest bin.
  void forget_old() {
    while (base_ < end_ && base_ + keep_bins_ < latest_) {
      note(bins_[base_ & mask_]);
      ++base_;
    }
    if (base_ == end_ && base_ + keep_bins_ < latest_) base_ = end_ = latest_ - keep_bins_;
  }
  double fraction(uint64_t used) const;
  void note(uint64_t used) { max_used_ = used > max_used_ ? used : max_used_; }
  void grow();

  uint64_t bin_ns_ = 1;
  uint64_t capacity_ = 0;  // units per bin
  Divider per_bin_;        // / bin_ns_
  Divider per_capacity_;   // / capacity_
  uint64_t keep_bins_ = 0;
  std::vector<uint64_t> bins_;  // a ring: bin b at bins_[b & mask_], for b in [base_, end_)
  uint64_t mask_ = 0;
  uint64_t base_ = 0;    // oldest bin kept
  uint64_t end_ = 0;     // one past the newest bin held
  uint64_t latest_ = 0;  // latest request's bin
  double max_fill_ = 0;   // of the bins forgotten under an earlier capacity (configure)
  uint64_t max_used_ = 0;  // fullest bin forgotten (a fraction only when asked: max_fill)
};

}  // namespace iopf
