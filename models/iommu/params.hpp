// The IOMMU's parameters, as the scenario's "iommu" object gives them (the loader fills
// this; defaults and their sources are in the iommu parameter tables, sim/scenario.cpp).
#pragma once
#include <cstdint>

#include "models/cache/tlb.hpp"
#include "models/common/enum_table.hpp"

namespace iopf {

// A page request that finds the PRQ full.
enum class PrqOverflow : uint8_t { kAutoSuccess, kDrop };
inline constexpr EnumTable<PrqOverflow, 2> kPrqOverflowNames{
    {{PrqOverflow::kAutoSuccess, "auto_success"}, {PrqOverflow::kDrop, "drop"}}};

struct WalkCacheSpec {
  uint32_t entries = 0;  // per level
  uint32_t ways = 0;
  ReplPolicy policy = ReplPolicy::kLru;
};

struct IommuSpec {
  TlbGeometry iotlb;
  WalkCacheSpec walk_cache;
  uint64_t iotlb_lookup_ns = 0;
  uint64_t walk_mem_read_ns = 0;
  uint64_t ats_translation_ns = 0;  // IOMMU work per ATS translation request, before any walk
  uint32_t walkers = 16;            // page-walk slots
  uint32_t prq_depth = 0;           // capacity, in entries
  uint64_t prq_handling_ns = 0;     // IOMMU work to queue one page request and raise it to the host
  uint32_t inv_queue_depth = 0;     // invalidation queue descriptors
  uint64_t inv_desc_ns = 0;         // IOMMU work per IOTLB/walk-cache invalidation descriptor
  uint64_t inv_wait_ns = 0;         // wait descriptor: completion write after all before it
  uint64_t inv_desc_interval_ns = 0;  // between descriptors of one batch (the IOMMU pipelines them)
  PrqOverflow prq_overflow = PrqOverflow::kAutoSuccess;
  bool walks_set_accessed = false;  // walks set accessed bits in the domain's (shared) table
};

}  // namespace iopf
