#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "models/common/rng.hpp"
#include "models/common/stats.hpp"

using iopf::Histogram;

TEST(Histogram, ExactSmallValuesAndExtremes) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
  EXPECT_EQ(h.percentile(0.5), 50u);  // below 128 every value has its own bucket
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(1.0), 100u);
}

TEST(Histogram, PercentilesWithinRelativeError) {
  iopf::Rng rng(7, 0);
  std::vector<uint64_t> v;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    uint64_t x = 100 + rng.below(10'000'000);
    v.push_back(x);
    h.record(x);
  }
  std::sort(v.begin(), v.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = v[static_cast<size_t>(std::ceil(q * v.size())) - 1];
    const uint64_t got = h.percentile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), exact * (1 + 1.0 / 128) + 1) << q;
  }
}

TEST(Histogram, IndexRoundTrips) {
  std::vector<uint64_t> values{0ull, 1ull, 127ull, 128ull, 129ull, 255ull, 256ull, 1000ull, 123456789ull, ~0ull};
  for (int k = 1; k < 64; ++k)  // every power of two's edges, where the bucket width doubles
    for (uint64_t v : {(1ull << k) - 1, 1ull << k, (1ull << k) + 1}) values.push_back(v);
  for (uint64_t v = 0; v < 4096; ++v) values.push_back(v);
  for (uint64_t v : values) {
    const int i = Histogram::index(v);
    ASSERT_GE(i, 0) << v;
    ASSERT_LT(i, Histogram::kBuckets) << v;
    EXPECT_GE(Histogram::upper_bound(i), v);
    if (i > 0) {
      EXPECT_LT(Histogram::upper_bound(i - 1), v);
    }
  }
}

TEST(Histogram, Merge) {
  Histogram a, b;
  a.record(10);
  b.record(1000);
  a.merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.min(), 10u);
  EXPECT_EQ(a.max(), 1000u);
}
