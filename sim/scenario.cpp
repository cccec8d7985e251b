// Scenario format v1: parameter tables (the one declaration of every key, its default and
// the default's source) and the loader that validates a file against them.
#include "sim/scenario.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <algorithm>
#include <set>
#include <sstream>

#include "models/pagetable/page_table.hpp"
#include "sim/input_error.hpp"
#include "sim/params.hpp"

namespace iopf {
using nlohmann::json;

namespace {

const ParamTable kScenarioTable{
    "scenario",
    {
        {"schema", ParamType::String, nullptr, "format tag; must be \"iopfsim.scenario/1\"", ""},
        {"name", ParamType::String, nullptr, "scenario name, copied to the report", ""},
        {"seed", ParamType::Int, "1", "seed of every random stream; --seed overrides", "chosen", "", 0, 9.2e18},
        {"duration", ParamType::Ns, "\"1ms\"", "simulated time the devices issue DMAs for", "chosen", "", 1, 1e15},
    }};

const ParamTable kHostTable{
    "host",
    {
        {"cores", ParamType::Int, "4", "host CPU cores that run fault handlers", "chosen", "", 1, 4096},
        {"memory_latency", ParamType::Ns, "\"100ns\"",
         "DRAM access behind the root complex, per DMA and per page-walk read issued by the host side",
         "chosen so a 64 B DMA read round trip is 2 x 250 ns + 100 ns = 600 ns, the pcie-bench median "
         "(Neugebauer et al., SIGCOMM 2018)", "", 0, 1e9},
        {"irq_latency", ParamType::Ns, "\"2us\"", "page request interrupt until the host fault handler runs",
         "chosen so a minor IOPF totals about 9 us, the IAA SVA average (QEMU qpl-compression docs)", "", 0, 1e9},
        {"memory", ParamType::Bytes, "\"64GiB\"", "host RAM available to guest memory (pinned and resident)",
         "chosen", "", 4096, 1.8e19},
        {"free_target", ParamType::Bytes, "\"16MiB\"", "reclaim starts when less is free and stops when this much is",
         "chosen (a kswapd high watermark)", "", 0, 1.8e19},
        {"swap_read_bandwidth", ParamType::Bandwidth, "\"2GB/s\"", "swap device read bandwidth",
         "chosen (a datacenter NVMe SSD)", "", 1, 1e15},
        {"swap_write_bandwidth", ParamType::Bandwidth, "\"1GB/s\"", "swap device write bandwidth",
         "chosen (a datacenter NVMe SSD)", "", 1, 1e15},
        {"swap_latency", ParamType::Ns, "\"55us\"", "swap device access latency",
         "chosen so a major fault adds about 60 us (NP-RDMA, arXiv 2310.11062, domain.md)", "", 0, 1e12},
    }};

const ParamTable kIommuTable{
    "iommu",
    {
        {"iotlb_lookup", ParamType::Ns, "\"5ns\"", "IOTLB lookup time, paid by every untranslated DMA and ATS request",
         "chosen (a few cycles of a 1-2 GHz IOMMU)", "", 0, 1e6},
        {"walk_mem_read", ParamType::Ns, "\"70ns\"", "one page-table entry read by the walker",
         "chosen so a 4-level miss adds 280 ns, inside pcie-bench's +226..+293 ns IOTLB-miss penalty", "", 0, 1e6},
        {"ats_translation", ParamType::Ns, "\"50ns\"", "IOMMU work per ATS translation request, before the lookup",
         "chosen", "", 0, 1e6},
        {"prq_depth", ParamType::Int, "2048", "page request queue entries", "Linux intel-iommu prq (domain.md)", "",
         1, 1 << 20},
        {"prq_handling", ParamType::Ns, "\"200ns\"", "IOMMU work to queue one page request and raise it to the host",
         "chosen", "", 0, 1e9},
        {"inv_queue_depth", ParamType::Int, "256", "invalidation queue descriptors", "Linux intel-iommu (domain.md)",
         "", 1, 1 << 20},
        {"inv_desc", ParamType::Ns, "\"500ns\"", "IOMMU work per IOTLB and walk-cache invalidation descriptor",
         "chosen inside the measured 0.1-10 us (Sapphire Rapids, QEMU qpl-compression docs)", "", 1, 1e9},
        {"inv_wait", ParamType::Ns, "\"100ns\"", "wait descriptor: the completion write after all before it",
         "chosen", "", 1, 1e9},
        {"prq_overflow", ParamType::Enum, "\"auto_success\"",
         "a page request that finds the PRQ full: auto_success, the IOMMU answers Success at once and the device "
         "retries (VT-d, as we read its spec); drop, the request is lost and the device times out",
         "", "auto_success|drop"},
    }};

const ParamTable kIotlbTable{
    "iommu.iotlb",
    {
        {"entries_4k", ParamType::Int, "128", "4 KiB entries",
         "chosen: 512 KiB reach, where random 64 B DMA throughput falls (domain.md, Intel does not publish sizes)",
         "", 0, 1 << 20},
        {"ways_4k", ParamType::Int, "8", "associativity of the 4 KiB array", "chosen", "", 1, 1 << 20},
        {"entries_2m", ParamType::Int, "32", "2 MiB entries", "chosen", "", 0, 1 << 20},
        {"ways_2m", ParamType::Int, "4", "associativity of the 2 MiB array", "chosen", "", 1, 1 << 20},
        {"entries_1g", ParamType::Int, "8", "1 GiB entries", "chosen", "", 0, 1 << 20},
        {"ways_1g", ParamType::Int, "8", "associativity of the 1 GiB array", "chosen", "", 1, 1 << 20},
        {"policy", ParamType::Enum, "\"lru\"", "replacement policy", "chosen", "lru|fifo"},
    }};

const ParamTable kWalkCacheTable{
    "iommu.walk_cache",
    {
        {"entries", ParamType::Int, "256", "entries per level (0 disables)", "MMU-600 TCU, Agilex 5 HPS TRM (domain.md)",
         "", 0, 1 << 20},
        {"ways", ParamType::Int, "4", "associativity", "chosen", "", 1, 1 << 20},
        {"policy", ParamType::Enum, "\"lru\"", "replacement policy", "chosen", "lru|fifo"},
    }};

const ParamTable kEngineTable{
    "engine",
    {
        {"quantum", ParamType::Ns, "\"10us\"",
         "longest stretch of simulated time a device path runs inline before syncing with SimGrid; "
         "clamped to the shortest invalidation completion where invalidations can happen",
         "chosen", "", 1, 1e12},
        {"checker", ParamType::Bool, "false", "count stale translation uses and check DMA conservation (slower)",
         "", ""},
        {"unsafe_batching", ParamType::Bool, "false",
         "turn off the quantum clamp and the invalidation drain: breaks the batch rule on purpose, to show "
         "the checker catching stale translation uses; never for results", "", ""},
    }};

const ParamTable kDomainTable{
    "domain",
    {
        {"name", ParamType::String, nullptr, "domain name; devices refer to it", ""},
        {"kind", ParamType::Enum, nullptr, "pinned: all memory pinned and mapped at start; "
                                           "shared_tdp: KVM's stage 2 shared with the IOMMU, pages faulted in",
         "", "pinned|shared_tdp"},
        {"format", ParamType::String, "\"vtd_ss_4level\"", "page-table format (iopfsim list-formats)",
         "VT-d second stage is the EPT format a shared KVM TDP uses"},
        {"memory", ParamType::Bytes, nullptr, "guest memory; IOVA = GPA from 0", "", "", 4096, 1.8e19},
        {"page_size", ParamType::Bytes, "0", "largest leaf to map with: 4KiB, 2MiB, 1GiB, or 0 for the largest "
                                             "alignment allows", "chosen"},
        {"resident_fraction", ParamType::Double, "0.0", "shared_tdp: fraction of pages present at start", "chosen",
         "", 0, 1},
        {"pin_cost_per_4k", ParamType::Ns, "\"1030ns\"", "pinned: time to pin (and zero) one 4 KiB page at start",
         "0.27 s per GiB, Linux commit 4d83de6da265 (domain.md)", "", 0, 1e9},
        {"fault_cost", ParamType::Ns, "\"4us\"", "shared_tdp: host CPU time of one minor fault",
         "KVM minor fault 2.9-6.7 us, demand_paging_test 2023 (domain.md)", "", 0, 1e12},
        {"major_fault_cost", ParamType::Ns, "\"3us\"", "extra host CPU time of a major fault, besides the swap-in I/O",
         "chosen so a major fault adds about 60 us with the default swap (NP-RDMA, domain.md)", "", 0, 1e12},
        {"policy", ParamType::Enum, "\"fault_all\"",
         "shared_tdp: pin_all (like VFIO), fault_all, pin_intolerant_paths (pin what paths that cannot fault "
         "touch), allow_list (fault only if every device tolerates faults on every path, else pin all)",
         "", "pin_all|fault_all|pin_intolerant_paths|allow_list"},
        {"vcpu_touch_rate", ParamType::Rate, "0",
         "guest memory accesses to random pages per second, all vCPUs together (0: none); a vCPU waits for its "
         "own faults", "", "", 0, 1e12},
        {"vcpus", ParamType::Int, "4", "guest vCPUs sharing vcpu_touch_rate", "chosen", "", 1, 4096},
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
    }};

const ParamTable kDeviceTable{
    "device",
    {
        {"name", ParamType::String, nullptr, "device name", ""},
        {"domain", ParamType::String, nullptr, "name of the domain the device is attached to", ""},
        {"pasid", ParamType::Int, "0", "PASID the device's DMAs carry", "", "", 0, (1 << 20) - 1},
        {"ats", ParamType::Bool, "false", "device has ATS and an ATC", ""},
        {"pri", ParamType::Bool, "false", "device has PRI (needs ATS)", ""},
        {"pri_outstanding", ParamType::Int, "32", "outstanding page request allocation",
         "commonly 32 (domain.md)", "", 1, 1 << 16},
        {"atc_lookup", ParamType::Ns, "\"0ns\"", "ATC lookup time", "chosen (overlapped with request issue)", "", 0,
         1e6},
        {"atc_inv", ParamType::Ns, "\"1us\"", "device work per ATS Invalidate Request before its completion",
         "chosen inside the measured 0.1-10 us device-TLB invalidation (QEMU qpl-compression docs)", "", 0, 1e9},
        {"intolerant_fault", ParamType::Enum, "\"abort\"",
         "a path that cannot fault meets an absent page: abort (the DMA fails, its data is lost), drop (the packet "
         "is dropped and the path goes on), stall (the path stops until a device reset)",
         "", "abort|drop|stall"},
        {"reset_cost", ParamType::Ns, "\"100ms\"", "device reset after a stall",
         "PCIe Function Level Reset completes within 100 ms (PCIe base spec)", "", 0, 1e12},
        {"pri_timeout", ParamType::Ns, "\"1ms\"", "no PRG response by then: the request was lost; retry", "chosen", "",
         1, 1e12},
        {"pri_retry_backoff", ParamType::Ns, "\"10us\"", "wait before re-sending a page request", "chosen", "", 0,
         1e12},
        {"prg_pages", ParamType::Int, "1",
         "pages per page request group: the faulting page and the ones after it, one request each (each takes a "
         "PRQ entry), answered by one PRG response", "chosen", "", 1, 512},
        {"pcie_latency", ParamType::Ns, "\"250ns\"", "one-way PCIe latency between device and root complex",
         "chosen with host.memory_latency to give pcie-bench's 600 ns 64 B read round trip", "", 0, 1e9},
        {"pcie_bandwidth", ParamType::Bandwidth, "\"7.88GB/s\"", "PCIe link bandwidth",
         "PCIe Gen3 x8: 8 GT/s x 8 lanes x 128/130", "", 1, 1e15},
    }};

const ParamTable kAtcTable{
    "device.atc",
    {
        {"entries_4k", ParamType::Int, "64", "4 KiB entries", "chosen (gem5 SMMUv3 micro TLB is 32)", "", 0, 1 << 20},
        {"ways_4k", ParamType::Int, "4", "associativity", "chosen", "", 1, 1 << 20},
        {"entries_2m", ParamType::Int, "16", "2 MiB entries", "chosen", "", 0, 1 << 20},
        {"ways_2m", ParamType::Int, "4", "associativity", "chosen", "", 1, 1 << 20},
        {"entries_1g", ParamType::Int, "4", "1 GiB entries", "chosen", "", 0, 1 << 20},
        {"ways_1g", ParamType::Int, "4", "associativity", "chosen", "", 1, 1 << 20},
        {"policy", ParamType::Enum, "\"lru\"", "replacement policy", "chosen", "lru|fifo"},
    }};

const ParamTable kPathTable{
    "path",
    {
        {"name", ParamType::String, nullptr, "DMA path name", ""},
        {"fault_tolerant", ParamType::Bool, "false", "the path can wait for a page request", ""},
    }};

const ParamTable kWorkloadTable{
    "workload",
    {
        {"region_base", ParamType::Bytes, "0", "first IOVA of the region", ""},
        {"region_size", ParamType::Bytes, nullptr, "bytes of IOVA the path touches", "", "", 1, 1.8e19},
        {"pattern", ParamType::Enum, "\"sequential\"",
         "sequential: stream through the region and wrap; ring: a circular buffer of access_size entries, "
         "same order; random: uniform access_size-aligned addresses",
         "", "sequential|random|ring"},
        {"access_size", ParamType::Bytes, "64", "bytes per DMA (power of two, at most 4 KiB)", "chosen", "", 1, 4096},
        {"op", ParamType::Enum, "\"read\"", "DMA direction", "", "read|write"},
        {"rate", ParamType::Rate, nullptr, "open loop: DMAs per second (give rate or outstanding)", "", "", 1e-3, 1e15},
        {"outstanding", ParamType::Int, nullptr, "closed loop: DMAs in flight (give rate or outstanding)", "", "", 1,
         65536},
        {"start", ParamType::Ns, "0", "time of the first DMA", ""},
    }};

const ParamTable kInvalidationTable{
    "invalidation",
    {
        {"name", ParamType::String, nullptr, "source name", ""},
        {"domain", ParamType::String, nullptr, "domain whose mappings change", ""},
        {"kind", ParamType::Enum, "\"page\"", "invalidation granularity sent to the IOMMU and ATCs", "",
         "page|range|domain|pasid|global"},
        {"action", ParamType::Enum, "\"flush\"",
         "flush: caches only; zap: unmap (page absent until faulted back; faultable domains only); "
         "remap: unmap, and map at another host PA once the invalidation completed",
         "", "flush|zap|remap"},
        {"rate", ParamType::Rate, nullptr, "events per second", "", "", 1e-3, 1e15},
        {"region_base", ParamType::Bytes, "0", "first IOVA the events pick from", ""},
        {"region_size", ParamType::Bytes, "0", "bytes the events pick from (0: all of the domain)", ""},
        {"range_size", ParamType::Bytes, "\"4KiB\"", "bytes per event (power of two, aligned); kind page means 4KiB",
         "chosen", "", 4096, 1.8e19},
        {"pasid", ParamType::Int, "0", "PASID, for kind pasid", "", "", 0, (1 << 20) - 1},
        {"start", ParamType::Ns, "0", "time of the first event", ""},
        {"batch_entries", ParamType::Int, "0", "defer and flush the whole domain after this many events (0: off)",
         "Linux flush queue: 256 entries (domain.md)", "", 0, 1 << 20},
        {"batch_timeout", ParamType::Ns, "\"10ms\"", "or this long after the first deferred event",
         "Linux flush queue: 10 ms (domain.md)", "", 1, 1e12},
    }};

struct Registrar {
  Registrar() {
    for (const ParamTable* t : {&kScenarioTable, &kHostTable, &kIommuTable, &kIotlbTable, &kWalkCacheTable,
                                &kEngineTable, &kDomainTable, &kDeviceTable, &kAtcTable, &kPathTable, &kWorkloadTable,
                                &kInvalidationTable})
      register_param_table(t);
  }
};
const Registrar registrar;

const json kEmptyObject = json::object();

const json& sub(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? kEmptyObject : *it;
}

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

TlbGeometry read_tlb(const ObjReader& r) {
  TlbGeometry g;
  const char* e[3] = {"entries_4k", "entries_2m", "entries_1g"};
  const char* w[3] = {"ways_4k", "ways_2m", "ways_1g"};
  for (int c = 0; c < 3; ++c) {
    g.entries[c] = u32(r.integer(e[c]));
    g.ways[c] = u32(r.integer(w[c]));
    if (g.entries[c] == 0) continue;
    if (g.entries[c] % g.ways[c]) r.fail(e[c], "expected a multiple of " + std::string(w[c]) + " (" +
                                              std::to_string(g.ways[c]) + "), found " + std::to_string(g.entries[c]));
    uint32_t sets = g.entries[c] / g.ways[c];
    if (sets & (sets - 1))
      r.fail(e[c], "expected entries/ways to be a power of two (sets), found " + std::to_string(sets) + " sets");
  }
  g.policy = parse_repl_policy(r.enumeration("policy"));
  return g;
}

const json& array_at(const json& obj, const char* key, const std::string& ptr, const std::string& file,
                     bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) throw InputError(file, ptr, std::string("missing required key \"") + key + "\" (an array)");
    static const json empty = json::array();
    return empty;
  }
  if (!it->is_array()) throw InputError(file, ptr + "/" + key, "expected an array, found " + describe_json(*it));
  return *it;
}

bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

}  // namespace

const char* pattern_name(Pattern p) {
  switch (p) {
    case Pattern::kSequential: return "sequential";
    case Pattern::kRandom: return "random";
    case Pattern::kRing: return "ring";
  }
  return "?";
}

PinPlan pin_plan(const Scenario& sc, size_t domain_index) {
  const DomainSpec& d = sc.domains[domain_index];
  PinPlan plan;
  plan.effective = d.policy;
  if (d.policy == Policy::kAllowList) {
    bool all_tolerant = true;
    for (const DeviceSpec& dev : sc.devices) {
      if (dev.domain_index != domain_index) continue;
      for (const PathSpec& p : dev.paths) all_tolerant = all_tolerant && dev.pri && p.fault_tolerant;
    }
    plan.effective = all_tolerant ? Policy::kFaultAll : Policy::kPinAll;
  }
  if (plan.effective == Policy::kPinAll) {
    plan.bytes = d.memory_bytes;
    return plan;
  }
  if (plan.effective == Policy::kPinIntolerantPaths) {
    std::vector<std::pair<uint64_t, uint64_t>> r;
    for (const DeviceSpec& dev : sc.devices) {
      if (dev.domain_index != domain_index) continue;
      for (const PathSpec& p : dev.paths) {
        if (dev.pri && p.fault_tolerant) continue;
        const uint64_t lo = p.workload.region_base & ~0xFFFULL;
        const uint64_t hi = (p.workload.region_base + p.workload.region_bytes + 0xFFF) & ~0xFFFULL;
        r.emplace_back(lo, hi);
      }
    }
    std::sort(r.begin(), r.end());
    for (const auto& [lo, hi] : r) {
      if (!plan.ranges.empty() && lo <= plan.ranges.back().second)
        plan.ranges.back().second = std::max(plan.ranges.back().second, hi);
      else
        plan.ranges.emplace_back(lo, hi);
    }
    for (const auto& [lo, hi] : plan.ranges) plan.bytes += hi - lo;
  }
  return plan;
}

const char* domain_kind_name(DomainKind k) { return k == DomainKind::kPinned ? "pinned" : "shared_tdp"; }

const char* policy_name(Policy p) {
  switch (p) {
    case Policy::kPinAll: return "pin_all";
    case Policy::kFaultAll: return "fault_all";
    case Policy::kPinIntolerantPaths: return "pin_intolerant_paths";
    case Policy::kAllowList: return "allow_list";
  }
  return "?";
}

Scenario parse_scenario(const json& doc, const std::string& file) {
  Scenario sc;
  sc.file = file;
  ObjReader top(doc, "", file, kScenarioTable,
                {"comment", "host", "iommu", "engine", "domains", "devices", "invalidations"});
  if (top.str("schema") != "iopfsim.scenario/1")
    top.fail("schema", "expected \"iopfsim.scenario/1\", found " + describe_json(doc["schema"]));
  sc.name = top.str("name");
  sc.seed = static_cast<uint64_t>(top.integer("seed"));
  sc.duration_ns = top.ns("duration");
  if (doc.contains("comment")) {
    const json& c = doc["comment"];
    if (c.is_string()) sc.comment.push_back(c.get<std::string>());
    else if (c.is_array()) {
      for (size_t i = 0; i < c.size(); ++i) {
        if (!c[i].is_string())
          throw InputError(file, "/comment/" + std::to_string(i), "expected a string, found " + describe_json(c[i]));
        sc.comment.push_back(c[i].get<std::string>());
      }
    } else {
      throw InputError(file, "/comment", "expected a string or an array of strings, found " + describe_json(c));
    }
  }

  {
    ObjReader r(sub(doc, "host"), "/host", file, kHostTable);
    sc.host.cores = u32(r.integer("cores"));
    sc.host.memory_latency_ns = r.ns("memory_latency");
    sc.host.irq_latency_ns = r.ns("irq_latency");
    sc.host.memory_bytes = r.bytes("memory");
    sc.host.free_target_bytes = r.bytes("free_target");
    sc.host.swap_read_bytes_per_s = r.bandwidth_bytes_per_s("swap_read_bandwidth");
    sc.host.swap_write_bytes_per_s = r.bandwidth_bytes_per_s("swap_write_bandwidth");
    sc.host.swap_latency_ns = r.ns("swap_latency");
  }
  {
    const json& j = sub(doc, "iommu");
    ObjReader r(j, "/iommu", file, kIommuTable, {"iotlb", "walk_cache"});
    sc.iommu.iotlb_lookup_ns = r.ns("iotlb_lookup");
    sc.iommu.walk_mem_read_ns = r.ns("walk_mem_read");
    sc.iommu.ats_translation_ns = r.ns("ats_translation");
    sc.iommu.prq_depth = u32(r.integer("prq_depth"));
    sc.iommu.prq_handling_ns = r.ns("prq_handling");
    sc.iommu.inv_queue_depth = u32(r.integer("inv_queue_depth"));
    sc.iommu.inv_desc_ns = r.ns("inv_desc");
    sc.iommu.inv_wait_ns = r.ns("inv_wait");
    sc.iommu.prq_overflow = r.enumeration("prq_overflow") == "drop" ? PrqOverflow::kDrop : PrqOverflow::kAutoSuccess;
    sc.iommu.iotlb = read_tlb(ObjReader(sub(j, "iotlb"), "/iommu/iotlb", file, kIotlbTable));
    ObjReader w(sub(j, "walk_cache"), "/iommu/walk_cache", file, kWalkCacheTable);
    sc.iommu.walk_cache.entries = u32(w.integer("entries"));
    sc.iommu.walk_cache.ways = u32(w.integer("ways"));
    sc.iommu.walk_cache.policy = parse_repl_policy(w.enumeration("policy"));
    const auto& wc = sc.iommu.walk_cache;
    if (wc.entries && (wc.entries % wc.ways || !is_pow2(wc.entries / wc.ways)))
      w.fail("entries", "expected entries/ways to be a whole power of two, found " + std::to_string(wc.entries) +
                            "/" + std::to_string(wc.ways));
  }
  {
    ObjReader r(sub(doc, "engine"), "/engine", file, kEngineTable);
    sc.engine.quantum_ns = r.ns("quantum");
    sc.engine.checker = r.boolean("checker");
    sc.engine.unsafe_batching = r.boolean("unsafe_batching");
  }

  const json& domains = array_at(doc, "domains", "", file, true);
  if (domains.empty()) throw InputError(file, "/domains", "expected at least one domain, found an empty array");
  if (domains.size() > 64) throw InputError(file, "/domains", "expected at most 64 domains, found " + std::to_string(domains.size()));
  std::set<std::string> names;
  for (size_t i = 0; i < domains.size(); ++i) {
    const std::string p = "/domains/" + std::to_string(i);
    ObjReader r(domains[i], p, file, kDomainTable);
    DomainSpec d;
    d.name = r.str("name");
    if (!names.insert(d.name).second) r.fail("name", "expected a unique domain name, found a second \"" + d.name + "\"");
    d.kind = r.enumeration("kind") == "pinned" ? DomainKind::kPinned : DomainKind::kSharedTdp;
    d.format = r.str("format");
    if (!is_page_table_format(d.format)) {
      std::string all;
      for (const auto& n : page_table_format_names()) all += (all.empty() ? "" : ", ") + n;
      r.fail("format", "expected a page-table format (" + all + "), found \"" + d.format + "\"");
    }
    d.memory_bytes = r.bytes("memory");
    if (d.memory_bytes % 4096) r.fail("memory", "expected a multiple of 4KiB, found " + std::to_string(d.memory_bytes));
    auto pt = make_page_table(d.format);
    if (pt->info().va_bits < 64 && d.memory_bytes > (1ULL << pt->info().va_bits))
      r.fail("memory", "expected at most 2^" + std::to_string(pt->info().va_bits) + " bytes for format " + d.format);
    if (d.memory_bytes > (2ULL << 40))
      r.fail("memory", "expected at most 2TiB per domain (each domain has a 2 TiB host-physical window), found " +
                           std::to_string(d.memory_bytes));
    d.page_bytes = r.bytes("page_size");
    if (d.page_bytes != 0 && d.page_bytes != 4096 && d.page_bytes != (2ULL << 20) && d.page_bytes != (1ULL << 30))
      r.fail("page_size", "expected 0, 4KiB, 2MiB or 1GiB, found " + std::to_string(d.page_bytes));
    d.resident_fraction = r.real("resident_fraction");
    d.pin_ns_per_4k = r.ns("pin_cost_per_4k");
    d.fault_ns = r.ns("fault_cost");
    d.major_fault_ns = r.ns("major_fault_cost");
    const std::string pol = r.enumeration("policy");
    d.policy = pol == "pin_all"                ? Policy::kPinAll
               : pol == "pin_intolerant_paths" ? Policy::kPinIntolerantPaths
               : pol == "allow_list"           ? Policy::kAllowList
                                               : Policy::kFaultAll;
    d.vcpu_touch_rate_per_s = r.rate_per_s("vcpu_touch_rate");
    d.vcpus = u32(r.integer("vcpus"));
    d.migration_rate_per_s = r.rate_per_s("migration_rate");
    d.migration_copy_ns = r.ns("migration_copy");
    d.thp_collapse_rate_per_s = r.rate_per_s("thp_collapse_rate");
    d.thp_collapse_copy_ns = r.ns("thp_collapse_copy");
    if (d.thp_collapse_rate_per_s > 0 && d.page_bytes != (2ULL << 20))
      r.fail("thp_collapse_rate", "expected page_size 2MiB on a domain with THP collapse");
    d.dirty_log_interval_ns = r.ns("dirty_log_interval");
    d.dirty_log_start_ns = r.ns("dirty_log_start");
    if (d.kind == DomainKind::kPinned) {
      for (const char* k : {"resident_fraction", "policy", "vcpu_touch_rate", "vcpus", "migration_rate",
                            "thp_collapse_rate", "dirty_log_interval"})
        if (r.has(k)) r.fail(k, std::string("expected no ") + k + " on a pinned domain (all of it is pinned)");
      d.policy = Policy::kPinAll;
    }
    if (d.kind == DomainKind::kSharedTdp && d.memory_bytes > (1ULL << 40))
      r.fail("memory", "expected at most 1TiB for a shared_tdp domain (moved pages use the upper half of its window)");
    sc.domains.push_back(d);
  }

  const json& devices = array_at(doc, "devices", "", file, true);
  if (devices.empty()) throw InputError(file, "/devices", "expected at least one device, found an empty array");
  names.clear();
  for (size_t i = 0; i < devices.size(); ++i) {
    const std::string p = "/devices/" + std::to_string(i);
    ObjReader r(devices[i], p, file, kDeviceTable, {"atc", "paths"});
    DeviceSpec dev;
    dev.name = r.str("name");
    if (!names.insert(dev.name).second) r.fail("name", "expected a unique device name, found a second \"" + dev.name + "\"");
    dev.domain = r.str("domain");
    bool found = false;
    for (size_t k = 0; k < sc.domains.size(); ++k)
      if (sc.domains[k].name == dev.domain) { dev.domain_index = k; found = true; }
    if (!found) r.fail("domain", "expected the name of a domain in /domains, found \"" + dev.domain + "\"");
    dev.pasid = u32(r.integer("pasid"));
    dev.ats = r.boolean("ats");
    dev.pri = r.boolean("pri");
    if (dev.pri && !dev.ats) r.fail("pri", "expected \"ats\": true on a device with PRI (page requests need ATS)");
    dev.pri_outstanding = u32(r.integer("pri_outstanding"));
    dev.atc_lookup_ns = r.ns("atc_lookup");
    dev.atc_inv_ns = r.ns("atc_inv");
    const std::string ia = r.enumeration("intolerant_fault");
    dev.intolerant = ia == "drop" ? IntolerantAction::kDrop : ia == "stall" ? IntolerantAction::kStall : IntolerantAction::kAbort;
    dev.reset_ns = r.ns("reset_cost");
    dev.pri_timeout_ns = r.ns("pri_timeout");
    dev.pri_backoff_ns = r.ns("pri_retry_backoff");
    dev.prg_pages = u32(r.integer("prg_pages"));
    if (dev.prg_pages > dev.pri_outstanding)
      r.fail("prg_pages", "expected at most pri_outstanding (" + std::to_string(dev.pri_outstanding) +
                              ") pages per group, found " + std::to_string(dev.prg_pages));
    dev.pcie_latency_ns = r.ns("pcie_latency");
    dev.pcie_bandwidth_bytes_per_s = r.bandwidth_bytes_per_s("pcie_bandwidth");
    dev.atc = read_tlb(ObjReader(sub(devices[i], "atc"), p + "/atc", file, kAtcTable));
    if (!dev.ats && devices[i].contains("atc")) r.fail("atc", "expected no atc on a device without ATS");

    const DomainSpec& dom = sc.domains[dev.domain_index];
    const json& paths = array_at(devices[i], "paths", p, file, true);
    if (paths.empty()) throw InputError(file, p + "/paths", "expected at least one path, found an empty array");
    std::set<std::string> pnames;
    for (size_t k = 0; k < paths.size(); ++k) {
      const std::string pp = p + "/paths/" + std::to_string(k);
      ObjReader pr(paths[k], pp, file, kPathTable, {"workload"});
      PathSpec path;
      path.name = pr.str("name");
      if (!pnames.insert(path.name).second)
        pr.fail("name", "expected a unique path name in this device, found a second \"" + path.name + "\"");
      path.fault_tolerant = pr.boolean("fault_tolerant");
      if (!paths[k].contains("workload")) throw InputError(file, pp, "missing required key \"workload\" (an object)");
      ObjReader w(paths[k]["workload"], pp + "/workload", file, kWorkloadTable);
      WorkloadSpec& wl = path.workload;
      wl.region_base = w.bytes("region_base");
      wl.region_bytes = w.bytes("region_size");
      const std::string pat = w.enumeration("pattern");
      wl.pattern = pat == "random" ? Pattern::kRandom : pat == "ring" ? Pattern::kRing : Pattern::kSequential;
      const uint64_t acc = w.bytes("access_size");
      if (!is_pow2(acc)) w.fail("access_size", "expected a power of two, found " + std::to_string(acc));
      wl.access_bytes = static_cast<uint32_t>(acc);
      wl.write = w.enumeration("op") == "write";
      wl.start_ns = w.ns("start");
      if (w.has("rate") == w.has("outstanding"))
        throw InputError(file, pp + "/workload", "expected exactly one of \"rate\" (open loop) or \"outstanding\" (closed loop)");
      if (w.has("rate")) wl.rate_per_s = w.rate_per_s("rate");
      else wl.outstanding = u32(w.integer("outstanding"));
      if (wl.region_base % acc)
        w.fail("region_base", "expected a multiple of access_size (" + std::to_string(acc) + ")");
      if (wl.region_bytes % acc || wl.region_bytes < acc)
        w.fail("region_size", "expected a non-zero multiple of access_size (" + std::to_string(acc) + ")");
      if (wl.region_base + wl.region_bytes > dom.memory_bytes || wl.region_base + wl.region_bytes < wl.region_base)
        w.fail("region_size", "expected the region to lie inside domain \"" + dom.name + "\" memory (" +
                                  std::to_string(dom.memory_bytes) + " bytes), found end " +
                                  std::to_string(wl.region_base + wl.region_bytes));
      dev.paths.push_back(path);
    }
    sc.devices.push_back(dev);
  }

  const json& invs = array_at(doc, "invalidations", "", file, false);
  names.clear();
  for (size_t i = 0; i < invs.size(); ++i) {
    const std::string p = "/invalidations/" + std::to_string(i);
    ObjReader r(invs[i], p, file, kInvalidationTable);
    InvalidationSpec inv;
    inv.name = r.str("name");
    if (!names.insert(inv.name).second) r.fail("name", "expected a unique name, found a second \"" + inv.name + "\"");
    const std::string dom = r.str("domain");
    bool found = false;
    for (size_t k = 0; k < sc.domains.size(); ++k)
      if (sc.domains[k].name == dom) { inv.domain_index = k; found = true; }
    if (!found) r.fail("domain", "expected the name of a domain in /domains, found \"" + dom + "\"");
    const DomainSpec& d = sc.domains[inv.domain_index];
    const std::string kind = r.enumeration("kind");
    const char* kinds[] = {"page", "range", "domain", "pasid", "global"};
    for (int k = 0; k < kInvKinds; ++k)
      if (kind == kinds[k]) inv.kind = static_cast<InvKind>(k);
    const std::string action = r.enumeration("action");
    inv.action = action == "zap" ? InvAction::kZap : action == "remap" ? InvAction::kRemap : InvAction::kFlush;
    if (inv.action == InvAction::kZap && d.kind == DomainKind::kPinned)
      r.fail("action", "expected flush or remap on pinned domain \"" + d.name + "\" (pinned pages are never zapped)");
    if (inv.action != InvAction::kFlush && d.memory_bytes > (1ULL << 40))
      r.fail("action", "expected a domain of at most 1TiB for zap and remap (moved pages use the upper half of its window)");
    inv.rate_per_s = r.rate_per_s("rate");
    inv.region_base = r.bytes("region_base");
    inv.region_bytes = r.bytes("region_size");
    if (inv.region_bytes == 0) inv.region_bytes = d.memory_bytes - std::min(inv.region_base, d.memory_bytes);
    inv.range_bytes = inv.kind == InvKind::kPage ? 4096 : r.bytes("range_size");
    if (!is_pow2(inv.range_bytes)) r.fail("range_size", "expected a power of two, found " + std::to_string(inv.range_bytes));
    if (inv.region_base % inv.range_bytes || inv.region_bytes % inv.range_bytes || inv.region_bytes == 0)
      r.fail("region_size", "expected a region that is a non-zero multiple of range_size and aligned to it");
    if (inv.region_base + inv.region_bytes > d.memory_bytes || inv.region_base + inv.region_bytes < inv.region_base)
      r.fail("region_size", "expected the region to lie inside domain \"" + d.name + "\" memory");
    inv.pasid = u32(r.integer("pasid"));
    inv.start_ns = r.ns("start");
    inv.batch_entries = u32(r.integer("batch_entries"));
    inv.batch_timeout_ns = r.ns("batch_timeout");
    sc.invalidations.push_back(inv);
  }

  // Pinned memory can never be reclaimed: it must fit in host RAM.
  uint64_t pinned = 0;
  std::string who;
  for (size_t i = 0; i < sc.domains.size(); ++i) {
    const PinPlan plan = pin_plan(sc, i);
    pinned += plan.bytes;
    if (plan.bytes) who += (who.empty() ? "" : ", ") + sc.domains[i].name + " " + std::to_string(plan.bytes);
  }
  if (pinned > sc.host.memory_bytes)
    throw InputError(file, "/host/memory",
                     "expected host memory of at least the pinned guest memory (" + std::to_string(pinned) +
                         " bytes: " + who + "), found " + std::to_string(sc.host.memory_bytes) +
                         "; pinned memory is never reclaimed, so it cannot be overcommitted");
  return sc;
}

const char* inv_kind_name(InvKind k) {
  switch (k) {
    case InvKind::kPage: return "page";
    case InvKind::kRange: return "range";
    case InvKind::kDomain: return "domain";
    case InvKind::kPasid: return "pasid";
    case InvKind::kGlobal: return "global";
  }
  return "?";
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  json doc = parse_scenario_json(read_scenario_file(path), path);
  for (const std::string& o : overrides) apply_override(doc, path, o);
  return parse_scenario(doc, path);
}

}  // namespace iopf
