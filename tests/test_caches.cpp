// Caches against naive references: set-associative LRU and FIFO, the page-size-aware TLB
// and invalidation by page, range, domain, PASID and globally.
#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <vector>

#include "models/cache/set_assoc.hpp"
#include "models/cache/tlb.hpp"
#include "models/common/rng.hpp"

using namespace iopf;

namespace {

// Per set, a list with the most recent (LRU) or newest (FIFO) at the front.
class NaiveCache {
 public:
  NaiveCache(uint32_t sets, uint32_t ways, bool lru) : sets_(sets), ways_(ways), lru_(lru), v_(sets) {}
  bool lookup(uint64_t tag, uint64_t asid, uint64_t* value) {
    auto& s = v_[tag % sets_];
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it->tag == tag && it->asid == asid) {
        *value = it->value;
        if (lru_) s.splice(s.begin(), s, it);
        return true;
      }
    }
    return false;
  }
  void insert(uint64_t tag, uint64_t asid, uint64_t value) {
    auto& s = v_[tag % sets_];
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it->tag == tag && it->asid == asid) {
        it->value = value;
        if (lru_) s.splice(s.begin(), s, it);
        return;
      }
    }
    if (s.size() == ways_) s.pop_back();
    s.push_front({tag, asid, value});
  }

 private:
  struct E {
    uint64_t tag, asid, value;
  };
  uint32_t sets_, ways_;
  bool lru_;
  std::vector<std::list<E>> v_;
};

void differential(ReplPolicy policy) {
  const uint32_t entries = 64, ways = 4;
  SetAssoc<uint64_t> c(entries, ways, policy);
  NaiveCache ref(entries / ways, ways, policy == ReplPolicy::kLru);
  Rng rng(3, static_cast<uint64_t>(policy));
  uint64_t hits = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t tag = rng.below(160);
    const uint64_t asid = rng.below(3);
    uint64_t want = 0;
    const bool ref_hit = ref.lookup(tag, asid, &want);
    const uint64_t* got = c.lookup(tag, asid);
    ASSERT_EQ(got != nullptr, ref_hit) << "op " << i;
    if (got) {
      ASSERT_EQ(*got, want);
      ++hits;
    } else {
      const uint64_t v = rng.next();
      c.insert(tag, asid, v);
      ref.insert(tag, asid, v);
    }
  }
  EXPECT_GT(hits, 20000u);  // the key space is small enough that the check saw many hits
  EXPECT_LT(hits, 190000u);
}

}  // namespace

TEST(SetAssoc, LruMatchesNaiveReference) { differential(ReplPolicy::kLru); }
TEST(SetAssoc, FifoMatchesNaiveReference) { differential(ReplPolicy::kFifo); }

TEST(SetAssoc, LruAndFifoDiffer) {
  // Touching way 0 again protects it under LRU but not under FIFO.
  for (ReplPolicy p : {ReplPolicy::kLru, ReplPolicy::kFifo}) {
    SetAssoc<uint64_t> c(2, 2, p);  // one set, two ways
    c.insert(0, 0, 10);
    c.insert(1, 0, 11);
    ASSERT_NE(c.lookup(0, 0), nullptr);
    c.insert(2, 0, 12);
    EXPECT_EQ(c.lookup(0, 0) != nullptr, p == ReplPolicy::kLru);
    EXPECT_EQ(c.lookup(1, 0) != nullptr, p == ReplPolicy::kFifo);
  }
}

TEST(SetAssoc, RejectsBadGeometry) {
  EXPECT_THROW(SetAssoc<uint64_t>(12, 4, ReplPolicy::kLru), std::invalid_argument);  // 3 sets
  EXPECT_THROW(SetAssoc<uint64_t>(10, 4, ReplPolicy::kLru), std::invalid_argument);
}

TEST(Tlb, LargeEntryHitsEveryPageInside) {
  TlbGeometry g;
  g.entries[0] = 64; g.ways[0] = 4;  // 16 sets: 4 KiB pages of one 2 MiB page span all of them
  g.entries[1] = 8; g.ways[1] = 2;
  g.entries[2] = 4; g.ways[2] = 4;
  Tlb t(g);
  const uint64_t asid = make_asid(1, 0);
  const uint64_t va = 0x7640'0000, pa = 0x1'2340'0000;
  t.insert(asid, va + 0x5123, pa + 0x5123, 21, true);
  for (uint64_t off = 0; off < (2u << 20); off += 4096) {
    TlbHit h;
    ASSERT_TRUE(t.lookup(asid, va + off + 8, &h)) << off;
    EXPECT_EQ(h.pa, pa + off + 8);
    EXPECT_EQ(h.page_lg2, 21);
  }
  TlbHit h;
  EXPECT_FALSE(t.lookup(asid, va + (2u << 20), &h));
  EXPECT_FALSE(t.lookup(make_asid(2, 0), va, &h));  // other domain
  EXPECT_FALSE(t.lookup(make_asid(1, 5), va, &h));  // other PASID
  // 1 GiB entries likewise.
  t.insert(asid, 0x40000000, 0x80000000, 30, false);
  ASSERT_TRUE(t.lookup(asid, 0x7FFFF123, &h));
  EXPECT_EQ(h.pa, 0xBFFFF123u);
  EXPECT_FALSE(h.writable);
}

TEST(Tlb, InvalidationKinds) {
  TlbGeometry g;
  g.entries[0] = 256; g.ways[0] = 8;
  g.entries[1] = 32; g.ways[1] = 4;
  g.entries[2] = 8; g.ways[2] = 8;
  Tlb t(g);
  auto fill = [&]() {
    t.clear();
    for (uint32_t dom : {1u, 2u})
      for (uint32_t pasid : {0u, 7u})
        for (uint64_t p = 0; p < 16; ++p) t.insert(make_asid(dom, pasid), p << 12, (0x100 + p) << 12, 12, true);
    t.insert(make_asid(1, 0), 0x200000, 0x800000, 21, true);
  };
  auto hit = [&](uint32_t dom, uint32_t pasid, uint64_t va) {
    TlbHit h;
    return t.lookup(make_asid(dom, pasid), va, &h);
  };
  // By page.
  fill();
  EXPECT_EQ(t.invalidate({make_asid(1, 0), ~0ULL, 0x3000, 0x4000}), 1u);
  EXPECT_FALSE(hit(1, 0, 0x3000));
  EXPECT_TRUE(hit(1, 0, 0x2000));
  EXPECT_TRUE(hit(1, 7, 0x3000));
  EXPECT_TRUE(hit(2, 0, 0x3000));
  // By range (address and power-of-two mask: 8 pages from 0x8000), reaching into the 2 MiB entry too.
  fill();
  EXPECT_EQ(t.invalidate({make_asid(1, 0), ~0ULL, 0x8000, 0x10000}), 8u);
  for (uint64_t p = 0; p < 16; ++p) EXPECT_EQ(hit(1, 0, p << 12), p < 8) << p;
  EXPECT_EQ(t.invalidate({make_asid(1, 0), ~0ULL, 0x3FF000, 0x400000}), 1u);  // last page of the 2 MiB one
  EXPECT_FALSE(hit(1, 0, 0x200000));
  // By PASID within a domain.
  fill();
  EXPECT_EQ(t.invalidate({make_asid(2, 7), ~0ULL, 0, ~0ULL}), 16u);
  EXPECT_FALSE(hit(2, 7, 0));
  EXPECT_TRUE(hit(2, 0, 0));
  // By domain: every PASID of it.
  fill();
  EXPECT_EQ(t.invalidate({make_asid(1, 0), kAsidDomainMask, 0, ~0ULL}), 33u);
  EXPECT_FALSE(hit(1, 7, 0x5000));
  EXPECT_FALSE(hit(1, 0, 0x200000));
  EXPECT_TRUE(hit(2, 7, 0x5000));
  // Global.
  fill();
  EXPECT_EQ(t.invalidate({0, 0, 0, ~0ULL}), 65u);
  EXPECT_EQ(t.valid(), 0u);
}
