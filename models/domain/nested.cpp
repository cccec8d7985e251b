// Domain kind "nested" (seed 004, VT-d scalable mode; also Arm SMMUv3 stage 1 over stage 2):
// the guest's own vIOMMU table (gIOVA -> GPA, a first-level format) is bound as stage 1 over
// the host's second level (GPA -> HPA: all guest memory, pinned and mapped at start as VFIO
// does). The IOMMU does the nested walk (models/iommu/iommu.hpp: 24 reads cold for 4x4).
//
// The guest's DMA API (models/domain/dma_api.hpp): a map writes the guest's table, no trap
// (guest_map_cost on the vCPU); an unmap clears it (guest_unmap_cost), and its IOTLB flush
// traps: a VM exit, the VMM's work to pass the invalidation on (QEMU decodes the descriptor
// and calls iommufd's cache invalidation), and the host's invalidation itself, for which the
// vCPU stays out. Strict unmaps flush their range each; a lazy guest flushes its flush queue,
// the whole domain, once per 256 unmaps or 10 ms (models/device/guest_driver.hpp).
// Page requests on gIOVA are answered Invalid (the seed: no faults on gIOVA).
// Guest table pages sit in one GPA window at 1 TiB, above guest memory (models/iommu/nested.hpp).
// Does not model: PASID-table binding and its cache invalidations, guest page-table pages
// scattered over guest memory, posted-interrupt or vIOMMU fault-reporting paths.
#include "models/domain/guest_costs.hpp"
#include "models/common/params.hpp"
#include "models/domain/kinds.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/nested.hpp"

#include <nlohmann/json.hpp>

#include "models/common/sizes.hpp"

namespace iopf {

namespace {

constexpr uint64_t kGuestTableGpa = 1ULL << 40;  // chosen: above the 1 TiB of guest memory the kind allows

const ParamTable kNestedTable{
    "domain (kind nested)",
    {
        {"guest_format", ParamType::String, "\"x86_64_4level\"", "the guest's first-level table format",
         "VT-d scalable mode first-level translation uses the x86-64 (IA-32e) paging format"},
        guest_costs::kMapCost,
        guest_costs::kUnmapCost,
        guest_costs::kVmExit,
        {"vmm_flush_work", ParamType::Ns, "\"2us\"",
         "VMM time to pass one guest IOTLB flush on to the host (decode, iommufd cache-invalidate ioctl)", "chosen",
         "", 0, 1e9},
    }};

struct NestedParams final : DomainKindParams {
  guest_costs::Costs guest;
  uint64_t vmm_flush_ns = 0;
};

std::shared_ptr<const DomainKindParams> read(const ObjReader& r, const DomainSpec& common) {
  auto p = std::make_shared<NestedParams>();
  p->guest = guest_costs::read(r);
  p->vmm_flush_ns = r.ns("vmm_flush_work");
  if (common.memory_bytes > kGuestTableGpa)
    r.fail("memory", "expected at most 1TiB for a nested domain (its guest tables sit above it)");
  return p;
}

// Stage 2 is VFIO's map of all guest memory: pinned at start.
PinPlan pin_plan(const DomainSpec& spec, const std::vector<const DeviceSpec*>&) {
  return PinPlan{true, {}, spec.memory_bytes};
}

class NestedDomain final : public Domain {
 public:
  NestedDomain(const DomainSpec& spec, uint32_t id)
      : Domain(spec, id), p_(kind_params<NestedParams>(spec)),
        s1_(make_stage1_over(p_.guest.format, &table(), kGuestTableGpa)) {
    set_iommu_tables(&table(), s1_.get());
  }

  bool answers_page_requests() const override { return false; }
  bool dma_translates() const override { return true; }

  bool dma_map(DmaApiEnv& env, uint64_t iova, const std::vector<uint64_t>& gpas) override {
    env.cpu(p_.guest.map_ns * gpas.size());  // the guest writes its own table: no trap
    for (size_t i = 0; i < gpas.size(); ++i) s1_->map(iova + i * kBasePageBytes, gpas[i], kBasePageBytes, 12, true);
    return true;
  }

  std::vector<uint64_t> dma_unmap(DmaApiEnv& env, uint64_t iova, size_t n, bool) override {
    env.cpu(p_.guest.unmap_ns * n);
    const uint64_t hi = iova + n * kBasePageBytes;
    std::vector<uint64_t> keys;
    if (env.checker()) keys = env.checker()->on_zap(iommu_view().id, iova, hi, nullptr, &iommu_view());
    s1_->unmap(iova, hi - iova);
    return keys;
  }

  void dma_flush(DmaApiEnv& env, InvKind kind, uint64_t lo, uint64_t hi, bool,
                 const std::vector<uint64_t>& keys) override {
    env.trap(TrapCause::kFlush, p_.guest.vm_exit_ns, p_.vmm_flush_ns);
    env.flush(iommu_view(), kind, lo, hi, keys);  // the vCPU stays out until the host's flush completed
  }

  void report(nlohmann::json* out) const override {
    (*out)["policy"] = "pin_all";  // stage 2: all guest memory, pinned at start
    (*out)["effective_policy"] = "pin_all";
    (*out)["guest_format"] = p_.guest.format;
    (*out)["guest_pt_bytes"] = s1_->pt_bytes();
    traps_json(dma_stats_if_used(), out);
  }

 private:
  const NestedParams& p_;
  std::unique_ptr<PageTable> s1_;  // the guest's table, gIOVA -> GPA
};

std::unique_ptr<Domain> make(const DomainSpec& spec, uint32_t id) { return std::make_unique<NestedDomain>(spec, id); }

}  // namespace

extern const DomainKindInfo kNestedKind{
    "nested",
    "the guest's vIOMMU table (gIOVA -> GPA) as stage 1 over the host's pinned stage 2; unmaps trap for the flush",
    &kNestedTable, read, pin_plan, make, false};

}  // namespace iopf
