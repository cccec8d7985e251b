// Walk memory-read counts through the IOMMU: single stage with walk caches, nested
// (stage 1 over stage 2) cold and warm, large pages, and invalidation.
#include <gtest/gtest.h>

#include <memory>

#include "models/iommu/iommu.hpp"
#include "models/iommu/nested.hpp"
#include "models/pagetable/page_table.hpp"
#include "models/pagetable/table_memory.hpp"

using namespace iopf;

namespace {

TlbGeometry small_tlb() {
  TlbGeometry g;
  g.entries[0] = 64; g.ways[0] = 4;
  g.entries[1] = 16; g.ways[1] = 4;
  g.entries[2] = 4; g.ways[2] = 4;
  return g;
}

Iommu make_iommu(uint32_t walk_cache_entries) {
  Iommu m;
  m.configure(small_tlb(), walk_cache_entries, walk_cache_entries ? 4 : 1, ReplPolicy::kLru, IommuTiming{5, 70});
  return m;
}

// Guest memory 0..3 GiB at HPA 1 TiB + GPA in stage 2, the guest's table pages at 3 GiB GPA.
struct NestedPair {
  static constexpr uint64_t kGuestTableGpa = 3ULL << 30;
  NestedTables t;
  PageTable* s2;
  PageTable* s1;
  NestedPair(const std::string& f1, const std::string& f2, unsigned s2_page_lg2)
      : t(make_nested_tables(f1, f2, kGuestTableGpa)), s2(t.s2.get()), s1(t.s1.get()) {
    s2->map(0, 1ULL << 40, 3ULL << 30, s2_page_lg2, true);
  }
  IommuDomain domain(uint32_t id) const { return t.view(id); }
};

}  // namespace

TEST(Walk, SingleStageWalkCacheSkipsLevels) {
  auto pt = make_page_table("x86_64_4level");
  pt->map(0, 1ULL << 40, 8ULL << 20, 12, true);  // 4 KiB leaves
  Iommu m = make_iommu(256);
  IommuDomain d{1, pt.get(), nullptr};
  Xlate x = m.translate(d, 0, 0x1000);
  EXPECT_TRUE(x.present);
  EXPECT_EQ(x.mem_reads, 4);  // cold: PML4, PDPT, PD, PT
  EXPECT_EQ(m.latency_ns(x), 5u + 4 * 70);
  x = m.translate(d, 0, 0x1000);
  EXPECT_TRUE(x.iotlb_hit);
  EXPECT_EQ(x.mem_reads, 0);
  x = m.translate(d, 0, 0x2000);  // same 2 MiB: the PDE cache gives the PT
  EXPECT_EQ(x.mem_reads, 1);
  x = m.translate(d, 0, 0x200000);  // same 1 GiB, other 2 MiB: PDPTE cache gives the PD
  EXPECT_EQ(x.mem_reads, 2);
  EXPECT_EQ(x.pa, (1ULL << 40) + 0x200000);
  // Without walk caches every miss walks all four levels.
  Iommu bare = make_iommu(0);
  EXPECT_EQ(bare.translate(d, 0, 0x1000).mem_reads, 4);
  EXPECT_EQ(bare.translate(d, 0, 0x2000).mem_reads, 4);
}

TEST(Walk, LargeLeavesShortenWalks) {
  auto pt = make_page_table("vtd_ss_4level");
  pt->map(0, 1ULL << 40, 4ULL << 30, 30, true);  // 1 GiB leaves
  Iommu m = make_iommu(0);
  IommuDomain d{1, pt.get(), nullptr};
  Xlate x = m.translate(d, 0, 0x12345678);
  EXPECT_EQ(x.mem_reads, 2);
  EXPECT_EQ(x.page_lg2, 30);
  auto pt2 = make_page_table("vtd_ss_4level");
  pt2->map(0, 1ULL << 40, 4ULL << 20, 21, true);  // 2 MiB leaves
  IommuDomain d2{2, pt2.get(), nullptr};
  x = m.translate(d2, 0, 0x212345);
  EXPECT_EQ(x.mem_reads, 3);
  EXPECT_EQ(x.page_lg2, 21);
  EXPECT_EQ(x.pa, (1ULL << 40) + 0x212345);
}

TEST(Walk, AbsentPageReadsUntilTheHole) {
  auto pt = make_page_table("x86_64_5level");
  pt->map(0, 1ULL << 40, 4096, 12, true);
  Iommu m = make_iommu(0);
  IommuDomain d{1, pt.get(), nullptr};
  EXPECT_EQ(m.translate(d, 0, 0).mem_reads, 5);
  Xlate x = m.translate(d, 0, 0x1000);  // same PT, entry absent
  EXPECT_FALSE(x.present);
  EXPECT_EQ(x.mem_reads, 5);
  x = m.translate(d, 0, 1ULL << 39);  // absent at the second level
  EXPECT_FALSE(x.present);
  EXPECT_EQ(x.mem_reads, 2);
}

TEST(NestedWalk, Cold4x4Costs24Reads) {
  NestedPair n("x86_64_4level", "vtd_ss_4level", 12);
  n.s1->map(0x10000000, 0x20000000, 4096, 12, true);  // gIOVA -> GPA
  Iommu m = make_iommu(0);
  Xlate x = m.translate(n.domain(1), 0, 0x10000123);
  ASSERT_TRUE(x.present);
  EXPECT_EQ(x.mem_reads, 24);  // (4+1)(4+1)-1
  EXPECT_EQ(x.pa, (1ULL << 40) + 0x20000123);
  EXPECT_EQ(x.page_lg2, 12);
}

TEST(NestedWalk, ColdWithLargeStage2Pages) {
  // Stage-1 tables at GPA 3 GiB are 4 KiB-mapped in stage 2 (4 reads each); guest data is
  // 1 GiB-mapped (2 reads). Root 4 + 4 x (1 + 4) for the stage-1 levels... except the last
  // stage-1 read yields a data GPA: 4 + (1+4)*3 + 1 + 2 = 22.
  NestedPair n("x86_64_4level", "vtd_ss_4level", 30);
  n.s1->map(0x10000000, 0x20000000, 4096, 12, true);
  Iommu m = make_iommu(0);
  Xlate x = m.translate(n.domain(1), 0, 0x10000000);
  ASSERT_TRUE(x.present);
  EXPECT_EQ(x.mem_reads, 22);
  EXPECT_EQ(x.page_lg2, 12);  // the smaller of the two stages' leaves
}

TEST(NestedWalk, WalkCachesCutWarmWalks) {
  NestedPair n("x86_64_4level", "vtd_ss_4level", 12);
  n.s1->map(0x10000000, 0x20000000, 2ULL << 20, 12, true);
  Iommu m = make_iommu(256);
  const IommuDomain d = n.domain(1);
  // Cold, but the stage-2 walk caches warm up within the walk itself (the stage-1 tables'
  // GPAs share upper stage-2 levels), so fewer than 24.
  const int cold = m.translate(d, 0, 0x10000000).mem_reads;
  EXPECT_LT(cold, 24);
  EXPECT_GE(cold, 4 + 4 + 1);  // at least: root GPA walk, the 4 stage-1 entries, a data GPA read
  // Next page: stage-1 PDE cache gives the stage-1 PT's HPA (1 read of the PTE), then the
  // data GPA 0x20001000 walks stage 2 with its PDE cache warm (1 read).
  EXPECT_EQ(m.translate(d, 0, 0x10001000).mem_reads, 2);
  // A 2 MiB stage-1 leaf over 2 MiB stage-2 leaves: cached at 2 MiB in the IOTLB.
  NestedPair big("x86_64_4level", "vtd_ss_4level", 21);
  big.s1->map(0x40000000, 0x40000000, 2ULL << 20, 21, true);
  Iommu m2 = make_iommu(0);
  Xlate x = m2.translate(big.domain(2), 0, 0x40000010);
  ASSERT_TRUE(x.present);
  EXPECT_EQ(x.page_lg2, 21);
  // Stage-1 tables are 4 KiB-mapped in stage 2 (4 reads each): 4 + (1+4) + (1+4) + 1, then
  // the data GPA at 2 MiB: 3 reads. = 18.
  EXPECT_EQ(x.mem_reads, 18);
  EXPECT_TRUE(m2.translate(big.domain(2), 0, 0x401FFFF0).iotlb_hit);
}

TEST(NestedWalk, ArmStagesToo) {
  NestedPair n("arm64_s1_4level", "arm64_s2_4level", 12);
  n.s1->map(0x10000000, 0x20000000, 4096, 12, false);
  Iommu m = make_iommu(0);
  Xlate x = m.translate(n.domain(1), 0, 0x10000008);
  ASSERT_TRUE(x.present);
  EXPECT_EQ(x.mem_reads, 24);
  EXPECT_FALSE(x.writable);  // stage 1 read-only wins
}

TEST(Invalidation, NoLookupReturnsTheOldTranslationAfterwards) {
  auto pt = make_page_table("vtd_ss_4level");
  pt->map(0, 1ULL << 40, 4ULL << 20, 12, true);
  Iommu m = make_iommu(256);
  IommuDomain d{3, pt.get(), nullptr};
  for (uint64_t va = 0; va < (4u << 20); va += 4096) ASSERT_TRUE(m.translate(d, 0, va).present);
  // Unmap a range, then invalidate it: every page of it now faults; the rest still hits.
  pt->unmap(0x100000, 0x10000);
  m.invalidate({make_asid(3, 0), kAsidDomainMask, 0x100000, 0x110000});
  for (uint64_t va = 0; va < (4u << 20); va += 4096) {
    const Xlate x = m.translate(d, 0, va);
    EXPECT_EQ(x.present, va < 0x100000 || va >= 0x110000) << std::hex << va;
  }
  // Unmapping a whole 2 MiB span frees its table: the walk cache must not point at it.
  pt->unmap(0x200000, 2u << 20);
  m.invalidate({make_asid(3, 0), kAsidDomainMask, 0x200000, 0x400000});
  pt->map(0x200000, 2ULL << 40, 2u << 20, 12, true);  // a new table, new PAs
  const Xlate x = m.translate(d, 0, 0x234000);
  ASSERT_TRUE(x.present);
  EXPECT_EQ(x.pa, (2ULL << 40) + 0x34000);
}

TEST(Invalidation, Stage2ChangeFlushesNestedTranslations) {
  NestedPair n("x86_64_4level", "vtd_ss_4level", 12);
  n.s1->map(0x10000000, 0x20000000, 4096, 12, true);
  Iommu m = make_iommu(256);
  const IommuDomain d = n.domain(4);
  ASSERT_TRUE(m.translate(d, 0, 0x10000000).present);
  n.s2->unmap(0x20000000, 4096);  // the host takes the guest page away
  m.invalidate_stage2(4, 0x20000000, 0x20001000);
  EXPECT_FALSE(m.translate(d, 0, 0x10000000).present);
}
