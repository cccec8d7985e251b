// The correctness checker (on in every test; engine.checker or --checker in a run).
//
// Checks the rule the batch rule must keep: once an invalidation has completed, no DMA uses
// what it removed. A "use" is a DMA that translated va to pa at simulated time t (a write
// used a writable translation). Device actors run up to one quantum ahead of SimGrid time,
// so a use can be seen before the change that makes it stale (in event order) or after it;
// both are caught:
//  - Zaps (a page unmapped, or moved to another PA). Every zap of a page is tracked apart,
//    with the PA it took away, so overlapping zaps of one page (a second before the first's
//    invalidation completed) are exact. A use seen before a zap counts against it when its
//    time is at or after that zap's completion. A use seen after a zap whose translation no
//    longer matches the table belongs to the pending zap that took that PA away (the oldest
//    such), and is stale at or after its completion, checked at once when the completion is
//    known and at completion otherwise.
//  - Write-protects (dirty logging): a write that used a writable translation of a page the
//    table now has read-only is stale at or after the completion of the invalidation that
//    followed the write-protect: seen after the protect, checked against its completion; seen
//    before it, its time is checked when the completion is known.
// Counted apart: stale_translation_uses (zaps) and stale_permission_uses (write-protects).
// Does not check: translations of pages never zapped or protected (nothing makes them stale).
#pragma once
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "models/common/sizes.hpp"
#include "models/iommu/iommu.hpp"
#include "models/pagetable/page_table.hpp"

namespace iopf {

class Checker {
 public:
  // A DMA used pa for va in domain `dom` (whose current table is pt) at time t.
  void on_use(uint32_t dom, const PageTable& pt, uint64_t va, uint64_t pa, uint64_t t, bool write) {
    WalkOut o;
    pt.walk(va, &o);
    on_use_walked(dom, o, va, pa, t, write);
  }
  // The same for a domain as the IOMMU sees it (nested: through both stages).
  void on_use(const IommuDomain& d, uint64_t va, uint64_t pa, uint64_t t, bool write) {
    WalkOut o;
    resolve(d, va, &o);
    on_use_walked(d.id, o, va, pa, t, write);
  }

  // What the tables of d translate va to now (nested: stage 1, then stage 2).
  static void resolve(const IommuDomain& d, uint64_t va, WalkOut* o) {
    if (!d.stage1) return d.table->walk(va, o);
    d.stage1->walk(va, o);
    if (!o->present) return;
    WalkOut s2;
    d.table->walk(o->pa, &s2);
    o->present = s2.present;
    o->writable = o->writable && s2.writable;
    o->pa = s2.pa;
  }

 private:
  void on_use_walked(uint32_t dom, const WalkOut& o, uint64_t va, uint64_t pa, uint64_t t, bool write) {
    ++uses_;
    if (write && o.present && !o.writable) on_stale_write(dom, t);
    PageState& s = pages_[key(dom, va)];
    s.max_use_ns = std::max(s.max_use_ns, t);
    if (write) s.max_write_ns = std::max(s.max_write_ns, t);
    if (o.present && o.pa == pa) return;  // the current translation
    // An outdated translation: it belongs to the oldest pending zap that took its PA away,
    // else to the last completed zap.
    const uint64_t page_pa = pa & ~0xFFFULL;
    for (Zap& z : s.pending)
      if (z.old_pa == page_pa || z.old_pa == kNone) {
        z.old_use_max_ns = std::max(z.old_use_max_ns, t);
        return;
      }
    if (s.done_known && t >= s.done_ns) ++stale_;
  }


 public:
  // The mapping of every page of [lo, hi) in `dom` changes now (pt is the table before the
  // change); returns the keys to pass to on_complete.
  std::vector<uint64_t> on_zap(uint32_t dom, uint64_t lo, uint64_t hi, const PageTable* pt = nullptr,
                               const IommuDomain* view = nullptr) {
    std::vector<uint64_t> keys;
    for (uint64_t va = lo; va < hi; va += kBasePageBytes) {
      PageState& s = pages_[key(dom, va)];
      uint64_t old_pa = kNone;
      if (pt || view) {
        WalkOut o;
        if (view) resolve(*view, va, &o);
        else pt->walk(va, &o);
        if (o.present) old_pa = o.pa & ~0xFFFULL;
      }
      const uint64_t id = next_zap_++;
      s.pending.push_back(Zap{id, old_pa, s.max_use_ns, 0});
      s.max_use_ns = 0;
      zap_page_[id] = key(dom, va);
      keys.push_back(id);
    }
    return keys;
  }

  // The invalidation covering those zaps completed at t_done.
  void on_complete(const std::vector<uint64_t>& keys, uint64_t t_done) {
    for (uint64_t id : keys) {
      auto zp = zap_page_.find(id);
      if (zp == zap_page_.end()) continue;
      PageState& s = pages_[zp->second];
      zap_page_.erase(zp);
      auto z = std::find_if(s.pending.begin(), s.pending.end(), [id](const Zap& x) { return x.id == id; });
      if (z == s.pending.end()) continue;
      if (z->pre_use_ns >= t_done && z->pre_use_ns != 0) ++stale_;
      if (z->old_use_max_ns >= t_done && z->old_use_max_ns != 0) ++stale_;
      s.pending.erase(z);
      s.done_known = true;
      s.done_ns = std::max(s.done_ns, t_done);
    }
  }

  // Pages of `dom` were write-protected now (pt is the table after the change); complete with
  // on_protect_complete. Writes already seen to pages now read-only are checked at completion.
  void on_write_protect(uint32_t dom, const PageTable& pt) {
    Protect& p = protects_[dom];
    p.done_known = false;
    p.pending_write_max_ns = 0;
    for (auto& [k, s] : pages_) {
      if ((k >> 52) != dom || !s.max_write_ns) continue;
      WalkOut o;
      pt.walk((k & ((1ULL << 52) - 1)) << 12, &o);
      if (o.present && !o.writable) p.pending_write_max_ns = std::max(p.pending_write_max_ns, s.max_write_ns);
      s.max_write_ns = 0;
    }
  }
  void on_protect_complete(uint32_t dom, uint64_t t_done) {
    Protect& p = protects_[dom];
    if (p.pending_write_max_ns && p.pending_write_max_ns >= t_done) ++stale_permission_;
    p.done_known = true;
    p.done_ns = t_done;
    p.pending_write_max_ns = 0;
  }

  uint64_t stale_translation_uses() const { return stale_; }
  uint64_t stale_permission_uses() const { return stale_permission_; }
  uint64_t uses_checked() const { return uses_; }

 private:
  static constexpr uint64_t kNone = ~0ULL;
  struct Zap {
    uint64_t id;
    uint64_t old_pa;          // the PA the zap took away (kNone: not known or absent)
    uint64_t pre_use_ns;      // latest use seen before the zap
    uint64_t old_use_max_ns;  // latest use of its old translation seen after it
  };
  struct PageState {
    uint64_t max_use_ns = 0;  // latest use seen since the last zap
    uint64_t max_write_ns = 0;  // latest write seen since the last write-protect
    std::vector<Zap> pending;
    uint64_t done_ns = 0;     // latest completed zap
    bool done_known = false;
  };
  struct Protect {
    bool done_known = true;
    uint64_t done_ns = 0;
    uint64_t pending_write_max_ns = 0;  // latest write to a protected page, completion unknown
  };

  void on_stale_write(uint32_t dom, uint64_t t) {
    auto it = protects_.find(dom);
    if (it == protects_.end()) return;  // never protected: read-only by mapping, not a change
    Protect& p = it->second;
    if (!p.done_known) p.pending_write_max_ns = std::max(p.pending_write_max_ns, t);
    else if (t >= p.done_ns) ++stale_permission_;
  }
  static uint64_t key(uint32_t dom, uint64_t va) { return (static_cast<uint64_t>(dom) << 52) | (va >> 12); }

  std::unordered_map<uint64_t, PageState> pages_;
  std::unordered_map<uint64_t, uint64_t> zap_page_;  // pending zap id -> page key
  std::unordered_map<uint32_t, Protect> protects_;
  uint64_t next_zap_ = 0;
  uint64_t stale_ = 0;
  uint64_t stale_permission_ = 0;
  uint64_t uses_ = 0;
};

}  // namespace iopf
