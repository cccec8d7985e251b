// A page-size-aware translation cache: the IOMMU IOTLB and the device ATC.
//
// Models: separate set-associative arrays for 4 KiB, 2 MiB and 1 GiB entries, each indexed
// by its own page number (va >> 12, >> 21, >> 30), as CPU and IOMMU TLBs split arrays by
// page size; a 2 MiB entry therefore hits for every 4 KiB page inside it whatever the set.
// Lookup probes only the arrays that hold entries, most recently hit size first.
// Entries are tagged by domain id and PASID. Default sizes: see the iommu.iotlb and
// device.atc parameter tables (sim/scenario.cpp) and their sources.
// Does not model: lookup timing (the owner adds it), negative caching.
#pragma once
#include <cstdint>

#include "models/cache/set_assoc.hpp"

namespace iopf {

struct TlbGeometry {
  uint32_t entries[3] = {0, 0, 0};  // 4 KiB, 2 MiB, 1 GiB
  uint32_t ways[3] = {1, 1, 1};
  ReplPolicy policy = ReplPolicy::kLru;
};

struct TlbHit {
  uint64_t pa;  // translated address of the va looked up
  uint8_t page_lg2;
  bool writable;
};

class Tlb {
 public:
  static constexpr unsigned kLg2[3] = {12, 21, 30};

  Tlb() = default;
  explicit Tlb(const TlbGeometry& g) { configure(g); }
  void configure(const TlbGeometry& g) {
    for (int c = 0; c < 3; ++c) arr_[c].configure(g.entries[c], g.ways[c], g.policy);
  }

  // Forced inline: the device's DMA hot path asks once per DMA (the compiler would not).
  [[gnu::always_inline]] bool lookup(uint64_t asid, uint64_t va, TlbHit* hit) {
    // Try the size class that hit last time first: streams of one page size hit in one probe.
    const int first = last_class_;
    if (probe(first, asid, va, hit)) { ++hits_; return true; }
    for (int c = 0; c < 3; ++c) {
      if (c == first) continue;
      if (probe(c, asid, va, hit)) { last_class_ = c; ++hits_; return true; }
    }
    ++misses_;
    return false;
  }

  void insert(uint64_t asid, uint64_t va, uint64_t pa, unsigned page_lg2, bool writable) {
    const int c = page_lg2 >= 30 ? 2 : page_lg2 >= 21 ? 1 : 0;
    const unsigned lg2 = kLg2[c];
    // A leaf larger than any array holds (none here) or a smaller one is cached at its class size.
    const uint64_t base = pa & ~((1ULL << lg2) - 1) & ~1ULL;
    if (arr_[c].entries() == 0) {  // no array for this size: cache the 4 KiB piece touched
      arr_[0].insert(va >> 12, asid, (pa & ~0xFFFULL) | (writable ? 1 : 0));
      return;
    }
    arr_[c].insert(va >> lg2, asid, base | (writable ? 1 : 0));
  }

  uint32_t invalidate(const InvFilter& f) {
    uint32_t n = 0;
    for (int c = 0; c < 3; ++c) n += arr_[c].invalidate(f, kLg2[c]);
    return n;
  }
  void clear() {
    for (auto& a : arr_) a.clear();
  }

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint32_t valid() const { return arr_[0].valid() + arr_[1].valid() + arr_[2].valid(); }
  const SetAssoc<uint64_t>& array(int c) const { return arr_[c]; }

 private:
  [[gnu::always_inline]] bool probe(int c, uint64_t asid, uint64_t va, TlbHit* hit) {
    if (arr_[c].valid() == 0) return false;
    const unsigned lg2 = kLg2[c];
    const uint64_t* v = arr_[c].lookup(va >> lg2, asid);
    if (!v) return false;
    hit->pa = (*v & ~1ULL) | (va & ((1ULL << lg2) - 1));
    hit->page_lg2 = static_cast<uint8_t>(lg2);
    hit->writable = *v & 1;
    return true;
  }

  SetAssoc<uint64_t> arr_[3];  // value: page base PA | writable bit

 public:
  uint64_t memory_bytes() const { return arr_[0].memory_bytes() + arr_[1].memory_bytes() + arr_[2].memory_bytes(); }

 private:
  int last_class_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace iopf
