// The correctness checker (on in every test; engine.checker or --checker in a run).
//
// Checks the rule the batch rule must keep: once an invalidation has completed, no DMA uses
// the translation it removed. A "use" is a DMA that translated va to pa at simulated time t.
// Path actors run up to one quantum ahead of SimGrid time, so a use can be seen before the
// zap that makes it stale (in event order) or after it; both are caught:
//  - uses seen before a zap: the latest such use time per page is kept, and when the
//    invalidation for that zap completes at t_done, a use at or after t_done is stale;
//  - uses seen after a zap whose translation no longer matches the page table (the old PA,
//    or a page now absent): stale if at or after the zap's completion, checked at once when
//    the completion is known and at completion otherwise.
// Does not check: translations of pages never zapped (nothing can make them stale).
#pragma once
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "models/pagetable/page_table.hpp"

namespace iopf {

class Checker {
 public:
  // A DMA used pa for va in domain `dom` (whose current table is pt) at time t.
  void on_use(uint32_t dom, const PageTable& pt, uint64_t va, uint64_t pa, uint64_t t) {
    ++uses_;
    PageState& s = pages_[key(dom, va)];
    if (t > s.max_use_ns) s.max_use_ns = t;
    if (!s.zapped) return;
    WalkOut o;
    pt.walk(va, &o);
    if (o.present && o.pa == pa) return;  // the current translation
    if (s.done_known) {
      if (t >= s.done_ns) ++stale_;
    } else if (t > s.old_use_max_ns) {
      s.old_use_max_ns = t;
    }
  }
  // Mappings of [lo, hi) changed now; returns the pages to pass to on_complete.
  std::vector<uint64_t> on_zap(uint32_t dom, uint64_t lo, uint64_t hi) {
    std::vector<uint64_t> keys;
    for (uint64_t va = lo; va < hi; va += 4096) {
      auto it = pages_.find(key(dom, va));
      PageState& s = it != pages_.end() ? it->second : pages_[key(dom, va)];
      s.pre_zap_use_ns = s.pre_zap_use_ns == kNone ? s.max_use_ns : std::max(s.pre_zap_use_ns, s.max_use_ns);
      s.max_use_ns = 0;
      s.zapped = true;
      s.done_known = false;
      s.old_use_max_ns = 0;
      keys.push_back(key(dom, va));
    }
    return keys;
  }
  // The invalidation covering those zaps completed at t_done.
  void on_complete(const std::vector<uint64_t>& keys, uint64_t t_done) {
    for (uint64_t k : keys) {
      PageState& s = pages_[k];
      if (s.pre_zap_use_ns != kNone && s.pre_zap_use_ns >= t_done) ++stale_;
      if (s.old_use_max_ns >= t_done) ++stale_;
      s.pre_zap_use_ns = kNone;
      s.old_use_max_ns = 0;
      s.done_known = true;
      s.done_ns = t_done;
    }
  }
  uint64_t stale_translation_uses() const { return stale_; }
  uint64_t uses_checked() const { return uses_; }

 private:
  static constexpr uint64_t kNone = ~0ULL;
  struct PageState {
    uint64_t max_use_ns = 0;       // latest use seen since the last zap
    uint64_t pre_zap_use_ns = kNone;  // latest use seen before the pending zap
    uint64_t old_use_max_ns = 0;   // latest use of an outdated translation, completion unknown
    uint64_t done_ns = 0;
    bool zapped = false;
    bool done_known = false;
  };
  static uint64_t key(uint32_t dom, uint64_t va) { return (static_cast<uint64_t>(dom) << 52) | (va >> 12); }
  std::unordered_map<uint64_t, PageState> pages_;
  uint64_t stale_ = 0;
  uint64_t uses_ = 0;
};

}  // namespace iopf
