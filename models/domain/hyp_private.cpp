// Domain kind "hyp_private" (seed 002, pKVM with SMMUv3): the SMMU uses a private table
// (IOVA -> HPA, an Arm stage-1 or stage-2 format: the domain's format) that only the
// hypervisor writes. The host's DMA API (dma-iommu, models/domain/dma_api.hpp) allocates the
// IOVA (host_map_cost per page) and calls the hypervisor: map_pages and unmap_pages
// hypercalls, each an HVC round trip, then hypervisor work per call and per page under one
// hypervisor spinlock that serialises the calls of all CPUs (a waiter spins: its wait is CPU
// time). unmap_pages also issues the SMMU's TLB invalidation and CMD_SYNC and waits for them
// before it drops the lock and returns: the hypervisor cannot hand the pages back to the host
// while the IOTLB may still hold them, so a host's lazy flush queue has nothing to flush.
// alloc_domain, attach_dev, detach_dev and free_domain are made once each per domain at
// setup and teardown: counted at their cost (HVC plus their work), outside the measured
// window and the lock.
// Guest (host) memory is resident, not pinned at start; page requests are answered Invalid
// (the private table has no fault path).
// Does not model: the lock's fairness (waiters retry every lock_spin_ns, the first to look
// after a release wins), the hypervisor's ownership tracking beyond its per-page cost,
// more than one device per domain (attach_dev and detach_dev count once), the host's own
// stage 2 (pKVM's host stage 2 is identity-mapped and not walked by the SMMU here).
#include "models/common/params.hpp"
#include "models/domain/kinds.hpp"
#include "models/host/services.hpp"
#include "models/iommu/checker.hpp"

#include <nlohmann/json.hpp>

#include "models/common/sizes.hpp"

namespace iopf {

namespace {

const ParamTable kHypPrivateTable{
    "domain (kind hyp_private)",
    {
        {"hvc_round_trip", ParamType::Ns, "\"200ns\"", "an HVC from the host (EL1) into the hypervisor (EL2) and back",
         "a Xen-on-Arm hypercall (EL1 -> EL2 -> EL1, no world switch, as pKVM's host HVC) is 376 cycles, about "
         "160 ns at 2.4 GHz (Dall et al., ARM Virtualization: Performance and Architectural Implications, ISCA "
         "2016); rounded up for pKVM's host-context save", "", 0, 1e9},
        {"host_map_cost", ParamType::Ns, "\"140ns\"", "host CPU time per 4 KiB page of a dma-iommu map (IOVA, sg walk)",
         "chosen: kind nested's guest_map_cost (200 ns) less the 60 ns table write (Linux generic_pt v7 cover "
         "letter) that moves into the hypervisor", "", 0, 1e9},
        {"host_unmap_cost", ParamType::Ns, "\"140ns\"", "host CPU time per 4 KiB page of a dma-iommu unmap",
         "chosen, as host_map_cost", "", 0, 1e9},
        {"hyp_call_work", ParamType::Ns, "\"300ns\"",
         "hypervisor time per map_pages or unmap_pages call under the lock (domain lookup, argument checks)",
         "chosen: a few hundred instructions and cache misses on hypervisor data", "", 0, 1e9},
        {"hyp_map_page_cost", ParamType::Ns, "\"100ns\"", "hypervisor time per 4 KiB page mapped, under the lock",
         "60 ns to write the entry (a 4 KiB map is 50-60 ns in the page-table code, Linux generic_pt v7 cover "
         "letter) plus 40 ns chosen for checking and recording that the host owns the page", "", 0, 1e9},
        {"hyp_unmap_page_cost", ParamType::Ns, "\"100ns\"", "hypervisor time per 4 KiB page unmapped, under the lock",
         "chosen, as hyp_map_page_cost (clear the entry, release the page's ownership record)", "", 0, 1e9},
        {"lock_spin", ParamType::Ns, "\"50ns\"", "how often a waiter looks at the lock again while its holder flushes",
         "chosen: a modelling step, below one hypercall's work", "", 1, 1e6},
        {"alloc_domain_cost", ParamType::Ns, "\"5us\"", "hypervisor work of alloc_domain (a table root, a domain slot)",
         "chosen", "", 0, 1e12},
        {"attach_dev_cost", ParamType::Ns, "\"10us\"",
         "hypervisor work of attach_dev (write the stream table entry, CFGI_STE and CMD_SYNC)", "chosen", "", 0, 1e12},
        {"detach_dev_cost", ParamType::Ns, "\"10us\"", "hypervisor work of detach_dev", "chosen, as attach_dev_cost",
         "", 0, 1e12},
        {"free_domain_cost", ParamType::Ns, "\"5us\"", "hypervisor work of free_domain (free the table)",
         "chosen, as alloc_domain_cost", "", 0, 1e12},
    }};

struct HypPrivateParams final : DomainKindParams {
  uint64_t hvc_ns = 0, host_map_ns = 0, host_unmap_ns = 0, call_ns = 0, map_page_ns = 0, unmap_page_ns = 0;
  uint64_t spin_ns = 0, alloc_ns = 0, attach_ns = 0, detach_ns = 0, free_ns = 0;
};

std::shared_ptr<const DomainKindParams> read(const ObjReader& r, const DomainSpec& common) {
  if (common.format.rfind("arm64_", 0) != 0)
    r.fail("format", "expected an Arm stage-1 or stage-2 format (arm64_...) for kind hyp_private, found \"" +
                         common.format + "\"");
  auto p = std::make_shared<HypPrivateParams>();
  p->hvc_ns = r.ns("hvc_round_trip");
  p->host_map_ns = r.ns("host_map_cost");
  p->host_unmap_ns = r.ns("host_unmap_cost");
  p->call_ns = r.ns("hyp_call_work");
  p->map_page_ns = r.ns("hyp_map_page_cost");
  p->unmap_page_ns = r.ns("hyp_unmap_page_cost");
  p->spin_ns = r.ns("lock_spin");
  p->alloc_ns = r.ns("alloc_domain_cost");
  p->attach_ns = r.ns("attach_dev_cost");
  p->detach_ns = r.ns("detach_dev_cost");
  p->free_ns = r.ns("free_domain_cost");
  return p;
}

PinPlan pin_plan(const DomainSpec&, const std::vector<const DeviceSpec*>&) { return PinPlan{}; }

enum Hypercall { kMapPages, kUnmapPages, kAllocDomain, kAttachDev, kDetachDev, kFreeDomain, kHypercalls };
constexpr const char* kHypercallNames[kHypercalls] = {"map_pages",  "unmap_pages", "alloc_domain",
                                                      "attach_dev", "detach_dev",  "free_domain"};

class HypPrivateDomain final : public Domain {
 public:
  HypPrivateDomain(const DomainSpec& spec, uint32_t id)
      : Domain(spec, id), p_(kind_params<HypPrivateParams>(spec)), hyp_(make_page_table(spec.format)) {
    resident_fraction_ = 1.0;  // the host's own memory
    set_iommu_tables(hyp_.get(), nullptr);
    const uint64_t setup[] = {p_.alloc_ns, p_.attach_ns, p_.detach_ns, p_.free_ns};
    for (int k = kAllocDomain; k <= kFreeDomain; ++k) latency_[k].record(p_.hvc_ns + setup[k - kAllocDomain]);
  }

  bool faultable() const override { return false; }
  bool answers_page_requests() const override { return false; }
  bool dma_translates() const override { return true; }

  bool dma_map(DmaApiEnv& env, uint64_t iova, const std::vector<uint64_t>& gpas) override {
    const uint64_t n = gpas.size();
    env.cpu(p_.host_map_ns * n);
    const uint64_t t0 = enter(env);
    busy_until_ = env.svc().now_ns() + p_.call_ns + n * p_.map_page_ns;  // the lock's holder until then
    env.cpu(p_.call_ns + n * p_.map_page_ns);
    for (size_t i = 0; i < n; ++i) hyp_->map(iova + i * kBasePageBytes, frame_of(gpas[i]), kBasePageBytes, 12, true);
    latency_[kMapPages].record(env.svc().now_ns() - t0);
    return true;
  }

  std::vector<uint64_t> dma_unmap(DmaApiEnv& env, uint64_t iova, size_t n, bool) override {
    const uint64_t hi = iova + n * kBasePageBytes;
    env.cpu(p_.host_unmap_ns * n);
    const uint64_t t0 = enter(env);
    holding_ = true;  // until the invalidation completed: its end is not known ahead
    env.cpu(p_.call_ns + n * p_.unmap_page_ns);
    std::vector<uint64_t> keys;
    if (env.checker()) keys = env.checker()->on_zap(iommu_view().id, iova, hi, nullptr, &iommu_view());
    hyp_->unmap(iova, hi - iova);
    env.flush(iommu_view(), n == 1 ? InvKind::kPage : InvKind::kRange, iova, hi, keys);  // TLBI by range, then CMD_SYNC, waited for
    holding_ = false;
    busy_until_ = env.svc().now_ns();
    latency_[kUnmapPages].record(env.svc().now_ns() - t0);
    return {};  // the hypervisor's flush completed them
  }

  // The hypervisor flushed inside unmap_pages: the host's flush (strict or lazy) is empty.
  void dma_flush(DmaApiEnv&, InvKind, uint64_t, uint64_t, bool, const std::vector<uint64_t>&) override {}

  void report(nlohmann::json* out) const override {
    (*out)["policy"] = "hyp_map_per_call";  // the hypervisor maps what the host asks, call by call
    (*out)["effective_policy"] = "hyp_map_per_call";
    (*out)["hyp_pt_bytes"] = hyp_->pt_bytes();
    nlohmann::json by = nlohmann::json::object();
    uint64_t n = 0;
    for (int k = 0; k < kHypercalls; ++k) {
      by[kHypercallNames[k]] = {{"count", latency_[k].count()}, {"latency_ns", histogram_json(latency_[k])}};
      n += latency_[k].count();
    }
    (*out)["hypercalls"] = {{"count", n}, {"by_kind", by}, {"lock_wait_ns", histogram_json(lock_wait_)}};
  }

 private:
  // The HVC into the hypervisor, then the lock (spinning while another CPU holds it). Returns
  // when the call was made; on return the caller holds the lock.
  uint64_t enter(DmaApiEnv& env) {
    const uint64_t t0 = env.svc().now_ns();
    env.cpu(p_.hvc_ns);  // entry and exit, charged at entry
    const uint64_t want = env.svc().now_ns();
    for (;;) {
      const uint64_t now = env.svc().now_ns();
      if (holding_)
        env.cpu(p_.spin_ns);
      else if (busy_until_ > now)
        env.cpu(busy_until_ - now);
      else
        break;
    }
    lock_wait_.record(env.svc().now_ns() - want);
    return t0;
  }

  const HypPrivateParams& p_;
  std::unique_ptr<PageTable> hyp_;  // the hypervisor's private table, IOVA -> HPA
  bool holding_ = false;            // a CPU holds the lock until its invalidation completes
  uint64_t busy_until_ = 0;         // else: the lock is held until then
  Histogram latency_[kHypercalls];
  Histogram lock_wait_;  // per map_pages or unmap_pages call
};

std::unique_ptr<Domain> make(const DomainSpec& spec, uint32_t id) {
  return std::make_unique<HypPrivateDomain>(spec, id);
}

}  // namespace

extern const DomainKindInfo kHypPrivateKind{
    "hyp_private",
    "pKVM: a private Arm table only the hypervisor writes; the host maps and unmaps by hypercalls under one lock",
    &kHypPrivateTable, read, pin_plan, make, false};

}  // namespace iopf
