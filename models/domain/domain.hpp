// IOMMU domains: who owns the I/O page table and how pages get into it and out of it.
// This file is the interface every domain kind implements, and the guest memory that the
// kinds share; each kind is one file (models/domain/<kind>.cpp) holding its parameter table
// and its behaviour, and one line in models/domain/kinds.cpp.
//
// A kind decides: how the IOMMU sees its tables (iommu_view: one stage, or nested), whether
// and how it faults (its pin plan and fault costs), what a change of a mapping must
// invalidate (through the host's MMU notifier, models/host), which host threads it starts
// for a run, and what it reports beyond the common keys.
//
// Guest memory (shared by the kinds): pages the pin plan names are pinned and mapped at VM
// start, with the largest leaves alignment allows (or page_size), costing pin_cost_per_4k per
// 4 KiB page (0.27 s/GiB, Linux commit 4d83de6da265); pinned memory is never reclaimed,
// migrated or write-protected. Other pages are absent until touched; resident_fraction of
// them were touched before the run (resident, or swapped out when the host had no room). A
// fault makes a page_size page present (2 MiB: THP backing; 4 KiB when page_size is 0); a
// swapped page comes back by a major fault. Reclaim takes 4 KiB pages in the order they
// became resident (device accesses set no accessed bits, so hot DMA pages age like cold
// ones); a page inside a 2 MiB leaf splits the leaf first. Migration moves a page to another
// frame; dirty logging write-protects; THP collapse (khugepaged) copies a 2 MiB region of
// 4 KiB pages into a new huge page.
// Guest memory is backed at HPA = base + GPA; a page taken away comes back in the other TiB
// of the domain's window, so a stale translation always has a wrong PA (the checker's test).
// Does not model: KSM, NUMA placement, page cache.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "models/common/sizes.hpp"
#include "models/iommu/iommu.hpp"
#include "models/pagetable/page_table.hpp"
#include "models/common/distribution.hpp"
#include "models/common/rng.hpp"
#include "models/domain/dma_api.hpp"
#include "models/device/params.hpp"
#include "models/domain/params.hpp"

namespace iopf {

enum class FaultKind : uint8_t {
  kNone,          // already resolved (another request or a vCPU got there first)
  kMinor,         // absent, never swapped: zero-fill or already in memory
  kMajor,         // swapped out: read back from swap
  kWriteProtect,  // present read-only (dirty logging): make writable
};

class HostActivity;
class HostServices;

// A kind's own parameters (its table's keys), read by its DomainKindInfo::read.
struct DomainKindParams {
  virtual ~DomainKindParams() = default;
};

// What a domain's host threads need for a run.
struct DomainRun {
  HostServices& svc;
  HostActivity& activity;
  size_t index;       // the domain's index in the scenario
  uint64_t ready_ns;  // its pinning was done: its threads start
  uint64_t end_ns;    // the end of its measurement window: its threads stop
};

class Domain {
 public:
  Domain(const DomainSpec& spec, uint32_t id);
  virtual ~Domain() = default;
  const DomainSpec& spec() const { return spec_; }
  const IommuDomain& iommu_view() const { return view_; }
  PageTable& table() { return *table_; }

  // ---- what a kind decides ----
  // Pages can be absent while devices run (they fault in, and can be taken away).
  virtual bool faultable() const { return !pin_all_; }
  // The kind's own host threads (start) can take translations away while devices run
  // (migration, THP collapse, dirty logging); reclaim is the host's, not counted here.
  virtual bool moves_pages() const { return false; }
  // The host threads the kind needs while devices run (none by default).
  virtual void start(DomainRun& run) { (void)run; }
  // Keys the kind adds to the domain's report object.
  virtual void report(nlohmann::json* out) const { (void)out; }
  // The host answers page requests on this domain's addresses (false: every one is answered
  // Invalid, as for a guest IOVA space the host cannot fault in).
  virtual bool answers_page_requests() const { return true; }
  // The IOVA slot of the Arm ITS doorbell page, where devices' MSIs write (false: the kind
  // reserves none). Mapped or not, as the kind was told (kind shared_tdp, msi_doorbell).
  virtual bool msi_doorbell_iova(uint64_t* iova) const {
    (void)iova;
    return false;
  }

  // A DMA translated to x (from the device's ATC when from_atc, else by the IOMMU), before
  // its data reaches memory: false when memory refuses it (SEV-SNP's RMP check, kind snp);
  // the DMA then fails as the device's intolerant_fault says, with no page request.
  // Asked only when checks_memory() (set by the kinds that override it): the DMA hot path
  // then makes no virtual call.
  virtual bool dma_reaches_memory(uint64_t va, const Xlate& x, bool from_atc) {
    (void)va, (void)x, (void)from_atc;
    return true;
  }
  bool checks_memory() const { return checks_memory_; }

  // ---- the guest's DMA API (models/domain/dma_api.hpp), as this kind does it ----
  // The device addresses a mapped buffer by its IOVA (a vIOMMU), or by its GPA (dma-direct).
  virtual bool dma_translates() const { return false; }
  // Maps the guest pages gpas at iova, iova + 4 KiB, ...: costs the calling vCPU what it costs.
  // False: the map was refused (the call fails, nothing stays mapped; kind kvm_owned).
  virtual bool dma_map(DmaApiEnv& env, uint64_t iova, const std::vector<uint64_t>& gpas);
  // Takes away the mappings of n pages at iova; strict: its flush follows at once. Returns the
  // checker's keys that the flush completes.
  virtual std::vector<uint64_t> dma_unmap(DmaApiEnv& env, uint64_t iova, size_t n, bool strict);
  // The IOTLB flush after unmaps: of [lo, hi) (strict), or of the whole domain (a lazy flush
  // queue's flush). Waits for its completion.
  virtual void dma_flush(DmaApiEnv& env, InvKind kind, uint64_t lo, uint64_t hi, bool strict,
                         const std::vector<uint64_t>& keys);
  // After the flush the unmapped guest pages are the guest's again (a shadow VMM unpins them).
  virtual void dma_release(DmaApiEnv& env, size_t pages) { (void)env, (void)pages; }
  // Its statistics exist only where a device's path uses the DMA API (enabled before the run).
  void enable_dma_api() {
    if (!dma_stats_) dma_stats_ = std::make_unique<DmaApiStats>();
    if (!shared_fq_) shared_fq_ = std::make_unique<DmaFlushQueue>();
  }
  bool dma_api_used() const { return dma_stats_ != nullptr; }
  DmaApiStats& dma_stats() { return *dma_stats_; }
  const DmaApiStats* dma_stats_if_used() const { return dma_stats_.get(); }
  // The one lazy flush queue its drivers share when they ask for it (workload dma_fq single).
  DmaFlushQueue& shared_flush_queue() { return *shared_fq_; }


  // Host CPU time of a minor fault, and the extra of a major one (besides the swap-in): each
  // a distribution (a constant unless the scenario says otherwise), sampled per fault from
  // the domain's own fault-cost stream (seed_costs; streams::fault_costs).
  const Distribution& fault_cost() const { return fault_cost_; }
  const Distribution& major_fault_cost() const { return major_fault_cost_; }
  uint64_t sample_fault_cost_ns() { return fault_cost_.sample_ns(cost_rng_); }
  uint64_t sample_major_fault_cost_ns() { return major_fault_cost_.sample_ns(cost_rng_); }
  void seed_costs(uint64_t seed);

  // Before setup: what to pin (the kind's pin plan).
  void apply_pin_plan(const PinPlan& plan);
  uint64_t pinned_request_bytes() const;  // what setup will pin

  // Start-up: pinning, and the pages touched before the run. room_bytes is host memory the
  // domain may take for resident pages; the rest of resident_fraction starts swapped.
  // Returns bytes of host memory it took (pinned + resident).
  uint64_t setup(Rng& rng, uint64_t room_bytes);

  FaultKind classify(uint64_t va, bool write) const;
  // Resolves a fault: makes the page present (or writable). Returns host bytes newly used.
  uint64_t resolve(uint64_t va, bool write);

  bool is_pinned(uint64_t gpa) const;
  // Reclaim: the next victim by a clock over resident unpinned 4 KiB pages (second chance:
  // a page whose accessed bit is set loses the bit and goes round again); false when none.
  // *scanned counts the pages looked at.
  bool next_victim(uint64_t* gpa, uint64_t* scanned);
  // If gpa sits in a large leaf, splits it into 4 KiB leaves (same frames) and returns the
  // leaf's range in *lo, *hi: the caller invalidates it (reason THP split).
  bool split_if_large(uint64_t gpa, uint64_t* lo, uint64_t* hi);
  // Removes the 4 KiB page (the caller invalidates). swapped: its data goes to swap.
  void evict(uint64_t gpa, bool swapped);
  // Maps a migrated page at its new frame (after evict(gpa, false) and the invalidation).
  void place_migrated(uint64_t gpa);
  // THP collapse, step 1: a random 2 MiB region whose 512 pages are all resident as 4 KiB
  // leaves (unpinned) is unmapped, to be mapped as one 2 MiB page once the invalidation
  // completed (step 2, place_collapsed). False when the pick does not qualify.
  bool begin_collapse(Rng& rng, uint64_t* lo);
  void place_collapsed(uint64_t lo);
  // Dirty logging: write-protects resident unpinned pages; returns bytes protected.
  uint64_t write_protect_all();
  // A random resident unpinned 4 KiB page (migration), or false.
  bool random_resident(Rng& rng, uint64_t* gpa) const;

  uint64_t hpa_base() const { return hpa_base_; }
  uint64_t frame_of(uint64_t gpa) const;  // host PA that backs gpa now
  uint64_t pt_bytes() const { return table_->pt_bytes(); }
  uint64_t pinned_bytes() const { return pinned_bytes_; }
  uint64_t resident_bytes() const { return resident_bytes_; }  // includes pinned
  uint64_t swapped_bytes() const { return swapped_.size() * kBasePageBytes; }
  // Host CPU time to pin (and zero) what the pin plan names, at start.
  uint64_t pin_work_ns(double zero_bytes_per_s) const;
  void set_ready_ns(uint64_t t) { ready_ns_ = t; }
  uint64_t setup_ns() const { return ready_ns_; }  // when its pinning was done and devices could start
  // The page at va was used: its accessed bit (reclaim's recency), in faultable domains. A
  // vCPU touch sets it, and so does an IOMMU walk for a DMA where the IOMMU sets accessed bits
  // in the table it walks (iommu.walks_set_accessed); a DMA that hits the ATC or the IOTLB
  // sets none, so pages a device keeps cached look idle to reclaim.
  void touch(uint64_t va);
  uint64_t faults_resolved() const { return faults_resolved_; }
  uint64_t major_faults() const { return major_faults_; }
  unsigned fault_page_lg2() const { return fault_page_lg2_; }
  // What the simulator holds per page of this domain besides its page table (reclaim's queue,
  // accessed bits, swap and move records): sim.memory in the report, estimated from the
  // containers' sizes and libstdc++'s node layouts.
  uint64_t state_bytes() const;

 protected:
  // Set by the kind's constructor.
  double resident_fraction_ = 0;  // of unpinned pages present at start
  Distribution fault_cost_;        // constant 0 unless the kind sets it
  Distribution major_fault_cost_;
  bool checks_memory_ = false;  // the kind overrides dma_reaches_memory
  // The tables the IOMMU uses, where a kind differs from the one stage over guest memory.
  void set_iommu_tables(PageTable* table, PageTable* stage1) {
    view_.table = table;
    view_.stage1 = stage1;
  }

 private:
  void map_present(uint64_t gpa, unsigned lg2);
  void enqueue(uint64_t gpa);  // reclaim's queue: gpa's 4 KiB page became resident
  void compact_queue();        // drops entries of absent pages and all but each page's newest
  bool test_and_clear_accessed(uint64_t page);

  DomainSpec spec_;
  std::unique_ptr<PageTable> table_;
  IommuDomain view_;
  bool pin_all_ = false;
  uint64_t hpa_base_;
  unsigned fault_page_lg2_ = 12;
  std::vector<std::pair<uint64_t, uint64_t>> pinned_;
  std::unordered_set<uint64_t> swapped_;           // 4 KiB page numbers now in swap
  std::unordered_map<uint64_t, uint64_t> moves_;   // page -> times taken away
  // Page numbers, oldest first (may hold stale ones). 32 bits hold any page number: a domain
  // is at most 2 TiB (2^29 pages), and a fully resident 1 TiB guest keeps 2^28 of them.
  std::deque<uint32_t> residency_;
  uint64_t pinned_bytes_ = 0;
  uint64_t resident_bytes_ = 0;
  uint64_t ready_ns_ = 0;
  std::vector<uint64_t> accessed_;  // a bit per 4 KiB page (faultable domains only)
  uint64_t faults_resolved_ = 0;
  uint64_t major_faults_ = 0;
  std::unique_ptr<DmaApiStats> dma_stats_;
  std::unique_ptr<DmaFlushQueue> shared_fq_;
  Rng cost_rng_{0, 0};  // seed_costs sets it
};

}  // namespace iopf
