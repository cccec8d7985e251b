// Differential tests: every page-table format against a std::map reference on random
// map/unmap/walk sequences, including large leaves and their splits; plus the raw entry
// encodings of each format.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "models/pagetable/page_table.hpp"
#include "models/pagetable/table_memory.hpp"
#include "models/common/rng.hpp"

using namespace iopf;

namespace {

struct RefPage {
  uint64_t ppn;
  bool writable;
};

class Reference {
 public:
  void map(uint64_t va, uint64_t pa, uint64_t len, bool w) {
    for (uint64_t off = 0; off < len; off += 4096) pages_[(va + off) >> 12] = RefPage{(pa + off) >> 12, w};
  }
  uint64_t write_protect(uint64_t va, uint64_t len) {
    uint64_t n = 0;
    for (auto it = pages_.lower_bound(va >> 12), hi = pages_.lower_bound((va + len) >> 12); it != hi; ++it) {
      n += it->second.writable ? 4096 : 0;
      it->second.writable = false;
    }
    return n;
  }
  uint64_t unmap(uint64_t va, uint64_t len) {
    auto lo = pages_.lower_bound(va >> 12), hi = pages_.lower_bound((va + len) >> 12);
    uint64_t n = static_cast<uint64_t>(std::distance(lo, hi));
    pages_.erase(lo, hi);
    return n * 4096;
  }
  const RefPage* find(uint64_t va) const {
    auto it = pages_.find(va >> 12);
    return it == pages_.end() ? nullptr : &it->second;
  }
  size_t size() const { return pages_.size(); }
  const std::map<uint64_t, RefPage>& pages() const { return pages_; }

 private:
  std::map<uint64_t, RefPage> pages_;
};

// Checks one address: presence, translation, permission, and that the leaf size the walk
// reports is backed by the reference (every page of that aligned block mapped, contiguous).
void check_va(const PageTable& pt, const Reference& ref, uint64_t va) {
  WalkOut o;
  pt.walk(va, &o);
  const RefPage* r = ref.find(va);
  ASSERT_EQ(o.present, r != nullptr) << pt.info().name << " va=" << std::hex << va;
  EXPECT_GE(o.reads, 1);
  EXPECT_LE(o.reads, pt.levels());
  if (!r) return;
  ASSERT_EQ(o.pa, (r->ppn << 12) | (va & 0xFFF)) << pt.info().name << " va=" << std::hex << va;
  ASSERT_EQ(o.writable, r->writable) << pt.info().name;
  if (o.page_lg2 > 12) {
    const uint64_t size = 1ULL << o.page_lg2;
    const uint64_t base = va & ~(size - 1);
    const RefPage* first = ref.find(base);
    ASSERT_NE(first, nullptr);
    ASSERT_EQ((first->ppn << 12) & (size - 1), 0u) << "large leaf's PA not aligned";
    for (uint64_t off = 0; off < size; off += 4096 * 61) {  // sample the block
      const RefPage* p = ref.find(base + off);
      ASSERT_NE(p, nullptr) << "large leaf covers an unmapped page";
      ASSERT_EQ(p->ppn, first->ppn + (off >> 12));
    }
  }
}

class FormatTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FormatTest, RandomMapUnmapWalkMatchesReference) {
  auto pt = make_page_table(GetParam());
  Reference ref;
  Rng rng(42, std::hash<std::string>{}(GetParam()));
  const uint64_t kSpace = 8ULL << 30;  // 8 GiB of IOVA: room for 1 GiB leaves
  const uint64_t kPaBase = 1ULL << 40;
  for (int op = 0; op < 400; ++op) {
    const uint64_t dice = rng.below(100);
    uint64_t va, len, pa;
    if (dice < 2) {  // a 1 GiB-aligned gigabyte: a 1 GiB leaf
      va = rng.below(kSpace >> 30) << 30;
      len = 1ULL << 30;
      pa = kPaBase + (rng.below(64) << 30);
    } else if (dice < 20) {  // 2 MiB-aligned runs: 2 MiB leaves
      va = rng.below(kSpace >> 21) << 21;
      len = (1 + rng.below(4)) << 21;
      pa = kPaBase + (rng.below(1 << 15) << 21);
    } else if (dice < 30) {  // misaligned PA: must fall back to 4 KiB leaves
      va = rng.below(kSpace >> 21) << 21;
      len = 2ULL << 20;
      pa = kPaBase + (rng.below(1 << 20) << 12) + 4096;
    } else {  // small 4 KiB-granular runs, anywhere
      va = rng.below(kSpace >> 12) << 12;
      len = (1 + rng.below(16)) << 12;
      pa = kPaBase + (rng.below(1 << 24) << 12);
    }
    if (va + len > kSpace) len = kSpace - va;
    if (rng.below(100) < 60) {
      const bool w = rng.below(4) != 0;
      pt->map(va, pa, len, 30, w);
      ref.map(va, pa, len, w);
    } else if (rng.below(100) < 15) {
      // Write-protect from anywhere: splits large leaves at the edges.
      uint64_t pva = va + (rng.below(len >> 12) << 12);
      uint64_t plen = std::min<uint64_t>((1 + rng.below(600)) << 12, kSpace - pva);
      ASSERT_EQ(pt->write_protect(pva, plen), ref.write_protect(pva, plen)) << "bytes protected at op " << op;
    } else {
      // Unmaps start anywhere, so they split large leaves.
      uint64_t uva = va + (rng.below(len >> 12) << 12);
      uint64_t ulen = std::min<uint64_t>(((1 + rng.below(64)) << 12) * (dice < 20 ? 64 : 1), kSpace - uva);
      ASSERT_EQ(pt->unmap(uva, ulen), ref.unmap(uva, ulen)) << "bytes unmapped at op " << op;
    }
    for (int k = 0; k < 40; ++k) check_va(*pt, ref, (rng.below(kSpace >> 12) << 12) | rng.below(4096));
    if (ref.size()) {
      auto it = ref.pages().begin();
      std::advance(it, static_cast<long>(rng.below(std::min<size_t>(ref.size(), 2000))));
      check_va(*pt, ref, (it->first << 12) | rng.below(4096));
    }
  }
  // Every reference page, exhaustively.
  for (const auto& [vpn, p] : ref.pages()) {
    WalkOut o;
    pt->walk(vpn << 12, &o);
    ASSERT_TRUE(o.present);
    ASSERT_EQ(o.pa >> 12, p.ppn);
  }
  EXPECT_GT(pt->pt_bytes(), 4096u);
  EXPECT_EQ(pt->unmap(0, kSpace), ref.unmap(0, kSpace));
  // Wholly unmapped spans free their tables: what is left is the path down to 1 GiB spans.
  EXPECT_LE(pt->pt_bytes(), static_cast<uint64_t>(pt->levels()) * 4096);
  check_va(*pt, ref, 0x1234000);
}

TEST_P(FormatTest, LargestPageSizeChosenAndSplitOnPartialUnmap) {
  auto pt = make_page_table(GetParam());
  const uint64_t pa = 1ULL << 40;
  pt->map(0, pa, 1ULL << 30, 30, true);
  WalkOut o;
  pt->walk(0x12345, &o);
  EXPECT_TRUE(o.present);
  EXPECT_EQ(o.page_lg2, 30);
  const uint64_t tables_before = pt->pt_bytes();
  // Unmapping one 4 KiB page splits the 1 GiB leaf into 2 MiB leaves and one of those into 4 KiB.
  EXPECT_EQ(pt->unmap(0x200000, 4096), 4096u);
  EXPECT_EQ(pt->pt_bytes(), tables_before + 2 * 4096);
  pt->walk(0x200000, &o);
  EXPECT_FALSE(o.present);
  pt->walk(0x201000, &o);
  EXPECT_TRUE(o.present);
  EXPECT_EQ(o.page_lg2, 12);
  EXPECT_EQ(o.pa, pa + 0x201000);
  pt->walk(0x400000, &o);
  EXPECT_EQ(o.page_lg2, 21);
  EXPECT_EQ(o.pa, pa + 0x400000);
  // max_page_lg2 caps the leaf size.
  pt->map(1ULL << 30, pa + (1ULL << 30), 4ULL << 20, 12, false);
  pt->walk((1ULL << 30) + 0x3000, &o);
  EXPECT_EQ(o.page_lg2, 12);
  EXPECT_FALSE(o.writable);
}

TEST_P(FormatTest, WalkReadsOnePerLevel) {
  auto pt = make_page_table(GetParam());
  pt->map(0x40000000, 1ULL << 40, 4096, 30, true);
  WalkOut o;
  pt->walk(0x40000000, &o);
  EXPECT_EQ(o.reads, pt->levels());
  WalkOut hole;
  pt->walk(2ULL << (12 + 9 * (pt->levels() - 1)), &hole);  // root entry 2: absent after one read
  EXPECT_FALSE(hole.present);
  EXPECT_EQ(hole.reads, 1);
}

INSTANTIATE_TEST_SUITE_P(AllFormats, FormatTest, ::testing::ValuesIn(page_table_format_names()));

// The loader asks a format's info without building a table (a sweep forks its runs from a
// process that must hold no table; the sweep's test checks that).
TEST(FormatRegistry, InfoWithoutATable) {
  struct Want {
    const char* name;
    const char* family;
    int levels, va_bits;
  };
  for (const Want& w : {Want{"x86_64_5level", "x86_64", 5, 57}, Want{"vtd_ss_3level", "vtd_ss", 3, 39},
                        Want{"ept_4level", "vtd_ss", 4, 48}, Want{"arm64_s2_3level", "arm64_s2", 3, 39},
                        Want{"amd_v1_5level", "amd_v1", 5, 57}}) {
    const FormatInfo info = page_table_format_info(w.name);
    EXPECT_EQ(info.name, w.name);
    EXPECT_EQ(info.family, w.family) << w.name;
    EXPECT_EQ(info.levels, w.levels) << w.name;
    EXPECT_EQ(info.va_bits, w.va_bits) << w.name;
    EXPECT_EQ(info.va_bits, make_page_table(w.name)->info().va_bits) << w.name;
  }
}

TEST(FormatRegistry, InfoOfAnUnknownFormatThrows) {
  EXPECT_THROW(page_table_format_info("x86_64_6level"), std::invalid_argument);
}

uint64_t raw_entry(const PageTable& pt, uint64_t table, uint64_t va, int level) {
  return TableMemory::ptr(table)[(va >> (12 + 9 * level)) & 511];
}

// Follows table pointers down to `level` and returns that entry's raw bits.
uint64_t raw_at(const PageTable& pt, uint64_t va, int level) {
  uint64_t table = pt.root_pa();
  for (int l = pt.levels() - 1; l > level; --l) {
    StepOut s = pt.step(l, table, va);
    EXPECT_EQ(s.kind, StepOut::kTable);
    table = s.addr;
  }
  return raw_entry(pt, table, va, level);
}

TEST(Encoding, X86FirstLevel) {
  auto pt = make_page_table("x86_64_4level");
  pt->map(0, 0x1234000, 4096, 12, true);
  EXPECT_EQ(raw_at(*pt, 0, 0), 0x1234000ULL | 0x67);  // P RW US A D
  pt->map(0x200000, 0x40000000, 2 << 20, 21, false);
  EXPECT_EQ(raw_at(*pt, 0x200000, 1), 0x40000000ULL | 0xA5);  // P US A PS, read-only
  const uint64_t root_entry = raw_entry(*pt, pt->root_pa(), 0, 3);
  EXPECT_EQ(root_entry & 0x7, 0x7u);  // table: P RW US
  EXPECT_EQ(root_entry & 0x80, 0u);   // no PS on a table pointer
}

TEST(Encoding, VtdSecondStage) {
  auto pt = make_page_table("vtd_ss_4level");
  pt->map(0, 0x1234000, 4096, 12, true);
  EXPECT_EQ(raw_at(*pt, 0, 0), 0x1234000ULL | 0x37);  // R W X, memory type WB
  pt->map(1ULL << 30, 1ULL << 31, 1ULL << 30, 30, true);
  EXPECT_EQ(raw_at(*pt, 1ULL << 30, 2), (1ULL << 31) | 0xB7);  // 1 GiB leaf: PS
}

TEST(Encoding, ArmStage1And2) {
  auto s1 = make_page_table("arm64_s1_4level");
  s1->map(0, 0x1234000, 4096, 12, false);
  EXPECT_EQ(raw_at(*s1, 0, 0), 0x1234000ULL | 0x783);  // page 0b11, AP[2] RO, SH inner, AF
  s1->map(0x200000, 0x40000000, 2 << 20, 21, true);
  EXPECT_EQ(raw_at(*s1, 0x200000, 1), 0x40000000ULL | 0x701);  // block 0b01
  auto s2 = make_page_table("arm64_s2_4level");
  s2->map(0, 0x1234000, 4096, 12, true);
  EXPECT_EQ(raw_at(*s2, 0, 0), 0x1234000ULL | 0x7FF);  // page, MemAttr WB, S2AP RW, SH, AF
}

TEST(Encoding, AmdV1) {
  auto pt = make_page_table("amd_v1_4level");
  pt->map(0, 0x1234000, 4096, 12, true);
  EXPECT_EQ(raw_at(*pt, 0, 0), 0x1234000ULL | 1 | (1ULL << 61) | (1ULL << 62));
  // Table entries carry the 1-based level of the table they point to in Next Level (11:9).
  EXPECT_EQ((raw_entry(*pt, pt->root_pa(), 0, 3) >> 9) & 7, 3u);
  EXPECT_EQ((raw_at(*pt, 0, 1) >> 9) & 7, 1u);
  pt->map(0x200000, 0x40000000, 2 << 20, 21, true);
  EXPECT_EQ((raw_at(*pt, 0x200000, 1) >> 9) & 7, 0u);  // a 2 MiB leaf: Next Level 0
}

}  // namespace
