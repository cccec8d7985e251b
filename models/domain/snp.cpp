// Domain kind "snp" (seed 001, AMD SEV-SNP): a confidential guest whose memory is private
// (guest-owned, encrypted) or shared per 4 KiB page. The RMP tracks each 2 MiB region with one
// 2 MiB entry or 512 4 KiB entries. Devices reach only shared pages, and the IOMMU checks
// every DMA against the RMP: a DMA to a private page, or through an IOMMU leaf larger than
// the RMP entry of its page, is an RMP violation (the DMA fails; rmp_faults).
//
// Page-state changes come from the guest's DMA API (a path's dma_api; the device address is
// the GPA, no vIOMMU): a map makes the buffer's pages shared (as a bounce buffer), the unmap
// makes them private again; a page several mapped buffers share changes only with the first
// map and the last unmap. One conversion is a GHCB page-state-change request (a VMGEXIT) of
// up to 253 entries; each entry is one 4 KiB page, or one whole 2 MiB region converted at
// once. The guest rescinds (PVALIDATE) each entry before it goes shared and validates it after
// it came back private; the hypervisor writes an RMP entry per entry (RMPUPDATE). As KVM does
// (arch/x86/kvm/svm/sev.c: sev_gmem_invalidate, sev_gmem_prepare): a region converts to shared
// with one 2 MiB entry only if its entry is still 2 MiB; a 4 KiB entry inside a 2 MiB one
// smashes it first (PSMASH) and the region stays 4 KiB; a region converted back to private as
// a whole gets a 2 MiB entry again. At start all memory is private with 2 MiB entries.
//
// Policies (the seed's options): map_all_large (VFIO maps all guest memory, pinned, with
// 2 MiB IOMMU leaves: today's shortcut; DMAs into smashed regions take RMP faults),
// map_all_4k (the same with 4 KiB leaves: no RMP fault, less IOTLB reach), shared_only_dynamic
// (nothing mapped or pinned at start; the VMM maps a page's IOMMU leaf while it is shared, in
// the page-state change: a 2 MiB leaf for a 2 MiB entry, else 4 KiB; the change to private
// unmaps it and waits for the IOTLB (and ATC) invalidation before the RMP update).
// A path that issues DMAs by itself (no DMA API) targets pages the guest never shared: under
// map_all_* they take RMP faults, under shared_only_dynamic the IOMMU has no entry for them (a
// DMA fault, handled as the device's intolerant_fault). Page requests are answered Invalid.
// Does not model: swiotlb's copy into the bounce buffer (the DMA lands in the converted page
// itself), the VMM's pinning cost in shared_only_dynamic, the RMP's own cache, an RMP check of
// the IOMMU's table walks, KVM re-merging 4 KiB entries lazily on a later NPT fault.
#include "models/common/params.hpp"
#include "models/domain/guest_costs.hpp"
#include "models/domain/kinds.hpp"
#include "models/host/services.hpp"
#include "models/iommu/checker.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "models/common/sizes.hpp"

namespace iopf {

namespace {

enum class Policy : uint8_t { kMapAllLarge, kMapAll4k, kSharedOnlyDynamic };
constexpr EnumTable<Policy, 3> kPolicyNames{{{Policy::kMapAllLarge, "map_all_large"},
                                             {Policy::kMapAll4k, "map_all_4k"},
                                             {Policy::kSharedOnlyDynamic, "shared_only_dynamic"}}};

constexpr size_t kPscMaxEntries = 253;  // Linux arch/x86/include/asm/sev-common.h: VMGEXIT_PSC_MAX_ENTRY
constexpr unsigned kRegionLg2 = 21;     // an RMP large entry: 2 MiB
constexpr uint64_t kRegionPages = 1ULL << (kRegionLg2 - kBasePageLg2);

const ParamTable kSnpTable{
    "domain (kind snp)",
    {
        {"policy", ParamType::Enum, "\"map_all_large\"",
         "map_all_large (all guest memory pinned and mapped with 2 MiB IOMMU leaves), map_all_4k (the same, "
         "4 KiB leaves), shared_only_dynamic (a page's leaf is mapped while it is shared, at its page-state change)",
         "", enum_choices(kPolicyNames)},
        guest_costs::kVmExit,  // the VMGEXIT of one page-state-change request
        {"psc_work", ParamType::Ns, "\"2us\"",
         "hypervisor and VMM time per page-state-change request besides its entries (GHCB decode, the "
         "KVM_HC_MAP_GPA_RANGE exit to the VMM, KVM_SET_MEMORY_ATTRIBUTES)",
         "chosen: a user-space exit and an ioctl, about twice vm_exit", "", 0, 1e9},
        {"rmpupdate_cost", ParamType::Ns, "\"300ns\"", "hypervisor time per RMP entry written (RMPUPDATE, 4 KiB or 2 MiB)",
         "chosen: one instruction that writes the entry and flushes its RMP cache line", "", 0, 1e9},
        {"psmash_cost", ParamType::Ns, "\"500ns\"", "hypervisor time to smash a 2 MiB RMP entry into 512 4 KiB (PSMASH)",
         "chosen: writes 512 entries (8 KiB of RMP)", "", 0, 1e9},
        {"pvalidate_cost", ParamType::Ns, "\"200ns\"", "guest vCPU time per entry validated or rescinded (PVALIDATE)",
         "chosen", "", 0, 1e9},
        {"iommu_map_cost", ParamType::Ns, "\"200ns\"",
         "VMM time per IOMMU leaf mapped at a change to shared (shared_only_dynamic)",
         "chosen, as guest_map_cost of kinds nested and shadow (a 4 KiB map is 50-60 ns in the page-table code, "
         "Linux generic_pt v7 cover letter, plus the iommufd call)", "", 0, 1e9},
        {"iommu_unmap_cost", ParamType::Ns, "\"200ns\"",
         "VMM time per IOMMU leaf unmapped at a change to private, besides waiting for the invalidation "
         "(shared_only_dynamic)", "chosen, as iommu_map_cost", "", 0, 1e9},
    }};

struct SnpParams final : DomainKindParams {
  Policy policy = Policy::kMapAllLarge;
  uint64_t vm_exit_ns = 0, psc_ns = 0, rmpupdate_ns = 0, psmash_ns = 0, pvalidate_ns = 0, map_ns = 0, unmap_ns = 0;
};

std::shared_ptr<const DomainKindParams> read(const ObjReader& r, const DomainSpec& common) {
  if (common.format.rfind("amd_v1_", 0) != 0)
    r.fail("format", "expected an AMD IOMMU format (amd_v1_...) for kind snp, found \"" + common.format + "\"");
  if (common.memory_bytes % (1ULL << kRegionLg2) != 0)
    r.fail("memory", "expected a multiple of 2MiB for kind snp (the RMP's large entries)");
  auto p = std::make_shared<SnpParams>();
  p->policy = r.choice("policy", kPolicyNames);
  p->vm_exit_ns = r.ns("vm_exit");
  p->psc_ns = r.ns("psc_work");
  p->rmpupdate_ns = r.ns("rmpupdate_cost");
  p->psmash_ns = r.ns("psmash_cost");
  p->pvalidate_ns = r.ns("pvalidate_cost");
  p->map_ns = r.ns("iommu_map_cost");
  p->unmap_ns = r.ns("iommu_unmap_cost");
  return p;
}

// map_all_*: VFIO pins and maps all guest memory at start.
PinPlan pin_plan(const DomainSpec& spec, const std::vector<const DeviceSpec*>&) {
  if (kind_params<SnpParams>(spec).policy == Policy::kSharedOnlyDynamic) return PinPlan{};
  return PinPlan{true, {}, spec.memory_bytes};
}

struct PscEntry {
  uint64_t gpa;
  unsigned lg2;  // 12, or 21 for a whole 2 MiB region
  uint64_t hi() const { return gpa + (1ULL << lg2); }
};

struct PscStats {
  uint64_t to_shared = 0, to_private = 0, pages = 0, entries_2m = 0, requests = 0, smashes = 0;
  uint64_t iommu_maps = 0, iommu_unmaps = 0, invalidations = 0;
  Histogram latency_ns;  // per request: the vCPU's VMGEXIT in, until it validated its pages
};

class SnpDomain final : public Domain {
 public:
  SnpDomain(const DomainSpec& spec, uint32_t id)
      : Domain(spec, id), p_(kind_params<SnpParams>(spec)), iommu_(make_page_table(spec.format)),
        rmp_2m_(spec.memory_bytes >> kRegionLg2, 1) {
    set_iommu_tables(iommu_.get(), nullptr);
    checks_memory_ = true;  // the RMP check: dma_reaches_memory
    if (p_.policy != Policy::kSharedOnlyDynamic)
      iommu_->map(0, hpa_base(), spec.memory_bytes, p_.policy == Policy::kMapAllLarge ? kRegionLg2 : 12, true);
  }

  bool faultable() const override { return false; }
  bool answers_page_requests() const override { return false; }

  bool dma_reaches_memory(uint64_t va, const Xlate& x, bool from_atc) override {
    if (!from_atc) ++(x.iotlb_hit ? iotlb_hits_ : iotlb_misses_);
    if (va >= spec().memory_bytes) return true;  // not guest memory: no RMP entry of this guest
    const unsigned rmp_lg2 = rmp_2m_[va >> kRegionLg2] ? kRegionLg2 : 12;
    if (shared_.count(va >> kBasePageLg2) && x.page_lg2 <= rmp_lg2) return true;
    ++rmp_faults_;  // a guest-owned page, or an IOMMU leaf larger than the RMP entry
    return false;
  }

  bool dma_map(DmaApiEnv& env, uint64_t iova, const std::vector<uint64_t>& gpas) override {
    Domain::dma_map(env, iova, gpas);  // the dma-direct call
    std::vector<uint64_t> pages;       // no mapped buffer was on them: they change to shared
    for (uint64_t g : gpas)
      if (shared_[g >> kBasePageLg2]++ == 0) pages.push_back(g & ~kBasePageMask);
    mapped_[iova] = gpas;
    if (!pages.empty()) convert(env, std::move(pages), true);
    return true;
  }

  std::vector<uint64_t> dma_unmap(DmaApiEnv& env, uint64_t iova, size_t n, bool strict) override {
    Domain::dma_unmap(env, iova, n, strict);
    auto it = mapped_.find(iova);
    std::vector<uint64_t> pages;  // their last mapped buffer goes: they change to private
    for (uint64_t g : it->second) {
      auto s = shared_.find(g >> kBasePageLg2);
      if (--s->second == 0) {
        shared_.erase(s);
        pages.push_back(g & ~kBasePageMask);
      }
    }
    mapped_.erase(it);
    if (!pages.empty()) convert(env, std::move(pages), false);
    return {};  // shared_only_dynamic flushed inside the page-state change; map_all_* unmap nothing
  }

  void dma_flush(DmaApiEnv&, InvKind, uint64_t, uint64_t, bool, const std::vector<uint64_t>&) override {}

  void report(nlohmann::json* out) const override;

 private:
  // Pages (4 KiB-aligned, each once) change state: entries, then requests of up to 253.
  void convert(DmaApiEnv& env, std::vector<uint64_t> pages, bool to_shared) {
    std::sort(pages.begin(), pages.end());
    std::vector<PscEntry> entries;
    for (size_t i = 0; i < pages.size();) {
      const uint64_t g = pages[i];
      const bool whole = (g & ((1ULL << kRegionLg2) - 1)) == 0 && i + kRegionPages <= pages.size() &&
                         pages[i + kRegionPages - 1] == g + (1ULL << kRegionLg2) - kBasePageBytes;
      // To shared: a 2 MiB entry only where the region's entry is still 2 MiB (KVM: sev_gmem_invalidate).
      if (whole && (!to_shared || rmp_2m_[g >> kRegionLg2])) {
        entries.push_back(PscEntry{g, kRegionLg2});
        i += kRegionPages;
      } else {
        entries.push_back(PscEntry{g, 12});
        ++i;
      }
    }
    for (size_t i = 0; i < entries.size(); i += kPscMaxEntries) {
      const std::vector<PscEntry> req(entries.begin() + i,
                                      entries.begin() + std::min(entries.size(), i + kPscMaxEntries));
      if (to_shared) request_shared(env, req);
      else request_private(env, req);
    }
  }

  // The hypervisor's time to write req's RMP entries (PSMASH first where a 4 KiB entry falls
  // in a 2 MiB one).
  uint64_t rmp_cost_ns(const std::vector<PscEntry>& req) const {
    uint64_t ns = 0;
    for (const PscEntry& e : req) ns += p_.rmpupdate_ns + (e.lg2 == 12 && rmp_2m_[e.gpa >> kRegionLg2] ? p_.psmash_ns : 0);
    return ns;
  }

  void rmp_update(const std::vector<PscEntry>& req, bool to_shared) {
    for (const PscEntry& e : req) {
      uint8_t& large = rmp_2m_[e.gpa >> kRegionLg2];
      if (e.lg2 == 12 && large) {
        ++psc_.smashes;
        large = 0;
      }
      if (e.lg2 == kRegionLg2) large = 1;
      ++(to_shared ? psc_.to_shared : psc_.to_private);
      psc_.pages += 1ULL << (e.lg2 - kBasePageLg2);
      psc_.entries_2m += e.lg2 == kRegionLg2;
    }
  }

  void request_shared(DmaApiEnv& env, const std::vector<PscEntry>& req) {
    const uint64_t t0 = env.svc().now_ns();
    ++psc_.requests;
    env.cpu(p_.pvalidate_ns * req.size());  // the guest rescinds its validation first
    const bool dynamic = p_.policy == Policy::kSharedOnlyDynamic;
    env.trap(TrapCause::kMap, p_.vm_exit_ns, p_.psc_ns + rmp_cost_ns(req) + (dynamic ? p_.map_ns * req.size() : 0));
    rmp_update(req, true);
    if (dynamic) {  // a map needs no invalidation: the IOMMU caches no absent entry
      for (const PscEntry& e : req) iommu_->map(e.gpa, hpa_base() + e.gpa, 1ULL << e.lg2, e.lg2, true);
      psc_.iommu_maps += req.size();
    }
    psc_.latency_ns.record(env.svc().now_ns() - t0);
  }

  void request_private(DmaApiEnv& env, const std::vector<PscEntry>& req) {
    const uint64_t t0 = env.svc().now_ns();
    ++psc_.requests;
    const bool dynamic = p_.policy == Policy::kSharedOnlyDynamic;
    env.trap(TrapCause::kUnmap, p_.vm_exit_ns, p_.psc_ns + (dynamic ? p_.unmap_ns * req.size() : 0));
    if (dynamic) unmap_and_flush(env, req);  // the device must not reach a page the guest owns again
    // The RMP work comes after the flush, still inside the VMGEXIT: trap time.
    const uint64_t rmp_ns = rmp_cost_ns(req);
    env.cpu(rmp_ns);
    env.stats().trap_cpu_ns += rmp_ns;
    rmp_update(req, false);
    env.cpu(p_.pvalidate_ns * req.size());  // the guest validates the pages it owns again
    psc_.latency_ns.record(env.svc().now_ns() - t0);
  }

  // shared_only_dynamic, change to private: the IOMMU leaves of req go (a 2 MiB leaf that holds
  // a 4 KiB entry is split, its other pages keep their frames), then one invalidation over
  // what changed, waited for.
  void unmap_and_flush(DmaApiEnv& env, const std::vector<PscEntry>& req) {
    uint64_t lo = ~0ULL, hi = 0;
    std::vector<uint64_t> keys;
    for (const PscEntry& e : req) {
      WalkOut o;
      iommu_->walk(e.gpa, &o);
      const uint64_t leaf = 1ULL << std::max<unsigned>(o.page_lg2, e.lg2);
      lo = std::min(lo, e.gpa & ~(leaf - 1));
      hi = std::max(hi, (e.gpa & ~(leaf - 1)) + leaf);
      if (env.checker()) {
        const std::vector<uint64_t> k = env.checker()->on_zap(iommu_view().id, e.gpa, e.hi(), nullptr, &iommu_view());
        keys.insert(keys.end(), k.begin(), k.end());
      }
      iommu_->unmap(e.gpa, 1ULL << e.lg2);
    }
    psc_.iommu_unmaps += req.size();
    ++psc_.invalidations;
    env.flush(iommu_view(), hi - lo == kBasePageBytes ? InvKind::kPage : InvKind::kRange, lo, hi, keys);
  }

  const SnpParams& p_;
  std::unique_ptr<PageTable> iommu_;  // GPA -> HPA: what the host maps for the device
  std::vector<uint8_t> rmp_2m_;       // per 2 MiB region: its RMP entry is one 2 MiB entry
  std::unordered_map<uint64_t, uint32_t> shared_;  // shared page number -> mapped buffers on it
  std::unordered_map<uint64_t, std::vector<uint64_t>> mapped_;  // a map's iova -> its buffers' GPAs
  PscStats psc_;
  uint64_t rmp_faults_ = 0, iotlb_hits_ = 0, iotlb_misses_ = 0;
};

void SnpDomain::report(nlohmann::json* out) const {
  (*out)["policy"] = enum_name(kPolicyNames, p_.policy);
  (*out)["effective_policy"] = enum_name(kPolicyNames, p_.policy);
  (*out)["rmp_faults"] = rmp_faults_;
  (*out)["page_state_changes"] = {{"count", psc_.to_shared + psc_.to_private},
                                  {"to_shared", psc_.to_shared},
                                  {"to_private", psc_.to_private},
                                  {"pages", psc_.pages},
                                  {"entries_2m", psc_.entries_2m},
                                  {"requests", psc_.requests},
                                  {"rmp_smashes", psc_.smashes},
                                  {"latency_ns", histogram_json(psc_.latency_ns)}};
  const uint64_t large = static_cast<uint64_t>(std::count(rmp_2m_.begin(), rmp_2m_.end(), 1));
  (*out)["rmp"] = {{"regions", rmp_2m_.size()}, {"regions_2m_at_end", large}};
  (*out)["iommu_updates"] = {
      {"maps", psc_.iommu_maps}, {"unmaps", psc_.iommu_unmaps}, {"invalidations", psc_.invalidations}};
  const uint64_t looked_up = iotlb_hits_ + iotlb_misses_;
  (*out)["iotlb"] = {{"hits", iotlb_hits_},
                     {"misses", iotlb_misses_},
                     {"hit_rate", looked_up ? static_cast<double>(iotlb_hits_) / static_cast<double>(looked_up) : 0.0}};
  (*out)["iommu_pt_bytes"] = iommu_->pt_bytes();
  traps_json(dma_stats_if_used(), out);
}

std::unique_ptr<Domain> make(const DomainSpec& spec, uint32_t id) { return std::make_unique<SnpDomain>(spec, id); }

}  // namespace

extern const DomainKindInfo kSnpKind{
    "snp",
    "AMD SEV-SNP: private or shared 4 KiB pages, an RMP of 4 KiB or 2 MiB entries; DMA through an IOMMU leaf "
    "larger than its RMP entry faults",
    &kSnpTable, read, pin_plan, make, false};

}  // namespace iopf
