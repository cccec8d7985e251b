// Domain kind "kvm_owned" (seed 003, s390 zPCI pass-through with a KVM-owned IOMMU domain): the
// IOMMU uses a host table (IOVA -> HPA, the domain's format) that the hypervisor keeps in step
// with the guest's own DMA table (IOVA -> GPA, guest_format). The domain has three states, as
// the seed's steps say: allocated (VFIO_SET_IOMMU; maps refused), KVM registered (the KVM
// "start" ioctl, kvm_register after the domain is ready; maps still refused), and anchored (the
// guest's table anchor, its IOAT, registered: anchor_register; maps allowed). Every
// anchor_clear_period after the first registration the guest clears its anchor and registers a
// new one anchor_down later; meanwhile maps are refused again. The guest makes each anchor
// change itself (an intercepted instruction, vm_exit plus anchor_work), so a change takes
// effect at the first DMA-API call at or after its time; the KVM registration counts then too.
// Clearing the anchor empties the host table (unpin each page), flushes the IOTLB, and drops
// the guest's table (a new anchor starts an empty one).
//
// The guest's DMA API (models/domain/dma_api.hpp): a map writes the guest's entries
// (guest_map_cost per page), then the guest refreshes the range (RPCIT, intercepted:
// vm_exit); the hypervisor (rpcit_work) walks the range (rpcit_walk_entry per entry the guest
// or host table holds there), pins and maps what the guest added (the domain's
// pin_cost_per_page plus host_map_cost) and unmaps and unpins what it removed (host_unmap_cost,
// unpin_cost), then invalidates the IOTLB for what it removed and waits. Unanchored, the
// RPCIT fails: the guest undoes its entries, the map is refused (refused_maps) and the driver
// drops the I/O. An unmap only clears the guest's entries (guest_unmap_cost); its flush is the
// RPCIT: strict, of the unmapped range; lazy (a flush queue), of the whole aperture, so the
// hypervisor walks every entry still mapped. Page requests are answered Invalid.
// Does not model: s390's own table format (region-third, segment and page tables: the
// scenario uses a 3-level format in its place), the host's RPCIT after a map (s390 IOTLBs may
// cache invalid entries; the simulated IOTLB caches none), the hypervisor's locking between
// vCPUs, the guest quiescing its device before it clears its anchor (a DMA on a buffer mapped
// before the clear fails at the IOMMU, as the device's intolerant_fault says), interrupt
// forwarding (AIF).
#include "models/domain/guest_costs.hpp"
#include "models/common/params.hpp"
#include "models/domain/kinds.hpp"
#include "models/host/services.hpp"
#include "models/iommu/checker.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "models/common/sizes.hpp"

namespace iopf {

namespace {

const ParamTable kKvmOwnedTable{
    "domain (kind kvm_owned)",
    {
        {"guest_format", ParamType::String, "\"vtd_ss_3level\"", "the guest's DMA table format (what KVM walks)",
         "chosen: a 3-level table, as s390's (region-third, segment and page tables)"},
        guest_costs::kMapCost,
        guest_costs::kUnmapCost,
        guest_costs::kVmExit,
        {"kvm_register", ParamType::Ns, "\"0ns\"",
         "after the domain is ready: KVM registers with the domain (step 2; maps still refused)", "chosen", "", 0,
         1e15},
        {"anchor_register", ParamType::Ns, "\"0ns\"",
         "after the domain is ready: the guest registers its table anchor (step 3; maps allowed from then); at or "
         "after kvm_register",
         "chosen", "", 0, 1e15},
        {"anchor_clear_period", ParamType::Ns, "\"0ns\"",
         "every this long after anchor_register the guest clears its anchor (0: never)", "chosen", "", 0, 1e15},
        {"anchor_down", ParamType::Ns, "\"0ns\"",
         "how long after each clear the guest registers a new anchor (below anchor_clear_period)", "chosen", "", 0,
         1e15},
        {"anchor_work", ParamType::Ns, "\"5us\"",
         "hypervisor time of an anchor registration or clear (besides vm_exit; a clear's unmapping counts apart)",
         "chosen: an intercept that updates the function's table pointer and KVM's records", "", 0, 1e12},
        {"rpcit_work", ParamType::Ns, "\"1us\"",
         "hypervisor time per intercepted RPCIT besides the walk (decode, find the function, locks)",
         "chosen: handled in the kernel (the seed's KVM-owned design), below kind shadow's 2 us VMM work", "", 0,
         1e9},
        {"rpcit_walk_entry", ParamType::Ns, "\"20ns\"",
         "hypervisor time per guest-table entry an RPCIT walks (read it, compare with the host table)",
         "chosen: consecutive 8-byte entries, 8 per cache line, mostly cache hits", "", 0, 1e9},
        {"host_map_cost", ParamType::Ns, "\"60ns\"", "hypervisor time to write one 4 KiB host-table entry",
         "a 4 KiB map is 50-60 ns in the page-table code (Linux generic_pt v7 cover letter)", "", 0, 1e9},
        {"host_unmap_cost", ParamType::Ns, "\"60ns\"", "hypervisor time to clear one 4 KiB host-table entry",
         "chosen, as host_map_cost", "", 0, 1e9},
        {"unpin_cost", ParamType::Ns, "\"100ns\"", "hypervisor time to unpin one page it unmapped",
         "chosen, as kind shadow", "", 0, 1e9},
    }};

struct KvmOwnedParams final : DomainKindParams {
  guest_costs::Costs guest;
  uint64_t kvm_ns = 0, anchor_ns = 0, period_ns = 0, down_ns = 0, anchor_work_ns = 0;
  uint64_t rpcit_ns = 0, walk_entry_ns = 0, host_map_ns = 0, host_unmap_ns = 0, unpin_ns = 0;
};

std::shared_ptr<const DomainKindParams> read(const ObjReader& r, const DomainSpec&) {
  auto p = std::make_shared<KvmOwnedParams>();
  p->guest = guest_costs::read(r);
  p->kvm_ns = r.ns("kvm_register");
  p->anchor_ns = r.ns("anchor_register");
  p->period_ns = r.ns("anchor_clear_period");
  p->down_ns = r.ns("anchor_down");
  p->anchor_work_ns = r.ns("anchor_work");
  p->rpcit_ns = r.ns("rpcit_work");
  p->walk_entry_ns = r.ns("rpcit_walk_entry");
  p->host_map_ns = r.ns("host_map_cost");
  p->host_unmap_ns = r.ns("host_unmap_cost");
  p->unpin_ns = r.ns("unpin_cost");
  if (p->anchor_ns < p->kvm_ns) r.fail("anchor_register", "expected a time at or after kvm_register");
  if (p->period_ns && p->down_ns >= p->period_ns)
    r.fail("anchor_down", "expected a time below anchor_clear_period");
  if (!p->period_ns && r.has("anchor_down")) r.fail("anchor_down", "expected anchor_clear_period with this key");
  return p;
}

PinPlan pin_plan(const DomainSpec&, const std::vector<const DeviceSpec*>&) { return PinPlan{}; }

// Where the domain's state stands at a time (since the domain was ready), by the schedule.
struct Schedule {
  bool kvm = false;        // KVM registered
  uint64_t registers = 0;  // anchors registered so far
  uint64_t clears = 0;     // anchors cleared so far
  bool anchored() const { return registers > clears; }
};

Schedule schedule_at(const KvmOwnedParams& p, uint64_t t) {
  Schedule s;
  s.kvm = t >= p.kvm_ns;
  if (t < p.anchor_ns) return s;
  const uint64_t since = t - p.anchor_ns;
  s.clears = p.period_ns ? since / p.period_ns : 0;
  const bool down = s.clears > 0 && since - s.clears * p.period_ns < p.down_ns;
  s.registers = down ? s.clears : s.clears + 1;
  return s;
}

class KvmOwnedDomain final : public Domain {
 public:
  KvmOwnedDomain(const DomainSpec& spec, uint32_t id)
      : Domain(spec, id), p_(kind_params<KvmOwnedParams>(spec)), guest_(make_page_table(p_.guest.format)),
        host_(make_page_table(spec.format)) {
    resident_fraction_ = 1.0;  // a running guest's memory
    set_iommu_tables(host_.get(), nullptr);
  }

  bool faultable() const override { return false; }
  bool answers_page_requests() const override { return false; }
  bool dma_translates() const override { return true; }

  bool dma_map(DmaApiEnv& env, uint64_t iova, const std::vector<uint64_t>& gpas) override {
    sync_state(env);
    const uint64_t n = gpas.size(), hi = iova + n * kBasePageBytes;
    env.cpu(p_.guest.map_ns * n);
    for (size_t i = 0; i < n; ++i) {
      guest_->map(iova + i * kBasePageBytes, gpas[i], kBasePageBytes, 12, true);
      guest_pages_[iova + i * kBasePageBytes] = gpas[i];
    }
    if (rpcit(env, TrapCause::kMap, InvKind::kRange, iova, hi)) return true;
    // The RPCIT failed: the guest takes its entries back and the map fails.
    env.cpu(p_.guest.unmap_ns * n);
    guest_->unmap(iova, hi - iova);
    guest_pages_.erase(guest_pages_.lower_bound(iova), guest_pages_.lower_bound(hi));
    ++refused_[seen_.kvm ? 1 : 0];
    return false;
  }

  // The guest clears its entries; the host keeps them until the flush (the RPCIT).
  std::vector<uint64_t> dma_unmap(DmaApiEnv& env, uint64_t iova, size_t n, bool) override {
    sync_state(env);
    const uint64_t hi = iova + n * kBasePageBytes;
    env.cpu(p_.guest.unmap_ns * n);
    guest_->unmap(iova, hi - iova);
    guest_pages_.erase(guest_pages_.lower_bound(iova), guest_pages_.lower_bound(hi));
    return {};
  }

  void dma_flush(DmaApiEnv& env, InvKind kind, uint64_t lo, uint64_t hi, bool, const std::vector<uint64_t>&) override {
    sync_state(env);
    rpcit(env, TrapCause::kFlush, kind, lo, hi);
  }

  void report(nlohmann::json* out) const override {
    (*out)["policy"] = "pin_per_map";  // the hypervisor pins what the guest's RPCITs map
    (*out)["effective_policy"] = "pin_per_map";
    (*out)["guest_format"] = p_.guest.format;
    (*out)["guest_pt_bytes"] = guest_->pt_bytes();
    (*out)["host_pt_bytes"] = host_->pt_bytes();
    (*out)["state"] = !seen_.kvm ? "allocated" : seen_.anchored() ? "anchored" : "kvm_registered";
    (*out)["refused_maps"] = {{"count", refused_[0] + refused_[1]}, {"no_kvm", refused_[0]}, {"no_anchor", refused_[1]}};
    (*out)["state_changes"] = {{"count", (seen_.kvm ? 1 : 0) + seen_.registers + seen_.clears},
                               {"kvm_register", seen_.kvm ? 1 : 0},
                               {"anchor_register", seen_.registers},
                               {"anchor_clear", seen_.clears},
                               {"cpu_ns", anchor_cpu_ns_}};
    const Rpcits& m = rpcit_[0];
    const Rpcits& f = rpcit_[1];
    nlohmann::json by = nlohmann::json::object();
    for (int c = 0; c < 2; ++c)
      by[c ? "flush" : "map"] = {{"count", rpcit_[c].latency_ns.count()}, {"refused", rpcit_[c].refused},
                                 {"entries_walked", rpcit_[c].walked}, {"pages_mapped", rpcit_[c].mapped},
                                 {"pages_unmapped", rpcit_[c].unmapped}, {"cpu_ns", rpcit_[c].cpu_ns},
                                 {"latency_ns", histogram_json(rpcit_[c].latency_ns)}};
    (*out)["rpcit"] = {{"count", m.latency_ns.count() + f.latency_ns.count()},
                       {"refused", m.refused + f.refused},
                       {"entries_walked", m.walked + f.walked},
                       {"cpu_ns", m.cpu_ns + f.cpu_ns},
                       {"by_cause", by}};
    traps_json(dma_stats_if_used(), out);
  }

 private:
  // The anchor changes due by now, made on the calling vCPU (intercepted, as the guest makes them).
  void sync_state(DmaApiEnv& env) {
    const uint64_t now = env.svc().now_ns();
    const Schedule want = schedule_at(p_, now > setup_ns() ? now - setup_ns() : 0);
    const uint64_t changes = (want.registers - seen_.registers) + (want.clears - seen_.clears);
    if (changes == 0 && want.kvm == seen_.kvm) return;
    const uint64_t t0 = env.svc().now_ns();
    env.cpu(changes * (p_.guest.vm_exit_ns + p_.anchor_work_ns));
    if (want.clears > seen_.clears && seen_.anchored()) clear_host(env);
    if (want.clears > seen_.clears) {  // a new anchor starts with an empty guest table
      guest_ = make_page_table(p_.guest.format);
      guest_pages_.clear();
    }
    seen_ = want;
    anchor_cpu_ns_ += env.svc().now_ns() - t0;
  }

  // The anchor was cleared: the hypervisor unmaps and unpins everything, then flushes.
  void clear_host(DmaApiEnv& env) {
    if (host_pages_.empty()) return;
    std::vector<uint64_t> keys;
    for (const uint64_t va : host_pages_) zap(env, va, &keys);
    env.cpu(host_pages_.size() * (p_.host_unmap_ns + p_.unpin_ns));
    env.stats().pinned_pages -= host_pages_.size();
    host_pages_.clear();
    env.flush(iommu_view(), InvKind::kDomain, 0, ~0ULL, keys);
  }

  void zap(DmaApiEnv& env, uint64_t va, std::vector<uint64_t>* keys) {
    if (env.checker()) {
      std::vector<uint64_t> k = env.checker()->on_zap(iommu_view().id, va, va + kBasePageBytes, nullptr, &iommu_view());
      keys->insert(keys->end(), k.begin(), k.end());
    }
    host_->unmap(va, kBasePageBytes);
  }

  // An intercepted RPCIT of [lo, hi): the hypervisor brings the host table in step with the
  // guest's there. False when no anchor is registered (the RPCIT fails).
  bool rpcit(DmaApiEnv& env, TrapCause cause, InvKind kind, uint64_t lo, uint64_t hi) {
    const uint64_t t0 = env.svc().now_ns();
    Rpcits& st = rpcit_[cause == TrapCause::kMap ? 0 : 1];
    if (!seen_.anchored()) {
      ++st.refused;
      env.trap(cause, p_.guest.vm_exit_ns, p_.rpcit_ns);
      st.cpu_ns += p_.guest.vm_exit_ns + p_.rpcit_ns;
      st.latency_ns.record(env.svc().now_ns() - t0);
      return false;
    }
    std::vector<uint64_t> added, keys;
    uint64_t walked = 0, removed = 0;
    auto g = guest_pages_.lower_bound(lo);
    auto h = host_pages_.lower_bound(lo);
    // Walk the entries either table holds in the range, in address order.
    while ((g != guest_pages_.end() && g->first < hi) || (h != host_pages_.end() && *h < hi)) {
      const uint64_t gv = g != guest_pages_.end() && g->first < hi ? g->first : ~0ULL;
      const uint64_t hv = h != host_pages_.end() && *h < hi ? *h : ~0ULL;
      ++walked;
      if (gv < hv) {
        added.push_back(gv), ++g;  // the guest mapped it
      } else if (hv < gv) {
        zap(env, hv, &keys), ++removed, h = host_pages_.erase(h);  // the guest unmapped it
      } else {
        ++g, ++h;  // unchanged
      }
    }
    const uint64_t per_add = spec().pin_ns_per_page + p_.host_map_ns;
    const uint64_t work =
        p_.rpcit_ns + walked * p_.walk_entry_ns + added.size() * per_add + removed * (p_.host_unmap_ns + p_.unpin_ns);
    env.trap(cause, p_.guest.vm_exit_ns, work);
    for (const uint64_t va : added) {
      host_->map(va, frame_of(guest_pages_.at(va)), kBasePageBytes, 12, true);
      host_pages_.insert(va);
    }
    DmaApiStats& s = env.stats();
    s.pinned_pages = s.pinned_pages + added.size() - removed;
    s.max_pinned_pages = std::max(s.max_pinned_pages, s.pinned_pages);
    if (removed) env.flush(iommu_view(), removed == 1 && kind != InvKind::kDomain ? InvKind::kPage : kind, lo, hi, keys);
    st.walked += walked, st.mapped += added.size(), st.unmapped += removed;
    st.cpu_ns += p_.guest.vm_exit_ns + work;
    st.latency_ns.record(env.svc().now_ns() - t0);
    return true;
  }

  const KvmOwnedParams& p_;
  std::unique_ptr<PageTable> guest_;          // the guest's DMA table, IOVA -> GPA
  std::unique_ptr<PageTable> host_;           // what the IOMMU uses, IOVA -> HPA
  std::map<uint64_t, uint64_t> guest_pages_;  // the guest table's leaves: IOVA -> GPA, in order
  std::set<uint64_t> host_pages_;             // the host table's leaves (IOVAs), in order
  Schedule seen_;                             // the state the domain is in
  uint64_t refused_[2] = {};                  // refused maps: before KVM registered, without an anchor
  uint64_t anchor_cpu_ns_ = 0;                // vCPU time of the anchor changes (a clear's unmapping included)
  struct Rpcits {
    uint64_t refused = 0, walked = 0, mapped = 0, unmapped = 0;
    uint64_t cpu_ns = 0;   // vCPU time in the intercept (exit and hypervisor work; not the flush wait)
    Histogram latency_ns;  // per RPCIT: trap to return, the IOTLB flush it waits for included
  };
  Rpcits rpcit_[2];  // a map's RPCIT, a flush's (strict: of the range; lazy: of the aperture)
};

std::unique_ptr<Domain> make(const DomainSpec& spec, uint32_t id) { return std::make_unique<KvmOwnedDomain>(spec, id); }

}  // namespace

extern const DomainKindInfo kKvmOwnedKind{
    "kvm_owned",
    "s390 KVM-owned: maps refused until KVM and the guest's table anchor are registered; each guest RPCIT makes "
    "the hypervisor walk the range and update the host table",
    &kKvmOwnedTable, read, pin_plan, make, false};

}  // namespace iopf
