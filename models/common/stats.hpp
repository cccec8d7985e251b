// Statistics: counters are plain integers in the model objects; latency distributions are
// log-linear histograms (HDR-style: 128 linear sub-buckets per power of two, so every
// reported percentile is within 0.8% of the true value; min, max and mean are exact).
// Written here rather than taken from a library: Debian packages no C++ HDR histogram, and
// recording must be a few instructions with no allocation on the hot path.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <vector>

namespace iopf {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = kSub * (64 - kSubBits + 1);

  Histogram() : counts_(kBuckets, 0) {}
  // Histograms alive in this process, and what each holds (sim.memory in the report).
  static uint64_t live() { return Live::n; }
  static constexpr uint64_t kBytesEach = kBuckets * sizeof(uint64_t) + 64;

  void record(uint64_t v) {
    ++counts_[index(v)];
    ++count_;
    sum_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  void merge(const Histogram& o);
  void clear();  // back to empty (a time series' per-interval histograms)

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // Smallest recorded-bucket upper bound with at least q of the samples at or below it,
  // clamped to [min, max].
  uint64_t percentile(double q) const;

  // Below kSub a bucket per value; above, kSub per power of two. Without a branch (a record of
  // mostly-zero waits mixed with long ones mispredicts it): v | kSub has v's top bit when
  // v >= kSub, and gives shift 0 (bucket v) below it.
  static int index(uint64_t v) {
    const int shift = 63 - __builtin_clzll(v | static_cast<uint64_t>(kSub)) - kSubBits;
    return kSub * shift + static_cast<int>(v >> shift);
  }
  static uint64_t upper_bound(int idx) {  // largest value in bucket idx
    if (idx < kSub) return static_cast<uint64_t>(idx);
    const int shift = idx / kSub - 1;
    const uint64_t sub = static_cast<uint64_t>(idx % kSub) + kSub;
    return ((sub + 1) << shift) - 1;
  }

 private:
  struct Live {  // counts instances; copies and moves included
    static inline uint64_t n = 0;
    Live() { ++n; }
    Live(const Live&) { ++n; }
    Live& operator=(const Live&) = default;
    ~Live() { --n; }
  };
  Live live_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = ~0ULL;
  uint64_t max_ = 0;
};

// {"count", "mean", "min", "p50", "p90", "p99", "p999", "max"}
nlohmann::json histogram_json(const Histogram& h);

}  // namespace iopf
