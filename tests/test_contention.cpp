// The inline calendars (shared resources on the hot path) and the invalidation ranges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "models/common/calendar.hpp"
#include "models/common/sizes.hpp"
#include "models/device/root_complex.hpp"
#include "models/iommu/inv_ranges.hpp"
#include "models/iommu/walkers.hpp"

namespace iopf {
namespace {

TEST(Calendar, IdleServerServesAtOnce) {
  BinCalendar c;
  c.configure(1.0, 100, 10'000);
  const auto b = c.book(1000, 40, 40);
  EXPECT_EQ(b.start_ns, 1000u);
  EXPECT_EQ(b.finish_ns, 1040u);
}

TEST(Calendar, OfferedBeyondCapacityWaits) {
  BinCalendar c;
  c.configure(1.0, 100, 100'000);  // one unit per ns
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) last = c.book(0, 100, 100).finish_ns;  // 10,000 units at t = 0
  EXPECT_NEAR(static_cast<double>(last), 10'000.0, 100.0);
  EXPECT_DOUBLE_EQ(c.max_fill(), 1.0);
}

// The calendar's divide without a divide instruction, against `/`: divisors from 1 to 2^63,
// numerators at and around multiples and at the top of the range.
TEST(Calendar, DividerEqualsIntegerDivision) {
  const uint64_t divisors[] = {1, 2, 3, 7, 10, 600, 1000, 4096, 999'999, 1'000'000'007, 1ULL << 32, (1ULL << 32) + 1,
                               ~0ULL / 3, 1ULL << 63, ~0ULL};
  for (const uint64_t d : divisors) {
    const Divider div(d);
    for (const uint64_t k : {0ULL, 1ULL, 2ULL, 12345ULL, ~0ULL / d}) {
      for (const int64_t off : {-2, -1, 0, 1, 2}) {
        const uint64_t n = k * d + static_cast<uint64_t>(off);  // wraps at the ends: still a numerator
        ASSERT_EQ(div(n), n / d) << n << " / " << d;
      }
    }
    ASSERT_EQ(div(~0ULL), ~0ULL / d) << d;
  }
}

// The calendar against a plain reference of the same rule (a map of bins, `/` for every
// division): random requests, some spilling over several bins, some arriving slightly out of
// time order (within the bins kept), some with a long unloaded service time.
TEST(Calendar, BookingsEqualAPlainReference) {
  struct Reference {
    uint64_t bin_ns, cap;
    std::map<uint64_t, uint64_t> used;
    BinCalendar::Booking book(uint64_t t, uint64_t units, uint64_t min_ns) {
      if (units == 0) return {t, t + min_ns};  // no work: nothing booked
      uint64_t start = t, b = t / bin_ns, left = units, fill = 0;
      bool started = false;
      for (;; ++b) {
        uint64_t& u = used[b];
        if (u >= cap) continue;
        if (!started) start = std::max(start, b * bin_ns), started = true;
        const uint64_t take = std::min(left, cap - u);
        u += take, left -= take;
        if (!left) {
          fill = u;
          break;
        }
      }
      return {start, std::max(b * bin_ns + (fill * bin_ns + cap - 1) / cap, t + min_ns)};
    }
  };
  for (const double rate : {0.37, 0.7, 1.01, 3.15, 31.5, 63.0}) {  // 37 and 101 units a bin (prime to
                                                                    // 100 ns) reach the rounding boundary
    BinCalendar c;
    c.configure(rate, 100, 1'000'000);
    Reference ref{100, static_cast<uint64_t>(std::llround(rate * 100)), {}};
    std::mt19937_64 rng(7);
    uint64_t now = 1000;
    for (int i = 0; i < 20'000; ++i) {
      now += rng() % 200;
      const uint64_t t = now - rng() % 500;  // up to 500 ns out of order
      const uint64_t units = rng() % 4 == 0 ? rng() % (ref.cap * 5) : rng() % (ref.cap / 4 + 1);
      const uint64_t min_ns = rng() % 8 == 0 ? rng() % 5000 : units / std::max<uint64_t>(1, ref.cap / 100);
      const BinCalendar::Booking got = c.book(t, units, min_ns), want = ref.book(t, units, min_ns);
      ASSERT_EQ(got.start_ns, want.start_ns) << "rate " << rate << " request " << i;
      ASSERT_EQ(got.finish_ns, want.finish_ns) << "rate " << rate << " request " << i;
    }
    EXPECT_EQ(c.clamped, 0u);
  }
}

TEST(Walkers, SlotsBoundConcurrentWalks) {
  Walkers one, many;
  one.configure(1, 100'000);
  many.configure(16, 100'000);
  uint64_t wait_one = 0, wait_many = 0;
  for (int i = 0; i < 16; ++i) {  // 16 walks of 250 ns arrive at once
    wait_one = one.walk_wait_ns(0, 250, true);
    wait_many = many.walk_wait_ns(0, 250, true);
  }
  EXPECT_EQ(wait_many, 0u);
  EXPECT_NEAR(static_cast<double>(wait_one), 15 * 250.0, 100.0);
  EXPECT_EQ(one.max_busy(), 1u);
}

TEST(RootComplex, SharedBandwidthIsShared) {
  RootComplex rc;
  rc.configure(10e9, 1'000'000);  // 10 bytes per ns
  const uint32_t a = rc.add_port(100e9), b = rc.add_port(100e9);
  uint64_t done = 0;
  for (int i = 0; i < 1000; ++i) done = rc.transfer(a, false, 0, 1000);  // 1 MB at t = 0
  EXPECT_NEAR(static_cast<double>(done), 100'000.0, 200.0);
  EXPECT_EQ(rc.transfer(b, true, 0, 1000), 100u);  // the other direction is free
  EXPECT_EQ(tlp_wire_bytes(2048, 256), 2048u + 8 * kTlpOverheadBytes);
  EXPECT_EQ(tlp_wire_bytes(64, 256), 64u + kTlpOverheadBytes);
}

TEST(RootComplex, LinkLimitsOnePort) {
  RootComplex rc;
  rc.configure(100e9, 1'000'000);
  const uint32_t a = rc.add_port(1e9);  // 1 byte per ns
  EXPECT_EQ(rc.transfer(a, false, 0, 500), 500u);
  EXPECT_NEAR(static_cast<double>(rc.transfer(a, false, 0, 500)), 1000.0, 100.0);
}

// Two ports that both want more than half get about half each, whichever books first.
TEST(RootComplex, ContendingPortsShareFairly) {
  RootComplex rc;
  rc.configure(10e9, 40'000);
  const uint32_t a = rc.add_port(8e9), b = rc.add_port(8e9);
  uint64_t ta = 0, tb = 0, bytes_a = 0, bytes_b = 0;
  const uint64_t end = 1'000'000;
  for (uint64_t q = 0; q < end; q += 10'000) {  // port a books each 10 us quantum first
    while (ta < q + 10'000) { ta = std::max(ta + 250, rc.transfer(a, false, ta, 2000) - 250); bytes_a += 2000; }
    while (tb < q + 10'000) { tb = std::max(tb + 250, rc.transfer(b, false, tb, 2000) - 250); bytes_b += 2000; }
  }
  const double ga = static_cast<double>(bytes_a) / static_cast<double>(ta);
  const double gb = static_cast<double>(bytes_b) / static_cast<double>(tb);
  EXPECT_LE(ga + gb, 10.0 * 1.02);
  EXPECT_NEAR(ga, gb, 0.15 * (ga + gb) / 2);
}

InvFilter page(uint64_t pn) { return InvFilter{7, ~0ULL, pn << kBasePageLg2, (pn + 1) << kBasePageLg2}; }

TEST(InvRanges, TouchingPagesBecomeAlignedBlocks) {
  std::vector<InvFilter> f;
  for (uint64_t pn = 16; pn < 48; ++pn) f.push_back(page(pn));  // 32 pages from 16: blocks 16 + 16
  f.push_back(page(100));
  const auto r = merge_inv_ranges(f);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].va_lo, 16ULL << kBasePageLg2);
  EXPECT_EQ(r[0].va_hi, 32ULL << kBasePageLg2);
  EXPECT_EQ(r[1].va_hi, 48ULL << kBasePageLg2);
  EXPECT_EQ(r[2].va_lo, 100ULL << kBasePageLg2);
  uint64_t pages = 0;  // exact cover: nothing outside the pages asked for
  for (const auto& x : r) pages += (x.va_hi - x.va_lo) >> kBasePageLg2;
  EXPECT_EQ(pages, 33u);
}

TEST(InvRanges, ScatteredPagesStayPages) {
  std::vector<InvFilter> f = {page(9), page(3), page(5)};
  const auto r = merge_inv_ranges(f);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].va_lo, 3ULL << kBasePageLg2);
}

}  // namespace
}  // namespace iopf
