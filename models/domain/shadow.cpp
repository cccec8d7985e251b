// Domain kind "shadow" (seed 004's older alternative to nesting): the IOMMU uses a single-stage
// shadow table (gIOVA -> HPA) that the VMM keeps in step with the guest's vIOMMU table
// (gIOVA -> GPA). Guest memory is resident (touched before the run) but not pinned at start.
//
// The guest's DMA API (models/domain/dma_api.hpp): every map and every unmap traps to the VMM
// (the contract of virtio-iommu, and of a VT-d vIOMMU in caching mode where the guest flushes
// after each map and unmap). A map: guest_map_cost, then a trap (vm_exit) in which the VMM
// walks the guest's table (guest_walk_read per level), pins the page (the domain's
// pin_cost_per_page) and maps it in the shadow table (host_map_cost). An unmap:
// guest_unmap_cost, a trap in which the VMM walks the guest table and clears the shadow entry;
// a strict guest's flush then runs inside that same trap, a lazy guest's flush queue traps
// once per flush (cause flush). The VMM unpins the pages after the flush (unpin_cost each).
// Page requests on gIOVA are answered Invalid, as for nested.
// Does not model: VT-d caching mode's replay of a domain-wide guest flush (the VMM walking
// the whole guest table), host reclaim of a shadow domain's guest memory (it is not offered to
// reclaim), the VMM's locking between vCPUs.
#include "models/domain/guest_costs.hpp"
#include "models/common/params.hpp"
#include "models/domain/kinds.hpp"
#include "models/iommu/checker.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "models/common/sizes.hpp"

namespace iopf {

namespace {

const ParamTable kShadowTable{
    "domain (kind shadow)",
    {
        {"guest_format", ParamType::String, "\"x86_64_4level\"", "the guest's vIOMMU table format (what the VMM walks)",
         "as kind nested"},
        guest_costs::kMapCost,
        guest_costs::kUnmapCost,
        guest_costs::kVmExit,
        {"vmm_work", ParamType::Ns, "\"2us\"",
         "VMM time per trap besides the per-page work (decode the request, a VFIO map or unmap ioctl)", "chosen", "",
         0, 1e9},
        {"guest_walk_read", ParamType::Ns, "\"100ns\"", "VMM time per guest-table level it reads to find a GPA",
         "chosen: one memory access (host.memory_latency's default)", "", 0, 1e9},
        {"host_map_cost", ParamType::Ns, "\"60ns\"", "host time to write one 4 KiB entry in the shadow table",
         "a 4 KiB map is 50-60 ns in the page-table code (Linux generic_pt v7 cover letter)", "", 0, 1e9},
        {"unpin_cost", ParamType::Ns, "\"100ns\"", "host time to unpin one page after the flush", "chosen", "", 0, 1e9},
    }};

struct ShadowParams final : DomainKindParams {
  guest_costs::Costs guest;
  uint64_t vmm_ns = 0;
  uint64_t walk_read_ns = 0, host_map_ns = 0, unpin_ns = 0;
};

std::shared_ptr<const DomainKindParams> read(const ObjReader& r, const DomainSpec&) {
  auto p = std::make_shared<ShadowParams>();
  p->guest = guest_costs::read(r);
  p->vmm_ns = r.ns("vmm_work");
  p->walk_read_ns = r.ns("guest_walk_read");
  p->host_map_ns = r.ns("host_map_cost");
  p->unpin_ns = r.ns("unpin_cost");
  return p;
}

PinPlan pin_plan(const DomainSpec&, const std::vector<const DeviceSpec*>&) { return PinPlan{}; }

class ShadowDomain final : public Domain {
 public:
  ShadowDomain(const DomainSpec& spec, uint32_t id)
      : Domain(spec, id), p_(kind_params<ShadowParams>(spec)), guest_(make_page_table(p_.guest.format)),
        shadow_(make_page_table(spec.format)) {
    resident_fraction_ = 1.0;  // a running guest's memory
    set_iommu_tables(shadow_.get(), nullptr);
  }

  bool faultable() const override { return false; }
  bool answers_page_requests() const override { return false; }
  bool dma_translates() const override { return true; }

  bool dma_map(DmaApiEnv& env, uint64_t iova, const std::vector<uint64_t>& gpas) override {
    const uint64_t n = gpas.size();
    env.cpu(p_.guest.map_ns * n);
    for (size_t i = 0; i < n; ++i) guest_->map(iova + i * kBasePageBytes, gpas[i], kBasePageBytes, 12, true);
    const uint64_t per_page = walk_ns() + spec().pin_ns_per_page + p_.host_map_ns;  // walk, pin, shadow entry
    env.trap(TrapCause::kMap, p_.guest.vm_exit_ns, p_.vmm_ns + n * per_page);
    for (size_t i = 0; i < n; ++i)
      shadow_->map(iova + i * kBasePageBytes, frame_of(gpas[i]), kBasePageBytes, 12, true);
    DmaApiStats& s = env.stats();
    s.pinned_pages += n;
    s.max_pinned_pages = std::max(s.max_pinned_pages, s.pinned_pages);
    return true;
  }

  std::vector<uint64_t> dma_unmap(DmaApiEnv& env, uint64_t iova, size_t n, bool) override {
    const uint64_t hi = iova + n * kBasePageBytes;
    env.cpu(p_.guest.unmap_ns * n);
    guest_->unmap(iova, hi - iova);
    env.trap(TrapCause::kUnmap, p_.guest.vm_exit_ns, p_.vmm_ns + n * walk_ns());
    std::vector<uint64_t> keys;
    if (env.checker()) keys = env.checker()->on_zap(iommu_view().id, iova, hi, nullptr, &iommu_view());
    shadow_->unmap(iova, hi - iova);
    return keys;
  }

  void dma_flush(DmaApiEnv& env, InvKind kind, uint64_t lo, uint64_t hi, bool strict,
                 const std::vector<uint64_t>& keys) override {
    if (!strict) env.trap(TrapCause::kFlush, p_.guest.vm_exit_ns, p_.vmm_ns);  // strict: inside the unmap's trap
    env.flush(iommu_view(), kind, lo, hi, keys);
  }

  void dma_release(DmaApiEnv& env, size_t pages) override {
    env.cpu(p_.unpin_ns * pages);  // the VMM, still in the trap that flushed
    env.stats().trap_cpu_ns += p_.unpin_ns * pages;
    env.stats().pinned_pages -= pages;
  }

  void report(nlohmann::json* out) const override {
    (*out)["policy"] = "pin_per_map";  // the VMM pins what the guest maps, until its flush
    (*out)["effective_policy"] = "pin_per_map";
    (*out)["guest_format"] = p_.guest.format;
    (*out)["guest_pt_bytes"] = guest_->pt_bytes();
    (*out)["shadow_pt_bytes"] = shadow_->pt_bytes();
    traps_json(dma_stats_if_used(), out);
  }

 private:
  uint64_t walk_ns() const { return static_cast<uint64_t>(guest_->levels()) * p_.walk_read_ns; }

  const ShadowParams& p_;
  std::unique_ptr<PageTable> guest_;   // the guest's vIOMMU table, gIOVA -> GPA (the VMM walks it)
  std::unique_ptr<PageTable> shadow_;  // what the IOMMU uses, gIOVA -> HPA
};

std::unique_ptr<Domain> make(const DomainSpec& spec, uint32_t id) { return std::make_unique<ShadowDomain>(spec, id); }

}  // namespace

extern const DomainKindInfo kShadowKind{
    "shadow",
    "the VMM traps every guest map and unmap and keeps a shadow single-stage table (gIOVA -> HPA), pinning per map",
    &kShadowTable, read, pin_plan, make, false};

}  // namespace iopf
