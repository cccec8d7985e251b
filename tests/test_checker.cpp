// The checker itself, on a real page table: overlapping zaps of one page are told apart by
// the PA each took away, and writes through a translation whose write permission was removed
// count once the invalidation that followed the write-protect completed.
#include <gtest/gtest.h>

#include "models/iommu/checker.hpp"
#include "models/iommu/nested.hpp"
#include "models/pagetable/page_table.hpp"

using namespace iopf;

namespace {
constexpr uint64_t kVa = 0x10000, kA = 0x100000000, kB = 0x200000000;
}

TEST(Checker, OverlappingZapsOfOnePageAreTrackedApart) {
  auto pt = make_page_table("vtd_ss_4level");
  Checker c;
  pt->map(kVa, kA, 4096, 12, true);
  c.on_use(1, *pt, kVa, kA, 10, false);
  const auto z1 = c.on_zap(1, kVa, kVa + 4096, pt.get());  // takes A away
  pt->unmap(kVa, 4096);
  pt->map(kVa, kB, 4096, 12, true);                        // back at B before z1 completed
  c.on_use(1, *pt, kVa, kB, 20, false);
  const auto z2 = c.on_zap(1, kVa, kVa + 4096, pt.get());  // takes B away
  pt->unmap(kVa, 4096);
  c.on_complete(z1, 100);
  c.on_use(1, *pt, kVa, kB, 150, false);  // B's zap (z2) has not completed: not stale
  EXPECT_EQ(c.stale_translation_uses(), 0u);
  c.on_use(1, *pt, kVa, kA, 160, false);  // A's zap completed at 100: stale
  EXPECT_EQ(c.stale_translation_uses(), 1u);
  c.on_complete(z2, 200);                 // the use of B at 150 came before: fine
  EXPECT_EQ(c.stale_translation_uses(), 1u);
  c.on_use(1, *pt, kVa, kB, 250, false);  // after z2 completed: stale
  EXPECT_EQ(c.stale_translation_uses(), 2u);
}

TEST(Checker, UsesSeenBeforeAZapCountAtItsCompletion) {
  auto pt = make_page_table("vtd_ss_4level");
  Checker c;
  pt->map(kVa, kA, 4096, 12, true);
  c.on_use(1, *pt, kVa, kA, 300, false);  // a device ran ahead: a use at 300, seen first
  const auto z = c.on_zap(1, kVa, kVa + 4096, pt.get());
  pt->unmap(kVa, 4096);
  c.on_complete(z, 250);  // completed before that use: stale
  EXPECT_EQ(c.stale_translation_uses(), 1u);
}

TEST(Checker, WritesAfterAWriteProtectCompletedAreStalePermissionUses) {
  auto pt = make_page_table("vtd_ss_4level");
  Checker c;
  pt->map(kVa, kA, 4096, 12, true);
  c.on_use(1, *pt, kVa, kA, 10, true);  // writable: fine
  pt->write_protect(kVa, 4096);
  c.on_write_protect(1, *pt);
  c.on_use(1, *pt, kVa, kA, 50, true);   // completion unknown yet
  c.on_use(1, *pt, kVa, kA, 60, false);  // a read is never a permission problem
  c.on_protect_complete(1, 100);         // the write at 50 came before
  EXPECT_EQ(c.stale_permission_uses(), 0u);
  c.on_use(1, *pt, kVa, kA, 150, true);  // a cached writable translation after completion
  EXPECT_EQ(c.stale_permission_uses(), 1u);
  c.on_write_protect(1, *pt);
  c.on_use(1, *pt, kVa, kA, 400, true);  // seen before the completion, at 400
  c.on_protect_complete(1, 300);
  EXPECT_EQ(c.stale_permission_uses(), 2u);
  // A write seen before the protect (a device ran ahead) at a time after its completion.
  pt->map(kVa, kA, 4096, 12, true);  // writable again (a write-protect fault resolved it)
  c.on_use(1, *pt, kVa, kA, 900, true);
  pt->write_protect(kVa, 4096);
  c.on_write_protect(1, *pt);
  c.on_protect_complete(1, 800);
  EXPECT_EQ(c.stale_permission_uses(), 3u);
  EXPECT_EQ(c.stale_translation_uses(), 0u);
}

// A nested domain (stage 1 gIOVA -> GPA over stage 2 GPA -> HPA): the checker resolves the
// current translation through both stages, so an unmap in stage 1 makes the old HPA stale
// once its flush completed, and a use through the current mapping never is.
TEST(Checker, NestedTranslationsResolveThroughBothStages) {
  auto s2 = make_page_table("vtd_ss_4level");
  auto s1 = make_stage1_over("x86_64_4level", s2.get(), 1ULL << 40);
  const uint64_t gpa = 0x200000, hpa = kA + gpa;
  s2->map(0, kA, 1ULL << 30, 21, true);   // guest memory
  s1->map(kVa, gpa, 4096, 12, true);      // the guest's mapping
  const IommuDomain view{3, s2.get(), s1.get()};
  WalkOut o;
  Checker::resolve(view, kVa + 0x40, &o);
  ASSERT_TRUE(o.present);
  EXPECT_EQ(o.pa, hpa + 0x40);
  Checker c;
  c.on_use(view, kVa, hpa, 10, true);
  const auto z = c.on_zap(view.id, kVa, kVa + 4096, nullptr, &view);
  s1->unmap(kVa, 4096);
  c.on_use(view, kVa, hpa, 50, true);  // before the flush completed: allowed
  c.on_complete(z, 100);
  EXPECT_EQ(c.stale_translation_uses(), 0u);
  c.on_use(view, kVa, hpa, 150, true);  // after it: stale
  EXPECT_EQ(c.stale_translation_uses(), 1u);
  s1->map(kVa, gpa + 4096, 4096, 12, true);  // the IOVA reused for another page
  c.on_use(view, kVa, hpa + 4096, 200, true);
  EXPECT_EQ(c.stale_translation_uses(), 1u);
}
