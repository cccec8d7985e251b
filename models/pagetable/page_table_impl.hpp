// The page table templated on format and level count. Each level is its own instantiation,
// so the walk has no per-level branching on run-time data (as Linux generic_pt does).
// Included by the registry, the tests and the benchmarks; not by the rest of the model.
#pragma once
#include <algorithm>
#include <cstring>

#include "models/pagetable/formats.hpp"
#include "models/pagetable/page_table.hpp"
#include "models/pagetable/table_memory.hpp"

namespace iopf {

template <class F, int kLevels>
class PageTableImpl final : public PageTable {
  static_assert(kLevels >= 2 && kLevels <= kMaxLevels);

 public:
  static constexpr int kVaBits = 12 + 9 * kLevels;
  static FormatInfo format_info(std::string name) {
    return FormatInfo{std::move(name), F::kFamily, kLevels, std::min(kVaBits, 64)};
  }

  PageTableImpl(std::string name, AddrHook hook) : PageTable(format_info(std::move(name)), std::move(hook)) {
    root_pa_ = alloc_table();
  }
  ~PageTableImpl() override {
    free_subtree<kLevels - 1>(root_pa_);
  }

  void map(uint64_t va, uint64_t pa, uint64_t len, unsigned max_page_lg2, bool writable) override {
    map_at<kLevels - 1>(root_pa_, va, pa, len, max_page_lg2, writable);
  }
  uint64_t unmap(uint64_t va, uint64_t len) override { return unmap_at<kLevels - 1>(root_pa_, va, len); }
  uint64_t write_protect(uint64_t va, uint64_t len) override { return protect_at<kLevels - 1>(root_pa_, va, len); }

  void walk_from(int level, uint64_t table_pa, uint64_t va, WalkOut* out) const override {
    switch (level) {
      case 4: if constexpr (kLevels > 4) { walk_level<4>(table_pa, va, out); return; } break;
      case 3: if constexpr (kLevels > 3) { walk_level<3>(table_pa, va, out); return; } break;
      case 2: walk_level<2>(table_pa, va, out); return;
      case 1: walk_level<1>(table_pa, va, out); return;
      case 0: walk_level<0>(table_pa, va, out); return;
    }
    __builtin_unreachable();
  }

  // Inline, non-virtual full walk for callers that know the concrete type (benchmarks).
  void walk_inline(uint64_t va, WalkOut* out) const { walk_level<kLevels - 1>(root_pa_, va, out); }

  StepOut step(int level, uint64_t table_hpa, uint64_t va) const override {
    uint64_t e = TableMemory::ptr(table_hpa)[(va >> (12 + 9 * level)) & 511];
    StepOut s;
    if (!F::present(e)) return s;
    bool leaf = false;
    switch (level) {
      case 0: leaf = true; break;
      case 1: leaf = F::template is_leaf<1>(e); break;
      case 2: leaf = F::template is_leaf<2>(e); break;
      case 3: leaf = F::template is_leaf<3>(e); break;
      case 4: leaf = F::template is_leaf<4>(e); break;
    }
    if (leaf) {
      s.kind = StepOut::kLeaf;
      s.addr = F::leaf_addr(e, level);
      s.writable = F::writable(e);
    } else {
      s.kind = StepOut::kTable;
      s.addr = F::table_addr(e);
    }
    return s;
  }

 private:
  uint64_t to_hpa(uint64_t entry_addr) const { return entry_addr - hook_.entry_addr_offset; }
  uint64_t to_entry(uint64_t hpa) const { return hpa + hook_.entry_addr_offset; }

  template <int L>
  void walk_level(uint64_t table, uint64_t va, WalkOut* o) const {
    const uint64_t e = TableMemory::ptr(table)[(va >> (12 + 9 * L)) & 511];
    ++o->reads;
    o->table_pa[L] = table;
    if (!F::present(e)) {
      o->present = false;
      o->page_lg2 = 12 + 9 * L;
      return;
    }
    if constexpr (L > 0) {
      if (!F::template is_leaf<L>(e)) {
        walk_level<L - 1>(to_hpa(F::table_addr(e)), va, o);
        return;
      }
    }
    o->present = true;
    o->writable = F::writable(e);
    o->page_lg2 = 12 + 9 * L;
    o->pa = F::leaf_addr(e, L) | (va & (fmt::level_bytes(L) - 1));
  }

  // Replaces a large leaf at level L by a table of 512 leaves one level down, same mapping.
  template <int L>
  uint64_t split(uint64_t* entry) {
    static_assert(L > 0);
    const uint64_t base = F::leaf_addr(*entry, L);
    const bool w = F::writable(*entry);
    const uint64_t t = alloc_table();
    uint64_t* child = TableMemory::ptr(t);
    for (uint64_t i = 0; i < 512; ++i) child[i] = F::make_leaf(base + i * fmt::level_bytes(L - 1), L - 1, w);
    *entry = F::make_table(to_entry(t), L);
    return t;
  }

  template <int L>
  void map_at(uint64_t table, uint64_t va, uint64_t pa, uint64_t len, unsigned max_lg2, bool w) {
    constexpr uint64_t kSize = fmt::level_bytes(L);
    uint64_t* t = TableMemory::ptr(table);
    if constexpr (L == 0) {  // leaf table: a straight run of entries, no per-entry decisions
      uint64_t* e = &t[(va >> 12) & 511];
      const uint64_t leaf = F::make_leaf(pa, 0, w);
      for (uint64_t i = 0, n = len >> 12; i < n; ++i) e[i] = leaf + (i << 12);
      return;
    }
    while (len) {
      uint64_t* e = &t[(va >> (12 + 9 * L)) & 511];
      const uint64_t chunk = std::min(len, ((va | (kSize - 1)) + 1) - va);
      bool done = false;
      if constexpr (F::leaf_allowed(L)) {
        if (chunk == kSize && (pa & (kSize - 1)) == 0 && 12 + 9 * L <= static_cast<int>(max_lg2)) {
          if constexpr (L > 0)
            if (F::present(*e) && !F::template is_leaf<L>(*e)) free_subtree<L - 1>(to_hpa(F::table_addr(*e)));
          *e = F::make_leaf(pa, L, w);
          done = true;
        }
      }
      if constexpr (L > 0) {
        if (!done) {
          uint64_t next;
          if (!F::present(*e)) {
            next = alloc_table();
            *e = F::make_table(to_entry(next), L);
          } else if (F::template is_leaf<L>(*e)) {
            next = split<L>(e);
          } else {
            next = to_hpa(F::table_addr(*e));
          }
          map_at<L - 1>(next, va, pa, chunk, max_lg2, w);
        }
      }
      va += chunk;
      pa += chunk;
      len -= chunk;
    }
  }

  template <int L>
  uint64_t unmap_at(uint64_t table, uint64_t va, uint64_t len) {
    constexpr uint64_t kSize = fmt::level_bytes(L);
    uint64_t* t = TableMemory::ptr(table);
    uint64_t removed = 0;
    if constexpr (L == 0) {
      uint64_t* e = &t[(va >> 12) & 511];
      for (uint64_t i = 0, n = len >> 12; i < n; ++i) {
        removed += F::present(e[i]) ? kSize : 0;
        e[i] = 0;
      }
      return removed;
    }
    while (len) {
      uint64_t* e = &t[(va >> (12 + 9 * L)) & 511];
      const uint64_t chunk = std::min(len, ((va | (kSize - 1)) + 1) - va);
      if (F::present(*e)) {
        if (F::template is_leaf<L>(*e)) {
          if (chunk == kSize) {
            *e = 0;
            removed += kSize;
          } else if constexpr (L > 0) {
            removed += unmap_at<L - 1>(split<L>(e), va, chunk);
          }
        } else if constexpr (L > 0) {
          const uint64_t next = to_hpa(F::table_addr(*e));
          if (chunk == kSize) {
            removed += free_subtree<L - 1>(next);
            *e = 0;
          } else {
            removed += unmap_at<L - 1>(next, va, chunk);
          }
        }
      }
      va += chunk;
      len -= chunk;
    }
    return removed;
  }

  template <int L>
  uint64_t protect_at(uint64_t table, uint64_t va, uint64_t len) {
    constexpr uint64_t kSize = fmt::level_bytes(L);
    uint64_t* t = TableMemory::ptr(table);
    uint64_t done = 0;
    while (len) {
      uint64_t* e = &t[(va >> (12 + 9 * L)) & 511];
      const uint64_t chunk = std::min(len, ((va | (kSize - 1)) + 1) - va);
      if (F::present(*e)) {
        if (F::template is_leaf<L>(*e)) {
          if (chunk == kSize || L == 0) {
            if (F::writable(*e)) {
              *e = F::make_leaf(F::leaf_addr(*e, L), L, false);
              done += kSize;
            }
          } else if constexpr (L > 0) {
            done += protect_at<L - 1>(split<L>(e), va, chunk);
          }
        } else if constexpr (L > 0) {
          done += protect_at<L - 1>(to_hpa(F::table_addr(*e)), va, chunk);
        }
      }
      va += chunk;
      len -= chunk;
    }
    return done;
  }

  // Frees table `table` (level L) and everything below; returns the bytes it mapped.
  template <int L>
  uint64_t free_subtree(uint64_t table) {
    uint64_t* t = TableMemory::ptr(table);
    uint64_t mapped = 0;
    for (int i = 0; i < 512; ++i) {
      if (!F::present(t[i])) continue;
      if constexpr (L > 0) {
        if (!F::template is_leaf<L>(t[i])) {
          mapped += free_subtree<L - 1>(to_hpa(F::table_addr(t[i])));
          continue;
        }
      }
      mapped += fmt::level_bytes(L);
    }
    free_table(table);
    return mapped;
  }
};

}  // namespace iopf
