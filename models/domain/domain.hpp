// IOMMU domains: who owns the I/O page table and how pages get into it.
//
// Models:
//  - pinned (classic VFIO type1): at VM start every guest page is pinned and mapped, with
//    the largest leaves alignment allows (or page_size). Start-up costs pages x
//    pin_cost_per_4k (0.27 s/GiB, Linux commit 4d83de6da265); nothing ever faults.
//  - shared_tdp: the IOMMU's stage 2 is KVM's TDP table (seed 000). Pages are absent until
//    touched; resident_fraction of them (chosen at random, seeded) are present at start.
//    A fault makes one page_size page (4 KiB when page_size is 0) present.
// Guest memory is backed by host physical memory at a per-domain base: HPA = base + GPA.
// Does not model (yet): host memory pressure, reclaim, THP, MMU-notifier invalidation.
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "models/iommu/iommu.hpp"
#include "models/pagetable/page_table.hpp"
#include "sim/rng.hpp"
#include "sim/scenario.hpp"

namespace iopf {

class Domain {
 public:
  Domain(const DomainSpec& spec, uint32_t id);
  const DomainSpec& spec() const { return spec_; }
  const IommuDomain& iommu_view() const { return view_; }
  PageTable& table() { return *table_; }
  bool faultable() const { return spec_.kind == DomainKind::kSharedTdp; }

  // Start-up: pinning, or populating the resident fraction.
  void setup(Rng& rng);
  // Fault handler's work: make the page holding va present. False if it already was.
  bool fault_in(uint64_t va);
  // Removes [va, va+len) from the table (the caller invalidates). Returns bytes removed.
  uint64_t zap(uint64_t va, uint64_t len);
  // Maps the 4 KiB pages of [va, va+len) at the other half of the domain's host window: a
  // page moved to a new frame after the old one was unmapped and invalidated.
  void remap_moved(uint64_t va, uint64_t len);

  uint64_t hpa_base() const { return hpa_base_; }
  uint64_t frame_of(uint64_t gpa) const;  // host PA that backs gpa now
  uint64_t pt_bytes() const { return table_->pt_bytes(); }
  uint64_t pinned_bytes() const { return pinned_bytes_; }
  uint64_t resident_bytes() const { return resident_bytes_; }
  uint64_t setup_ns() const { return setup_ns_; }
  uint64_t faults_resolved() const { return faults_resolved_; }
  unsigned fault_page_lg2() const { return fault_page_lg2_; }

 private:
  DomainSpec spec_;
  std::unique_ptr<PageTable> table_;
  IommuDomain view_;
  uint64_t hpa_base_;
  unsigned fault_page_lg2_ = 12;
  uint64_t pinned_bytes_ = 0;
  uint64_t resident_bytes_ = 0;
  uint64_t setup_ns_ = 0;
  uint64_t faults_resolved_ = 0;
  std::unordered_map<uint64_t, uint64_t> moves_;  // page -> times moved (remap)
};

}  // namespace iopf
