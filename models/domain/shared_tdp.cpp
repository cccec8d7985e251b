// Domain kind "shared_tdp" (seed 000): the IOMMU's stage 2 is KVM's TDP/EPT table, exported
// to the IOMMU. Pages become present when a vCPU or an I/O page fault touches them; when the
// host takes a page away (reclaim, migration, THP split or collapse, dirty logging) the MMU
// notifier invalidates the IOMMU and the device ATCs before the page is reused.
//
// Policies (seed 000's options): pin_all (everything pinned, as VFIO), fault_all (nothing
// pinned), pin_intolerant_paths (pin, pre-faulted, the regions that paths which cannot fault
// touch), allow_list (fault only if every attached device tolerates faults on every path,
// else pin all).
// Host threads while devices run, where the scenario asks: vCPUs touching random pages,
// migration, khugepaged, dirty logging (models/host/activity.cpp).
// The Arm MSI doorbell (seed 000; Arm formats only): the GIC ITS doorbell page is mapped at a
// reserved IOVA slot the guest does not use, the first 2 MiB boundary above guest memory (QEMU's
// virt machine likewise keeps its ITS, 0x08080000, outside guest RAM). Devices' MSIs are DMA
// writes there (models/device/device.hpp, msi_every_dmas). The slot is mapped at start as a
// 4 KiB leaf of its own, outside guest memory: reclaim, THP split and collapse, migration and
// dirty logging never see it, so it is never zapped. msi_doorbell "unmapped" leaves it out:
// every MSI then faults (an MSI cannot wait for a page request; the IOMMU drops it).
// Does not model: KSM, NUMA balancing policy, the cost of exporting the table, x86 interrupt
// remapping (no doorbell slot on other formats), the ITS's own work.
#include "models/common/params.hpp"
#include "models/domain/kinds.hpp"
#include "models/host/activity.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "models/common/sizes.hpp"

namespace iopf {

namespace {

enum class Policy : uint8_t { kPinAll, kFaultAll, kPinIntolerantPaths, kAllowList };
constexpr EnumTable<Policy, 4> kPolicyNames{{{Policy::kPinAll, "pin_all"},
                                             {Policy::kFaultAll, "fault_all"},
                                             {Policy::kPinIntolerantPaths, "pin_intolerant_paths"},
                                             {Policy::kAllowList, "allow_list"}}};

enum class Doorbell : uint8_t { kMapped, kUnmapped };
constexpr EnumTable<Doorbell, 2> kDoorbellNames{{{Doorbell::kMapped, "mapped"}, {Doorbell::kUnmapped, "unmapped"}}};
// The GIC ITS's GITS_TRANSLATER frame in QEMU's virt machine (ITS at 0x08080000, its second
// 64 KiB frame): the host-physical page MSIs write to.
constexpr uint64_t kItsDoorbellHpa = 0x08090000;

const ParamTable kSharedTdpTable{
    "domain (kind shared_tdp)",
    {
        {"policy", ParamType::Enum, "\"fault_all\"",
         "pin_all (like VFIO), fault_all, pin_intolerant_paths (pin what paths that cannot fault touch), "
         "allow_list (fault only if every device tolerates faults on every path, else pin all)",
         "", enum_choices(kPolicyNames)},
        {"resident_fraction", ParamType::Double, "0.0", "fraction of pages present at start", "chosen", "", 0, 1},
        {"fault_cost", ParamType::Dist, "\"3.65us\"",
         "host CPU time of one fault besides zeroing (a minor fault also zeroes the page it makes present, at "
         "host.zero_bandwidth: 348 ns for 4 KiB, 178 us for 2 MiB)",
         "KVM minor fault 2.9-6.7 us (KVM selftests demand_paging_test figures, 2023): 4 us for 4 KiB in all",
         "", 0, 1e12},
        {"major_fault_cost", ParamType::Dist, "\"3us\"", "extra host CPU time of a major fault, besides the swap-in I/O",
         "chosen so a major fault adds about 60 us with the default swap (NP-RDMA, arXiv 2310.11062)", "", 0, 1e12},
        {"vcpu_touch_rate", ParamType::Rate, "0",
         "guest memory accesses to random pages per second, all vCPUs together (0: none); a vCPU waits for its "
         "own faults", "", "", 0, 1e12},
        {"vcpus", ParamType::Int, "4", "guest vCPUs sharing vcpu_touch_rate", "chosen", "", 1, 4096},
        {"vcpu_write_fraction", ParamType::Double, "0.3", "fraction of vCPU touches that write", "chosen", "", 0, 1},
        {"migration_rate", ParamType::Rate, "0", "page migrations per second (compaction, NUMA balancing; 0: none)", "",
         "", 0, 1e12},
        {"migration_copy", ParamType::Ns, "\"1us\"", "host CPU time to copy one migrated 4 KiB page",
         "chosen (4 KiB at about 4 GB/s)", "", 0, 1e12},
        {"thp_collapse_rate", ParamType::Rate, "0",
         "khugepaged: attempts per second to collapse a 2 MiB region of resident 4 KiB pages back into one "
         "2 MiB page (page_size 2MiB only; 0: off)", "", "", 0, 1e12},
        {"thp_collapse_copy", ParamType::Ns, "\"100us\"", "host CPU time to copy 2 MiB into a new huge page",
         "chosen (2 MiB at about 20 GB/s)", "", 0, 1e12},
        {"dirty_log_interval", ParamType::Ns, "0", "dirty logging: write-protect every resident page this often (0: off)",
         "", "", 0, 1e15},
        {"dirty_log_start", ParamType::Ns, "0", "dirty logging: first write-protect", "", "", 0, 1e15},
        {"msi_doorbell", ParamType::Enum, "\"mapped\"",
         "Arm formats: the ITS doorbell page at its reserved IOVA slot (first 2 MiB boundary above guest memory) "
         "is mapped at start and never taken away, or left unmapped (devices' MSIs fault)",
         "an Arm platform maps the ITS doorbell for MSIs behind an SMMU (Linux reserves an MSI IOVA window)",
         enum_choices(kDoorbellNames)},
    }};

struct SharedTdpParams final : DomainKindParams {
  Policy policy = Policy::kFaultAll;
  double resident_fraction = 0;
  Distribution fault_cost;        // host work to make one absent page present (minor fault)
  Distribution major_fault_cost;  // extra host work of a major fault (besides the swap-in I/O)
  double vcpu_touch_rate_per_s = 0;  // guest vCPU accesses to random pages, all vCPUs
  uint32_t vcpus = 1;
  double vcpu_write_fraction = 0;
  double migration_rate_per_s = 0;
  uint64_t migration_copy_ns = 0;
  double thp_collapse_rate_per_s = 0;
  uint64_t thp_collapse_copy_ns = 0;
  uint64_t dirty_log_interval_ns = 0;  // 0: off
  uint64_t dirty_log_start_ns = 0;
  Doorbell doorbell = Doorbell::kMapped;
};

std::shared_ptr<const DomainKindParams> read(const ObjReader& r, const DomainSpec& common) {
  auto p = std::make_shared<SharedTdpParams>();
  p->policy = r.choice("policy", kPolicyNames);
  p->resident_fraction = r.real("resident_fraction");
  p->fault_cost = r.dist("fault_cost");
  p->major_fault_cost = r.dist("major_fault_cost");
  p->vcpu_touch_rate_per_s = r.rate_per_s("vcpu_touch_rate");
  p->vcpus = static_cast<uint32_t>(r.integer("vcpus"));
  p->vcpu_write_fraction = r.real("vcpu_write_fraction");
  p->migration_rate_per_s = r.rate_per_s("migration_rate");
  p->migration_copy_ns = r.ns("migration_copy");
  p->thp_collapse_rate_per_s = r.rate_per_s("thp_collapse_rate");
  p->thp_collapse_copy_ns = r.ns("thp_collapse_copy");
  if (p->thp_collapse_rate_per_s > 0 && common.page_bytes != kHugePageBytes)
    r.fail("thp_collapse_rate", "expected page_size 2MiB on a domain with THP collapse");
  p->dirty_log_interval_ns = r.ns("dirty_log_interval");
  p->dirty_log_start_ns = r.ns("dirty_log_start");
  p->doorbell = r.choice("msi_doorbell", kDoorbellNames);
  if (common.memory_bytes > (1ULL << 40))
    r.fail("memory", "expected at most 1TiB for a shared_tdp domain (moved pages use the upper half of its window)");
  return p;
}

// allow_list resolves to pin_all or fault_all by the devices attached.
Policy effective_policy(Policy policy, const std::vector<const DeviceSpec*>& devices) {
  if (policy != Policy::kAllowList) return policy;
  for (const DeviceSpec* dev : devices)
    for (const PathSpec& p : dev->paths)
      if (!dev->pri || !p.fault_tolerant) return Policy::kPinAll;
  return Policy::kFaultAll;
}

PinPlan pin_plan(const DomainSpec& spec, const std::vector<const DeviceSpec*>& devices) {
  PinPlan plan;
  const Policy policy = effective_policy(kind_params<SharedTdpParams>(spec).policy, devices);
  if (policy == Policy::kPinAll) return PinPlan{true, {}, spec.memory_bytes};
  if (policy != Policy::kPinIntolerantPaths) return plan;
  std::vector<std::pair<uint64_t, uint64_t>> r;
  for (const DeviceSpec* dev : devices)
    for (const PathSpec& p : dev->paths) {
      if (dev->pri && p.fault_tolerant) continue;
      const uint64_t lo = p.workload.region_base & ~kBasePageMask;
      const uint64_t hi = (p.workload.region_base + p.workload.region_bytes + kBasePageMask) & ~kBasePageMask;
      if (lo < spec.memory_bytes) r.emplace_back(lo, std::min(hi, spec.memory_bytes));  // guest memory only
    }
  std::sort(r.begin(), r.end());
  for (const auto& [lo, hi] : r) {
    if (!plan.ranges.empty() && lo <= plan.ranges.back().second)
      plan.ranges.back().second = std::max(plan.ranges.back().second, hi);
    else
      plan.ranges.emplace_back(lo, hi);
  }
  for (const auto& [lo, hi] : plan.ranges) plan.bytes += hi - lo;
  return plan;
}

class SharedTdpDomain final : public Domain {
 public:
  SharedTdpDomain(const DomainSpec& spec, uint32_t id) : Domain(spec, id), p_(kind_params<SharedTdpParams>(spec)) {
    resident_fraction_ = p_.resident_fraction;
    fault_cost_ = p_.fault_cost;
    major_fault_cost_ = p_.major_fault_cost;
    if (has_doorbell() && p_.doorbell == Doorbell::kMapped)
      table().map(doorbell_iova(), kItsDoorbellHpa, kBasePageBytes, kBasePageLg2, true);
  }

  bool msi_doorbell_iova(uint64_t* iova) const override {
    *iova = doorbell_iova();
    return has_doorbell();
  }

  bool moves_pages() const override {
    return faultable() && (p_.migration_rate_per_s > 0 || p_.thp_collapse_rate_per_s > 0 || p_.dirty_log_interval_ns > 0);
  }

  void start(DomainRun& run) override {
    if (!faultable()) return;  // pinned by its policy: nothing moves
    HostActivity& act = run.activity;
    const size_t di = run.index;
    const ActivitySpan span{run.ready_ns, run.end_ns};
    const std::string& name = spec().name;
    if (p_.vcpu_touch_rate_per_s > 0)
      for (uint32_t v = 0; v < p_.vcpus; ++v)
        run.svc.spawn_daemon("vcpu:" + name + ":" + std::to_string(v), [&act, di, v, span, this] {
          act.vcpu_loop(di, v, p_.vcpu_touch_rate_per_s / p_.vcpus, p_.vcpu_write_fraction, span);
        });
    if (p_.migration_rate_per_s > 0)
      run.svc.spawn_daemon("migrate:" + name, [&act, di, span, this] {
        act.migration_loop(di, p_.migration_rate_per_s, p_.migration_copy_ns, span);
      });
    if (p_.thp_collapse_rate_per_s > 0)
      run.svc.spawn_daemon("khugepaged:" + name, [&act, di, span, this] {
        act.collapse_loop(di, p_.thp_collapse_rate_per_s, p_.thp_collapse_copy_ns, span);
      });
    if (p_.dirty_log_interval_ns > 0)
      run.svc.spawn_daemon("dirty_log:" + name, [&act, di, span, this] {
        act.dirty_log_loop(di, p_.dirty_log_start_ns, p_.dirty_log_interval_ns, span);
      });
  }

  void report(nlohmann::json* out) const override {
    (*out)["policy"] = enum_name(kPolicyNames, p_.policy);
    const Policy effective = !faultable() ? Policy::kPinAll
                             : p_.policy == Policy::kAllowList ? Policy::kFaultAll
                                                                : p_.policy;
    (*out)["effective_policy"] = enum_name(kPolicyNames, effective);
    if (has_doorbell())
      (*out)["msi_doorbell"] = {{"iova", doorbell_iova()}, {"state", enum_name(kDoorbellNames, p_.doorbell)}};
  }

 private:
  bool has_doorbell() const { return spec().format.rfind("arm64_", 0) == 0; }
  uint64_t doorbell_iova() const { return (spec().memory_bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1); }

  const SharedTdpParams& p_;
};

std::unique_ptr<Domain> make(const DomainSpec& spec, uint32_t id) {
  return std::make_unique<SharedTdpDomain>(spec, id);
}

}  // namespace

extern const DomainKindInfo kSharedTdpKind{
    "shared_tdp", "KVM's stage-2 (TDP) table shared with the IOMMU: pages fault in by PRI; policies choose what to pin",
    &kSharedTdpTable, read, pin_plan, make, true};

}  // namespace iopf
