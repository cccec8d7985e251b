// Page sizes that mean a page size, named once.
#pragma once
#include <cstdint>

namespace iopf {

constexpr unsigned kBasePageLg2 = 12;  // 4 KiB: the smallest page every format maps
constexpr uint64_t kBasePageBytes = 1ULL << kBasePageLg2;
constexpr uint64_t kBasePageMask = kBasePageBytes - 1;
constexpr unsigned kHugePageLg2 = 21;  // 2 MiB: a THP, a level-2 leaf
constexpr uint64_t kHugePageBytes = 1ULL << kHugePageLg2;

}  // namespace iopf
