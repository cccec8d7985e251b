// Google Benchmark programs for the translation hot path. Family names are stable for
// dashboards: BM_IotlbLookupHit, BM_IotlbLookupMiss, BM_Walk/<format>/<leaf>,
// BM_NestedWalk/<stage1>/<stage2>/<cache>, BM_Map4K/<format>, BM_Map256x4K/<format>,
// BM_Unmap4K/<format>, BM_Unmap256x4K/<format>, BM_InvalidatePage, BM_InvalidateRange,
// BM_InvalidateDomain.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "models/iommu/iommu.hpp"
#include "models/iommu/nested.hpp"
#include "models/pagetable/page_table.hpp"
#include "models/pagetable/page_table_impl.hpp"
#include "models/pagetable/table_memory.hpp"
#include "models/common/rng.hpp"

using namespace iopf;

namespace {

constexpr uint64_t kPa = 1ULL << 40;

TlbGeometry default_iotlb() {  // the scenario defaults (sim/scenario.cpp)
  TlbGeometry g;
  g.entries[0] = 128; g.ways[0] = 8;
  g.entries[1] = 32; g.ways[1] = 4;
  g.entries[2] = 8; g.ways[2] = 8;
  return g;
}

void BM_IotlbLookupHit(benchmark::State& state) {
  Tlb t(default_iotlb());
  const uint64_t asid = make_asid(1, 0);
  std::vector<uint64_t> vas;
  for (uint64_t i = 0; i < 64; ++i) {
    t.insert(asid, i << 12, kPa + (i << 12), 12, true);
    vas.push_back((i << 12) + 64);
  }
  size_t i = 0;
  TlbHit h;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.lookup(asid, vas[i], &h));
    benchmark::DoNotOptimize(h);
    i = (i + 1) & 63;
  }
}
BENCHMARK(BM_IotlbLookupHit);

void BM_IotlbLookupMiss(benchmark::State& state) {
  Tlb t(default_iotlb());
  const uint64_t asid = make_asid(1, 0);
  for (uint64_t i = 0; i < 128; ++i) t.insert(asid, i << 12, kPa + (i << 12), 12, true);
  for (uint64_t i = 0; i < 32; ++i) t.insert(asid, (1ULL << 32) + (i << 21), kPa, 21, true);
  uint64_t va = 1ULL << 40;
  TlbHit h;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.lookup(asid, va, &h));
    va += 4096;
  }
}
BENCHMARK(BM_IotlbLookupMiss);

// Warm walk of a concrete format (the templated walk, no virtual call): 4096 distinct leaves
// walked round robin, the tables cache-resident as a hardware walker's would be in its caches.
template <class F, int L>
void walk_bench(benchmark::State& state, unsigned leaf_lg2) {
  PageTableImpl<F, L> pt("bench", {});
  const uint64_t n = 4096, stride = 1ULL << leaf_lg2;
  pt.map(0, kPa, n * stride, leaf_lg2, true);
  uint64_t i = 0, reads = 0, walks = 0;
  for (auto _ : state) {
    WalkOut o;
    pt.walk_inline(((i * 2654435761ULL) % n) * stride + 8, &o);
    benchmark::DoNotOptimize(o.pa);
    reads += o.reads;
    ++walks;
    ++i;
  }
  state.counters["mem_reads_per_walk"] = static_cast<double>(reads) / static_cast<double>(walks);
}

template <class F, int L>
void map_bench(benchmark::State& state, uint64_t pages) {
  PageTableImpl<F, L> pt("bench", {});
  const uint64_t span = 1ULL << 30;
  uint64_t va = 0;
  for (auto _ : state) {
    if (va + pages * 4096 > span) {
      state.PauseTiming();
      pt.unmap(0, span);
      va = 0;
      state.ResumeTiming();
    }
    pt.map(va, kPa + va, pages * 4096, 12, true);
    va += pages * 4096;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(pages));
}

template <class F, int L>
void unmap_bench(benchmark::State& state, uint64_t pages) {
  PageTableImpl<F, L> pt("bench", {});
  const uint64_t span = 64ULL << 20;
  pt.map(0, kPa, span, 12, true);
  uint64_t va = 0;
  for (auto _ : state) {
    if (va + pages * 4096 > span) {
      state.PauseTiming();
      pt.map(0, kPa, span, 12, true);  // same tables stay allocated: only leaves are rewritten
      va = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(pt.unmap(va, pages * 4096));
    va += pages * 4096;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(pages));
}

template <class F, int L>
void register_format(const std::string& name) {
  struct Leaf {
    const char* label;
    unsigned lg2;
  };
  for (Leaf leaf : {Leaf{"4K", 12}, Leaf{"2M", 21}, Leaf{"1G", 30}}) {
    if (leaf.lg2 == 30 && L < 3) continue;
    benchmark::RegisterBenchmark(("BM_Walk/" + name + "/" + leaf.label).c_str(),
                                 [leaf](benchmark::State& s) { walk_bench<F, L>(s, leaf.lg2); });
  }
  benchmark::RegisterBenchmark(("BM_Map4K/" + name).c_str(), [](benchmark::State& s) { map_bench<F, L>(s, 1); });
  benchmark::RegisterBenchmark(("BM_Map256x4K/" + name).c_str(), [](benchmark::State& s) { map_bench<F, L>(s, 256); });
  benchmark::RegisterBenchmark(("BM_Unmap4K/" + name).c_str(), [](benchmark::State& s) { unmap_bench<F, L>(s, 1); });
  benchmark::RegisterBenchmark(("BM_Unmap256x4K/" + name).c_str(),
                               [](benchmark::State& s) { unmap_bench<F, L>(s, 256); });
}

// Nested walks with the IOTLB off (every translation walks): cold = no walk caches,
// warm = default walk caches over a working set that fits them.
void nested_bench(benchmark::State& state, const std::string& f1, const std::string& f2, bool walk_caches,
                  unsigned s2_leaf_lg2) {
  NestedTables t = make_nested_tables(f1, f2, 3ULL << 30);  // the guest's table pages at 3 GiB GPA
  t.s2->map(0, kPa, 3ULL << 30, s2_leaf_lg2, true);
  const uint64_t n = 1024;
  t.s1->map(0, 0, n * 4096, 12, true);
  Iommu m;
  TlbGeometry none;
  m.configure(none, walk_caches ? 256 : 0, 4, ReplPolicy::kLru, IommuTiming{5, 70});
  const IommuDomain d = t.view(1);
  uint64_t i = 0, reads = 0, walks = 0;
  for (auto _ : state) {
    const Xlate x = m.translate(d, 0, ((i * 2654435761ULL) % n) * 4096);
    benchmark::DoNotOptimize(x.pa);
    reads += x.mem_reads;
    ++walks;
    ++i;
  }
  state.counters["mem_reads_per_walk"] = static_cast<double>(reads) / static_cast<double>(walks);
}

// Invalidation of the IOMMU's caches (IOTLB and walk caches) at their default sizes, full
// of other domains' entries; each iteration re-inserts the target and removes it.
struct InvFixture {
  Iommu m;
  std::unique_ptr<PageTable> pt = make_page_table("vtd_ss_4level");
  InvFixture() {
    m.configure(default_iotlb(), 256, 4, ReplPolicy::kLru, IommuTiming{5, 70});
    pt->map(0, kPa, 64ULL << 20, 12, true);
    for (uint32_t dom = 2; dom < 6; ++dom) {
      const IommuDomain d{dom, pt.get(), nullptr};
      for (uint64_t p = 0; p < 4096; ++p) m.translate(d, 0, p << 12);
    }
  }
};

void BM_InvalidatePage(benchmark::State& state) {
  InvFixture f;
  const uint64_t asid = make_asid(1, 0);
  uint64_t va = 0;
  for (auto _ : state) {
    f.m.iotlb().insert(asid, va, kPa + va, 12, true);
    benchmark::DoNotOptimize(f.m.invalidate({asid, ~0ULL, va, va + 4096}));
    va = (va + 4096) & ((64ULL << 20) - 1);
  }
}
BENCHMARK(BM_InvalidatePage);

void BM_InvalidateRange(benchmark::State& state) {  // 16 pages, as an address plus a 64 KiB mask
  InvFixture f;
  const uint64_t asid = make_asid(1, 0);
  uint64_t va = 0;
  for (auto _ : state) {
    f.m.iotlb().insert(asid, va, kPa + va, 12, true);
    benchmark::DoNotOptimize(f.m.invalidate({asid, ~0ULL, va, va + 16 * 4096}));
    va = (va + 16 * 4096) & ((64ULL << 20) - 1);
  }
}
BENCHMARK(BM_InvalidateRange);

void BM_InvalidateDomain(benchmark::State& state) {
  InvFixture f;
  const uint64_t asid = make_asid(1, 0);
  for (auto _ : state) {
    f.m.iotlb().insert(asid, 0, kPa, 12, true);
    benchmark::DoNotOptimize(f.m.invalidate({asid, kAsidDomainMask, 0, ~0ULL}));
  }
}
BENCHMARK(BM_InvalidateDomain);

const bool registered = [] {
  register_format<fmt::X86FirstLevel, 4>("x86_64_4level");
  register_format<fmt::X86FirstLevel, 5>("x86_64_5level");
  register_format<fmt::VtdSecondStage, 4>("vtd_ss_4level");
  register_format<fmt::ArmVmsa<false>, 4>("arm64_s1_4level");
  register_format<fmt::ArmVmsa<true>, 4>("arm64_s2_4level");
  register_format<fmt::AmdV1, 3>("amd_v1_3level");
  register_format<fmt::AmdV1, 4>("amd_v1_4level");
  register_format<fmt::AmdV1, 5>("amd_v1_5level");
  for (bool warm : {false, true}) {
    const std::string c = warm ? "warm" : "cold";
    benchmark::RegisterBenchmark(("BM_NestedWalk/x86_64_4level/vtd_ss_4level/4K/" + c).c_str(),
                                 [warm](benchmark::State& s) { nested_bench(s, "x86_64_4level", "vtd_ss_4level", warm, 12); });
    benchmark::RegisterBenchmark(("BM_NestedWalk/x86_64_4level/vtd_ss_4level/1G/" + c).c_str(),
                                 [warm](benchmark::State& s) { nested_bench(s, "x86_64_4level", "vtd_ss_4level", warm, 30); });
    benchmark::RegisterBenchmark(("BM_NestedWalk/arm64_s1_4level/arm64_s2_4level/4K/" + c).c_str(),
                                 [warm](benchmark::State& s) { nested_bench(s, "arm64_s1_4level", "arm64_s2_4level", warm, 12); });
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
