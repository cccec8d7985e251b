#include "models/common/stats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace iopf {

void Histogram::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = ~0ULL;
}

void Histogram::merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  if (o.count_) {
    if (o.min_ < min_) min_ = o.min_;
    if (o.max_ > max_) max_ = o.max_;
  }
}

uint64_t Histogram::percentile(double q) const {
  if (!count_) return 0;
  const uint64_t want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= want && seen > 0) {
      uint64_t v = upper_bound(i);
      if (v > max_) v = max_;
      if (v < min_) v = min_;
      return v;
    }
  }
  return max_;
}

nlohmann::json histogram_json(const Histogram& h) {
  nlohmann::json j;
  j["count"] = h.count();
  j["mean"] = h.mean();
  j["min"] = h.min();
  j["p50"] = h.percentile(0.50);
  j["p90"] = h.percentile(0.90);
  j["p99"] = h.percentile(0.99);
  j["p999"] = h.percentile(0.999);
  j["max"] = h.max();
  return j;
}

}  // namespace iopf
