#include "models/iommu/inv_ranges.hpp"

#include <algorithm>

#include "models/common/sizes.hpp"

namespace iopf {

namespace {

// [lo, hi) in pages, cut into aligned power-of-two blocks.
void cut(const InvFilter& tag, uint64_t lo, uint64_t hi, std::vector<InvFilter>* out) {
  while (lo < hi) {
    unsigned lg2 = 0;
    while (lg2 < kMaxInvMaskLg2 && (lo & ((2ULL << lg2) - 1)) == 0 && lo + (2ULL << lg2) <= hi) ++lg2;
    InvFilter f = tag;
    f.va_lo = lo << kBasePageLg2;
    f.va_hi = (lo + (1ULL << lg2)) << kBasePageLg2;
    out->push_back(f);
    lo += 1ULL << lg2;
  }
}

bool page_aligned(const InvFilter& f) {
  const uint64_t m = kBasePageBytes - 1;
  return f.va_hi != ~0ULL && (f.va_lo & m) == 0 && (f.va_hi & m) == 0 && f.va_hi > f.va_lo;
}

}  // namespace

std::vector<InvFilter> merge_inv_ranges(std::vector<InvFilter> filters) {
  std::vector<InvFilter> out;
  std::vector<InvFilter> pages;
  for (const InvFilter& f : filters) {
    const bool same_tag = filters.empty() || (f.asid == filters[0].asid && f.asid_mask == filters[0].asid_mask);
    (same_tag && page_aligned(f) ? pages : out).push_back(f);
  }
  std::sort(pages.begin(), pages.end(), [](const InvFilter& a, const InvFilter& b) { return a.va_lo < b.va_lo; });
  for (size_t i = 0; i < pages.size();) {
    uint64_t lo = pages[i].va_lo >> kBasePageLg2, hi = pages[i].va_hi >> kBasePageLg2;
    for (++i; i < pages.size() && (pages[i].va_lo >> kBasePageLg2) <= hi; ++i)
      hi = std::max(hi, pages[i].va_hi >> kBasePageLg2);
    cut(pages[0], lo, hi, &out);
  }
  return out;
}

}  // namespace iopf
