// Paging-structure ("walk") caches for one translation stage.
//
// Models: one set-associative cache per non-leaf level L >= 1, keyed by (asid, va >> (12 +
// 9L)) and holding the host PA of the level L-1 table that entry points to (Intel's PML4E,
// PDPTE and PDE caches; Arm's walk caches). A walk probes the deepest level first and
// starts below the deepest hit. Non-present entries are not cached.
// Default size: 256 entries per level (MMU-600 TCU, Agilex 5 HPS TRM).
// Does not model: caching of leaf entries here (the IOTLB does that), partial-walk timing.
#pragma once
#include <cstdint>

#include "models/cache/set_assoc.hpp"
#include "models/pagetable/page_table.hpp"

namespace iopf {

class WalkCaches {
 public:
  void configure(uint32_t entries, uint32_t ways, ReplPolicy p) {
    for (int l = 1; l < kMaxLevels; ++l) lvl_[l].configure(entries, ways, p);
  }
  // Returns the level to start walking at and sets *table to the table to read there.
  int probe(uint64_t asid, uint64_t va, int levels, uint64_t root, uint64_t* table) {
    for (int l = 1; l < levels; ++l) {
      if (const uint64_t* t = lvl_[l].lookup(va >> (12 + 9 * l), asid)) {
        ++hits_;
        *table = *t;
        return l - 1;
      }
    }
    ++misses_;
    *table = root;
    return levels - 1;
  }
  // Caches every table pointer the walk followed, from start_level down.
  void fill(uint64_t asid, uint64_t va, const WalkOut& o, int start_level) {
    const int end_level = (o.page_lg2 - 12) / 9;  // level the walk stopped at
    for (int l = end_level + 1; l <= start_level; ++l) lvl_[l].insert(va >> (12 + 9 * l), asid, o.table_pa[l - 1]);
  }
  void insert(int level, uint64_t asid, uint64_t va, uint64_t table) { lvl_[level].insert(va >> (12 + 9 * level), asid, table); }
  const uint64_t* lookup(int level, uint64_t asid, uint64_t va) { return lvl_[level].lookup(va >> (12 + 9 * level), asid); }
  uint32_t invalidate(const InvFilter& f) {
    uint32_t n = 0;
    for (int l = 1; l < kMaxLevels; ++l) n += lvl_[l].invalidate(f, 12 + 9 * l);
    return n;
  }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t memory_bytes() const {
    uint64_t b = 0;
    for (const auto& l : lvl_) b += l.memory_bytes();
    return b;
  }

 private:
  SetAssoc<uint64_t> lvl_[kMaxLevels];
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace iopf
