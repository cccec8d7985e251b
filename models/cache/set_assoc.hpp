// A set-associative array of tagged entries with a replacement policy: the building block
// of the IOTLB, the device ATC and the walk caches.
//
// Models: tag match on (tag, asid) where asid = domain id << 32 | PASID, set index from the
// low bits of the tag (so each page-size class is indexed by its own page number), LRU or
// FIFO replacement within a set.
// Does not model: timing (the owner adds lookup and fill latencies), parity, locking entries.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/enum_table.hpp"

namespace iopf {

enum class ReplPolicy : uint8_t {
  kLru,   // true LRU by access stamp: evicts the least recently used way
  kFifo,  // cheaper: round-robin victim pointer per set, nothing updated on a hit
};
inline constexpr EnumTable<ReplPolicy, 2> kReplPolicyNames{{{ReplPolicy::kLru, "lru"}, {ReplPolicy::kFifo, "fifo"}}};

// Which entries an invalidation removes: asid bits under asid_mask must equal asid, and the
// entry's span must overlap [va_lo, va_hi) (an empty range means every address).
struct InvFilter {
  uint64_t asid = 0;
  uint64_t asid_mask = 0;
  uint64_t va_lo = 0;
  uint64_t va_hi = ~0ULL;
};

constexpr uint64_t make_asid(uint32_t domain_id, uint32_t pasid) {
  return (static_cast<uint64_t>(domain_id) << 32) | pasid;
}
constexpr uint64_t kAsidDomainMask = 0xFFFF'FFFF'0000'0000ULL;

template <class V>
class SetAssoc {
 public:
  static constexpr uint64_t kEmpty = ~0ULL;
  struct Way {
    uint64_t tag = kEmpty;
    uint64_t asid = 0;
    uint64_t stamp = 0;
    V value{};
  };

  SetAssoc() = default;
  SetAssoc(uint32_t entries, uint32_t ways, ReplPolicy policy) { configure(entries, ways, policy); }

  void configure(uint32_t entries, uint32_t ways, ReplPolicy policy) {
    if (entries == 0) { sets_ = 0; ways_ = 0; ways_v_.clear(); return; }
    if (ways == 0 || entries % ways) throw std::invalid_argument("cache entries must be a multiple of ways");
    const uint32_t sets = entries / ways;
    if (sets & (sets - 1)) throw std::invalid_argument("cache sets (entries/ways) must be a power of two");
    sets_ = sets;
    ways_ = ways;
    policy_ = policy;
    ways_v_.assign(static_cast<size_t>(entries), Way{});
    rr_.assign(sets, 0);
    valid_ = 0;
  }

  uint32_t entries() const { return sets_ * ways_; }
  uint32_t valid() const { return valid_; }

  // Hot path: a hit returns the value (and refreshes LRU); a miss returns nullptr.
  V* lookup(uint64_t tag, uint64_t asid) {
    if (sets_ == 0) return nullptr;
    Way* set = &ways_v_[static_cast<size_t>(tag & (sets_ - 1)) * ways_];
    // Without a branch per way: which way hits is random, a branch on it mispredicts. At most
    // one way holds (tag, asid) (insert refreshes an existing one), so any match is the match.
    // The usual associativities unrolled: a loop over ways_ costs as much as the compares.
    const uint32_t hit = ways_ == 4   ? find_way(set, 4, tag, asid)
                         : ways_ == 8 ? find_way(set, 8, tag, asid)
                                      : find_way(set, ways_, tag, asid);
    if (hit == ways_) return nullptr;
    if (policy_ == ReplPolicy::kLru) set[hit].stamp = ++clock_;
    return &set[hit].value;
  }

  // Inserts or refreshes (tag, asid). Returns true when a valid entry was evicted.
  bool insert(uint64_t tag, uint64_t asid, const V& v) {
    if (sets_ == 0) return false;
    const uint32_t set_idx = static_cast<uint32_t>(tag & (sets_ - 1));
    Way* set = &ways_v_[static_cast<size_t>(set_idx) * ways_];
    Way* victim = nullptr;
    for (uint32_t w = 0; w < ways_; ++w) {
      if (set[w].tag == tag && set[w].asid == asid) { victim = &set[w]; break; }
    }
    bool evicted = false;
    if (!victim) {
      for (uint32_t w = 0; w < ways_ && !victim; ++w)
        if (set[w].tag == kEmpty) victim = &set[w];
      if (!victim) {
        evicted = true;
        if (policy_ == ReplPolicy::kLru) {
          victim = &set[0];
          for (uint32_t w = 1; w < ways_; ++w)
            if (set[w].stamp < victim->stamp) victim = &set[w];
        } else {
          victim = &set[rr_[set_idx]];
          rr_[set_idx] = (rr_[set_idx] + 1) % ways_;
        }
      } else {
        ++valid_;
      }
    }
    victim->tag = tag;
    victim->asid = asid;
    victim->value = v;
    victim->stamp = ++clock_;
    return evicted;
  }

  // Removes the entries the filter selects; tag_lg2 is this array's page size (tag = va >> tag_lg2).
  // Probes only the sets a small range maps to; scans everything for a large or global one.
  uint32_t invalidate(const InvFilter& f, unsigned tag_lg2) {
    if (sets_ == 0 || valid_ == 0) return 0;
    uint32_t removed = 0;
    const uint64_t first = f.va_lo >> tag_lg2;
    const uint64_t last = f.va_hi == ~0ULL ? ~0ULL : (f.va_hi - 1) >> tag_lg2;  // inclusive
    auto match = [&](const Way& w) {
      return w.tag != kEmpty && ((w.asid ^ f.asid) & f.asid_mask) == 0 && w.tag >= first && w.tag <= last;
    };
    auto clear_set = [&](uint64_t set_idx) {
      Way* set = &ways_v_[static_cast<size_t>(set_idx) * ways_];
      for (uint32_t w = 0; w < ways_; ++w)
        if (match(set[w])) { set[w].tag = kEmpty; ++removed; }
    };
    if (last != ~0ULL && last - first < sets_) {
      for (uint64_t t = first; t <= last; ++t) clear_set(t & (sets_ - 1));
    } else {
      for (uint64_t s = 0; s < sets_; ++s) clear_set(s);
    }
    valid_ -= removed;
    return removed;
  }

  void clear() {
    for (Way& w : ways_v_) w.tag = kEmpty;
    valid_ = 0;
  }

  // What the simulator itself holds for this array (sim.memory in the report).
  uint64_t memory_bytes() const { return ways_v_.capacity() * sizeof(Way) + rr_.capacity() * sizeof(uint32_t); }

  template <class Fn>
  void for_each_valid(Fn fn) const {
    for (const Way& w : ways_v_)
      if (w.tag != kEmpty) fn(w);
  }

 private:
  // The way of set holding (tag, asid), or ways when none does. Inline, so a literal ways
  // unrolls the loop.
  // (One compare of the two xors' or: GCC turns `tag == && asid ==` into a branch on the tag.)
  [[gnu::always_inline]] static uint32_t find_way(const Way* set, uint32_t ways, uint64_t tag, uint64_t asid) {
    uint32_t hit = ways;
#pragma GCC unroll 8
    for (uint32_t w = 0; w < ways; ++w) {
      const bool match = ((set[w].tag ^ tag) | (set[w].asid ^ asid)) == 0;
      hit = match ? w : hit;
    }
    return hit;
  }

  std::vector<Way> ways_v_;
  std::vector<uint32_t> rr_;
  uint32_t sets_ = 0;
  uint32_t ways_ = 0;
  uint32_t valid_ = 0;
  uint64_t clock_ = 0;
  ReplPolicy policy_ = ReplPolicy::kLru;
};

}  // namespace iopf
