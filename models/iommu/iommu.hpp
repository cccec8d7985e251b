// The IOMMU's translation pipeline: IOTLB, walk caches and the page walker, single stage
// or nested (stage 1 over stage 2).
//
// Models: an untranslated request or ATS translation request looks up the IOTLB (tagged by
// domain id and PASID); on a miss the walker reads one entry per level, skipping levels
// the walk caches cover. A nested walk translates every stage-1 table pointer (a GPA) and
// the final GPA through stage 2, so a cold 4x4-level walk reads (4+1)(4+1)-1 = 24 entries.
// Invalidation removes matching IOTLB and walk-cache entries at once; the time it takes
// (queue, wait descriptor, ATC round trips) is modelled by the engine around this.
// Latency is returned, not slept: the caller accumulates it (the hot path costs no SimGrid event).
// Contention (timed_latency_ns, ats_front_ns): walks of every device share the walker slots,
// and ATS translation requests queue at the front end (models/iommu/walkers.hpp).
// Does not model: permission faults other than write-to-read-only, PASID-table and
// context-cache lookups, a walk's reads overlapping memory traffic of DMAs.
#pragma once
#include <cmath>
#include <cstdint>

#include "models/cache/tlb.hpp"
#include "models/common/stats.hpp"
#include "models/iommu/walk_cache.hpp"
#include "models/iommu/walkers.hpp"
#include "models/pagetable/page_table.hpp"

namespace iopf {

// What one IOMMU domain looks like to the translation pipeline.
struct IommuDomain {
  uint32_t id = 0;
  PageTable* table = nullptr;  // single stage; in nested mode the stage 2 (GPA -> HPA)
  PageTable* stage1 = nullptr; // nested mode only: gIOVA -> GPA, table pointers are GPAs
};

struct Xlate {
  bool present = false;
  bool writable = false;
  bool iotlb_hit = false;
  uint8_t page_lg2 = 12;
  uint16_t mem_reads = 0;
  uint64_t pa = 0;
};

struct IommuTiming {
  uint64_t iotlb_lookup_ns = 0;
  uint64_t walk_mem_read_ns = 0;
  uint64_t ats_translation_ns = 0;
};

class Iommu {
 public:
  void configure(const TlbGeometry& iotlb, uint32_t wc_entries, uint32_t wc_ways, ReplPolicy wc_policy,
                 const IommuTiming& t) {
    iotlb_.configure(iotlb);
    wc_s1_.configure(wc_entries, wc_ways, wc_policy);
    wc_s2_.configure(wc_entries, wc_ways, wc_policy);
    timing_ = t;
  }
  // Contention: `walkers` walk slots; bins kept keep_ns behind the latest request.
  void configure_contention(uint32_t walkers, uint64_t keep_ns) { walkers_.configure(walkers, keep_ns); }

  // Hot path. Latency of this translation = latency_ns(result).
  Xlate translate(const IommuDomain& d, uint32_t pasid, uint64_t va) {
    Xlate x;
    const uint64_t asid = make_asid(d.id, pasid);
    TlbHit h;
    if (iotlb_.lookup(asid, va, &h)) {
      x.present = true;
      x.iotlb_hit = true;
      x.pa = h.pa;
      x.page_lg2 = h.page_lg2;
      x.writable = h.writable;
      return x;
    }
    ++walks_;
    if (d.stage1) nested_walk(d, asid, va, &x);
    else single_walk(*d.table, &wc_s1_, asid, va, &x);
    walk_mem_reads_ += x.mem_reads;
    if (x.present) iotlb_.insert(asid, va, x.pa, x.page_lg2, x.writable);
    return x;
  }

  // Unloaded latency of a translation.
  uint64_t latency_ns(const Xlate& x) const {
    return timing_.iotlb_lookup_ns + static_cast<uint64_t>(x.mem_reads) * timing_.walk_mem_read_ns;
  }
  // Latency of translation x looked up at t, with its wait for a walker slot.
  uint64_t timed_latency_ns(const Xlate& x, uint64_t t, bool counted) {
    const uint64_t unloaded = latency_ns(x);
    if (x.mem_reads == 0 || !walkers_.configured()) return unloaded;
    const uint64_t work = static_cast<uint64_t>(x.mem_reads) * timing_.walk_mem_read_ns;
    return unloaded + walkers_.walk_wait_ns(t + timing_.iotlb_lookup_ns, work, counted);
  }
  // An ATS translation request reaching the IOMMU at t: when its lookup can start.
  uint64_t ats_front_ns(uint64_t t, bool counted) {
    if (!walkers_.configured()) return t + timing_.ats_translation_ns;
    return walkers_.ats_front_ns(t, timing_.ats_translation_ns, counted);
  }
  const Walkers& walkers() const { return walkers_; }

  // Removes cached translations the filter selects: IOTLB and, unless leaf_only, both
  // stages' walk caches (a conservative flush, as VT-d does without the IH hint).
  // Returns entries removed.
  uint32_t invalidate(const InvFilter& f, bool leaf_only = false) {
    uint32_t n = iotlb_.invalidate(f);
    if (!leaf_only) n += wc_s1_.invalidate(f) + wc_s2_.invalidate(f);
    return n;
  }
  // A stage-2 change in nested mode: GPA ranges are not IOVA ranges, so every stage-1-derived
  // translation of the domain goes (VT-d flushes nested IOTLB entries by domain the same way).
  uint32_t invalidate_stage2(uint32_t domain_id, uint64_t gpa_lo, uint64_t gpa_hi) {
    InvFilter dom{make_asid(domain_id, 0), kAsidDomainMask, 0, ~0ULL};
    InvFilter s2{make_asid(domain_id, 0) | kStage2AsidBit, kAsidDomainMask, gpa_lo, gpa_hi};
    return iotlb_.invalidate(dom) + wc_s1_.invalidate(dom) + wc_s2_.invalidate(s2);
  }

  Tlb& iotlb() { return iotlb_; }
  const Tlb& iotlb() const { return iotlb_; }
  // The IOTLB and walk caches as the simulator holds them (sim.memory).
  uint64_t cache_memory_bytes() const { return iotlb_.memory_bytes() + wc_s1_.memory_bytes() + wc_s2_.memory_bytes(); }
  const WalkCaches& walk_cache_s1() const { return wc_s1_; }
  uint64_t walks() const { return walks_; }
  uint64_t walk_mem_reads() const { return walk_mem_reads_; }
  const IommuTiming& timing() const { return timing_; }

  // Stage-2 walk-cache entries are tagged apart from stage-1 ones of the same domain.
  static constexpr uint64_t kStage2AsidBit = 1ULL << 31;

 private:
  static void single_walk(const PageTable& pt, WalkCaches* wc, uint64_t asid, uint64_t va, Xlate* x) {
    uint64_t table;
    const int start = wc->probe(asid, va, pt.levels(), pt.root_pa(), &table);
    WalkOut o;
    pt.walk_from(start, table, va, &o);
    x->mem_reads += o.reads;
    x->present = o.present;
    x->writable = o.writable;
    x->page_lg2 = o.page_lg2;
    x->pa = o.pa;
    wc->fill(asid, va, o, start);
  }

  void nested_walk(const IommuDomain& d, uint64_t asid, uint64_t va, Xlate* x) {
    const PageTable& s1 = *d.stage1;
    const PageTable& s2 = *d.table;
    const uint64_t s2_asid = make_asid(d.id, 0) | kStage2AsidBit;
    const int64_t gpa_off = s1.entry_addr_offset();
    // Stage-1 walk caches hold host PAs of stage-1 tables, already translated.
    uint64_t table_hpa = 0;
    int level = s1.levels() - 1;
    bool cached = false;
    for (int l = 1; l < s1.levels() && !cached; ++l) {
      if (const uint64_t* t = wc_s1_.lookup(l, asid, va)) {
        table_hpa = *t;
        level = l - 1;
        cached = true;
      }
    }
    if (!cached) {
      Xlate r;  // the root pointer is a GPA too
      single_walk(s2, &wc_s2_, s2_asid, s1.root_pa() + gpa_off, &r);
      x->mem_reads += r.mem_reads;
      if (!r.present) return;
      table_hpa = r.pa;
    }
    uint8_t s1_lg2 = 12;
    uint64_t gpa = 0;
    for (;; --level) {
      const StepOut s = s1.step(level, table_hpa, va);
      ++x->mem_reads;
      if (s.kind == StepOut::kAbsent) {
        x->page_lg2 = static_cast<uint8_t>(12 + 9 * level);
        return;
      }
      if (s.kind == StepOut::kLeaf) {
        s1_lg2 = static_cast<uint8_t>(12 + 9 * level);
        gpa = s.addr | (va & ((1ULL << s1_lg2) - 1));
        x->writable = s.writable;
        break;
      }
      Xlate r;
      single_walk(s2, &wc_s2_, s2_asid, s.addr, &r);
      x->mem_reads += r.mem_reads;
      if (!r.present) return;
      table_hpa = r.pa;
      wc_s1_.insert(level, asid, va, table_hpa);
    }
    Xlate r;
    single_walk(s2, &wc_s2_, s2_asid, gpa, &r);
    x->mem_reads += r.mem_reads;
    if (!r.present) return;
    x->present = true;
    x->writable = x->writable && r.writable;
    x->page_lg2 = s1_lg2 < r.page_lg2 ? s1_lg2 : r.page_lg2;  // the IOTLB caches the smaller
    x->pa = r.pa;
  }

  Tlb iotlb_;
  WalkCaches wc_s1_;  // single stage, or stage 1 of nested
  WalkCaches wc_s2_;  // stage 2 of nested
  IommuTiming timing_;
  Walkers walkers_;
  uint64_t walks_ = 0;
  uint64_t walk_mem_reads_ = 0;
};

}  // namespace iopf
