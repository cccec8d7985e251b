// Scenario format v1: parameter tables (the one declaration of every key, its default and
// the default's source) and the loader that validates a file against them.
#include "sim/scenario.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <algorithm>
#include <set>
#include <sstream>

#include "models/common/sizes.hpp"
#include "models/common/streams.hpp"
#include "models/domain/kinds.hpp"
#include "models/pagetable/page_table.hpp"
#include "models/common/input_error.hpp"
#include "models/common/params.hpp"
#include "sim/replay_workload.hpp"

namespace iopf {
using nlohmann::json;

namespace {

const ParamTable kScenarioTable{
    "scenario",
    {
        {"schema", ParamType::String, nullptr, "format tag; must be \"iopfsim.scenario/1\"", ""},
        {"name", ParamType::String, nullptr, "scenario name, copied to the report", ""},
        {"seed", ParamType::Int, "1", "seed of every random stream; --seed overrides", "chosen", "", 0, 9.2e18},
        {"duration", ParamType::Ns, "\"1ms\"",
         "the measurement window: statistics count the DMAs due in it (after warmup)", "chosen", "", 1, 1e15},
        {"warmup", ParamType::Ns, "0",
         "simulated time before the window, from when a domain is ready: simulated, not counted", "chosen", "", 0,
         1e15},
    }};

const ParamTable kHostTable{
    "host",
    {
        {"cores", ParamType::Int, "4", "host CPU cores that run fault handlers", "chosen", "", 1, 4096},
        {"memory_latency", ParamType::Ns, "\"100ns\"",
         "DRAM access behind the root complex, per DMA and per page-walk read issued by the host side",
         "chosen so a 64 B DMA read round trip is 2 x 250 ns + 100 ns = 600 ns, the pcie-bench median "
         "(Neugebauer et al., SIGCOMM 2018)", "", 0, 1e9},
        {"irq_latency", ParamType::Dist, "\"2us\"",
         "page request interrupt until the host fault handler runs (per wake-up; a time or a distribution)",
         "chosen so a minor IOPF totals about 9 us, the IAA SVA average (QEMU qpl-compression docs)", "", 0, 1e9},
        {"fault_batch", ParamType::Int, "16",
         "page requests one fault handler takes per wake-up (one interrupt); 1: each request goes to the next idle "
         "handler, as M/M/c assumes", "chosen", "", 1, 4096},
        {"memory", ParamType::Bytes, "\"64GiB\"", "host RAM available to guest memory (pinned and resident)",
         "chosen", "", 4096, 1.8e19},
        {"free_target", ParamType::Bytes, "\"16MiB\"", "reclaim starts when less is free and stops when this much is",
         "chosen (a kswapd high watermark)", "", 0, 1.8e19},
        {"swap_read_bandwidth", ParamType::Bandwidth, "\"2GB/s\"", "swap device read bandwidth",
         "chosen (a datacenter NVMe SSD)", "", 1, 1e15},
        {"swap_write_bandwidth", ParamType::Bandwidth, "\"1GB/s\"", "swap device write bandwidth",
         "chosen (a datacenter NVMe SSD)", "", 1, 1e15},
        {"swap_latency", ParamType::Ns, "\"55us\"", "swap device access latency",
         "chosen so a major fault adds about 60 us (NP-RDMA, arXiv 2310.11062)", "", 0, 1e12},
        {"zero_bandwidth", ParamType::Bandwidth, "\"11.76GB/s\"",
         "rate at which a host core zeroes memory for a fault or a pinned page",
         "demand-fault clearing bandwidth 11.76 GB/s on AMD Genoa (Linux patch \"mm: folio_zero_user: clear pages "
         "sequentially\", 2026)", "", 1, 1e15},
        {"root_complex_bandwidth", ParamType::Bandwidth, "\"63GB/s\"",
         "root complex and memory bandwidth per direction, shared by every device's DMA data (wire bytes)",
         "chosen: a PCIe Gen5 x16 port's 32 GT/s x 16 x 128/130 = 63 GB/s, as if all devices sat behind one "
         "switch; DRAM bandwidth of a socket is higher", "", 1, 1e15},
        {"reclaim_scan_cost", ParamType::Ns, "\"100ns\"", "kswapd CPU time per page it looks at (accessed bit, unmap)",
         "chosen", "", 0, 1e9},
        {"dirty_log_scan_cost", ParamType::Ns, "\"20ns\"",
         "CPU time per resident page a dirty-logging pass write-protects", "chosen", "", 0, 1e9},
    }};

const ParamTable kIommuTable{
    "iommu",
    {
        {"iotlb_lookup", ParamType::Ns, "\"5ns\"", "IOTLB lookup time, paid by every untranslated DMA and ATS request",
         "chosen (a few cycles of a 1-2 GHz IOMMU)", "", 0, 1e6},
        {"walk_mem_read", ParamType::Ns, "\"250ns\"", "one page-table entry read by the walker",
         "chosen so that an IOTLB miss over a window the walk caches cover down to the last level (one read) "
         "adds 250 ns, inside pcie-bench's +226..+293 ns for random 64 B reads past the IOTLB's reach "
         "(Neugebauer et al., SIGCOMM 2018)", "", 0, 1e6},
        {"ats_translation", ParamType::Ns, "\"50ns\"",
         "IOMMU work per ATS translation request, before the lookup; requests queue for it one at a time",
         "chosen", "", 0, 1e6},
        {"walkers", ParamType::Int, "16", "page-walk slots: walks in progress at once, shared by all devices",
         "chosen: 16, the walk slots of gem5's SMMUv3 model (SMMUv3.py); Intel publishes no VT-d walker count, "
         "and 16 x 250 ns reads sustain 64 M one-read walks/s, more than one device's misses in pcie-bench's "
         "random-read runs, so walkers limit only when several devices miss at once", "", 1, 4096},
        {"prq_depth", ParamType::Int, "2048", "page request queue entries", "Linux intel-iommu: PRQ sized for 2048 descriptors", "",
         1, 1 << 20},
        {"prq_handling", ParamType::Ns, "\"200ns\"", "IOMMU work to queue one page request and raise it to the host",
         "chosen", "", 0, 1e9},
        {"inv_queue_depth", ParamType::Int, "256", "invalidation queue descriptors", "Linux intel-iommu: a 4 KiB queue page of 256 descriptors",
         "", 1, 1 << 20},
        {"inv_desc", ParamType::Ns, "\"500ns\"", "IOMMU work per IOTLB and walk-cache invalidation descriptor",
         "chosen inside the measured 0.1-10 us (Sapphire Rapids, QEMU qpl-compression docs)", "", 1, 1e9},
        {"inv_wait", ParamType::Ns, "\"100ns\"", "wait descriptor: the completion write after all before it",
         "chosen", "", 1, 1e9},
        {"inv_desc_interval", ParamType::Ns, "\"50ns\"",
         "IOMMU time between the descriptors of one batch (the first takes inv_desc): the queue is worked "
         "pipelined, only the wait descriptor waits for those before it",
         "chosen: one 32 B descriptor fetch and a tag match per descriptor; the measured 0.1-10 us (Sapphire "
         "Rapids, QEMU qpl-compression docs) are whole submissions, not one descriptor of a batch", "", 0, 1e9},
        {"prq_overflow", ParamType::Enum, "\"auto_success\"",
         "a page request that finds the PRQ full: auto_success, the IOMMU answers Success at once and the device "
         "retries (VT-d, as we read its spec); drop, the request is lost and the device times out",
         "", enum_choices(kPrqOverflowNames)},
        {"walks_set_accessed", ParamType::Bool, "false",
         "page walks set accessed bits in the domain's table, so reclaim sees device use (pages a DMA finds in "
         "the ATC or the IOTLB set none either way); false: reclaim sees only the vCPUs' use",
         "chosen: VT-d sets second-stage accessed/dirty bits only with SLADE, which Linux enables only for dirty "
         "tracking"},
    }};

// The IOTLB and the ATC are the same cache (models/cache/tlb.hpp): one table shape, with
// each one's default sizes and their sources.
struct TlbDefaults {
  const char* entries[3];  // 4 KiB, 2 MiB, 1 GiB
  const char* ways[3];
  const char* entries_4k_source;
};

ParamTable tlb_table(const char* object, const TlbDefaults& d) {
  return ParamTable{
      object,
      {
          {"entries_4k", ParamType::Int, d.entries[0], "4 KiB entries", d.entries_4k_source, "", 0, 1 << 20},
          {"ways_4k", ParamType::Int, d.ways[0], "associativity of the 4 KiB array", "chosen", "", 1, 1 << 20},
          {"entries_2m", ParamType::Int, d.entries[1], "2 MiB entries", "chosen", "", 0, 1 << 20},
          {"ways_2m", ParamType::Int, d.ways[1], "associativity of the 2 MiB array", "chosen", "", 1, 1 << 20},
          {"entries_1g", ParamType::Int, d.entries[2], "1 GiB entries", "chosen", "", 0, 1 << 20},
          {"ways_1g", ParamType::Int, d.ways[2], "associativity of the 1 GiB array", "chosen", "", 1, 1 << 20},
          {"policy", ParamType::Enum, "\"lru\"", "replacement policy", "chosen", enum_choices(kReplPolicyNames)},
      }};
}

const ParamTable kIotlbTable = tlb_table(
    "iommu.iotlb", {{"128", "32", "8"},
                    {"8", "4", "8"},
                    "chosen: 512 KiB reach, where random 64 B DMA throughput falls (Intel does not publish "
                    "sizes)"});
const ParamTable kAtcTable =
    tlb_table("device.atc", {{"64", "16", "4"}, {"4", "4", "4"}, "chosen (gem5 SMMUv3 micro TLB is 32)"});

const ParamTable kWalkCacheTable{
    "iommu.walk_cache",
    {
        {"entries", ParamType::Int, "256", "entries per level (0 disables)", "Arm MMU-600 TCU, per the Agilex 5 HPS TRM",
         "", 0, 1 << 20},
        {"ways", ParamType::Int, "4", "associativity", "chosen", "", 1, 1 << 20},
        {"policy", ParamType::Enum, "\"lru\"", "replacement policy", "chosen", enum_choices(kReplPolicyNames)},
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
        {"inject", ParamType::Enum, "\"none\"",
         "tests only: a failure on purpose: lost_completion (a completed DMA is not counted: the conservation "
         "check fails), deadlock (a thread waits forever), actor_exception (a thread throws); each exits 1",
         "", enum_choices(kInjectNames)},
    }};

// The keys every domain has; each kind adds its own table (models/domain/<kind>.cpp).
const ParamTable kDomainTable{
    "domain",
    {
        {"name", ParamType::String, nullptr, "domain name; devices refer to it", ""},
        {"kind", ParamType::Enum, nullptr, "domain kind (iopfsim list-kinds)", "", domain_kind_choices()},
        {"format", ParamType::String, "\"vtd_ss_4level\"", "page-table format (iopfsim list-formats)",
         "VT-d second stage is the EPT format a shared KVM TDP uses"},
        {"memory", ParamType::Bytes, nullptr, "guest memory; IOVA = GPA from 0", "", "", 4096, 1.8e19},
        {"page_size", ParamType::Bytes, "0", "largest leaf to map with: 4KiB, 2MiB, 1GiB, or 0 for the largest "
                                             "alignment allows", "chosen"},
        {"pin_cost_per_page", ParamType::Ns, "\"682ns\"",
         "host CPU time to pin one 4 KiB page at start, besides zeroing it (at host.zero_bandwidth)",
         "0.27 s per GiB in all (Linux commit 4d83de6da265): 1030 ns per page, less 348 ns of zeroing", "", 0, 1e9},
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
         "commonly 32 (the PRI outstanding page request allocation Linux drivers grant)", "", 1, 1 << 16},
        {"atc_lookup", ParamType::Ns, "\"0ns\"", "ATC lookup time", "chosen (overlapped with request issue)", "", 0,
         1e6},
        {"atc_inv", ParamType::Ns, "\"1us\"", "device work per ATS Invalidate Request before its completion",
         "chosen inside the measured 0.1-10 us device-TLB invalidation (QEMU qpl-compression docs)", "", 0, 1e9},
        {"intolerant_fault", ParamType::Enum, "\"abort\"",
         "a path that cannot fault meets an absent page: abort (the DMA fails, its data is lost), drop (the packet "
         "is dropped and the path goes on), stall (the path stops until a device reset)",
         "", enum_choices(kIntolerantActionNames)},
        {"reset_cost", ParamType::Ns, "\"100ms\"", "device reset after a stall",
         "PCIe Function Level Reset completes within 100 ms (PCIe base spec)", "", 0, 1e12},
        {"pri_timeout", ParamType::Ns, "\"1ms\"", "no PRG response by then: the request was lost; retry", "chosen", "",
         1, 1e12},
        {"pri_retry_backoff", ParamType::Ns, "\"10us\"", "wait before re-sending a page request", "chosen", "", 0,
         1e12},
        {"prg_pages", ParamType::Int, "1",
         "pages per page request group: the faulting page and the ones after it, one request each (each takes a "
         "PRQ entry), answered by one PRG response", "chosen", "", 1, 512},
        {"msi_every_dmas", ParamType::Int, "0",
         "an MSI (a 4-byte write to the domain's Arm ITS doorbell slot) after every this many DMAs completed, as "
         "interrupt moderation by frame count does (0: no MSIs)",
         "chosen: per N DMAs rather than per coalescing interval, so the MSI count follows the DMAs", "", 0,
         1 << 30},
        {"pcie_latency", ParamType::Ns, "\"250ns\"", "one-way PCIe latency between device and root complex",
         "chosen with host.memory_latency to give pcie-bench's 600 ns 64 B read round trip", "", 0, 1e9},
        {"pcie_bandwidth", ParamType::Bandwidth, "\"7.88GB/s\"", "PCIe link bandwidth per direction (wire bytes)",
         "PCIe Gen3 x8: 8 GT/s x 8 lanes x 128/130", "", 1, 1e15},
        {"max_payload", ParamType::Bytes, "256", "PCIe Max_Payload_Size: a DMA is split into TLPs of at most this, "
         "each with 24 B of overhead", "chosen: 256 B, the common MPS servers configure (PCIe allows 128 B-4 KiB)",
         "", 128, 4096},
        {"inv_queue_depth", ParamType::Int, "32",
         "ATS Invalidate Queue Depth: ATS Invalidate Requests the device accepts outstanding (0 in the ATS "
         "capability means 32)", "chosen: 32, what the capability's 0 encodes (PCIe ATS), common in devices", "",
         1, 32},
    }};

const ParamTable kPathTable{
    "path",
    {
        {"name", ParamType::String, nullptr, "DMA path name", ""},
        {"fault_tolerant", ParamType::Bool, "false", "the path can wait for a page request", ""},
        {"ordered", ParamType::Bool, "false",
         "the path's DMAs complete in order (a descriptor ring): a DMA waiting for a page blocks the ones after "
         "it; otherwise (payload buffers, SVA work items) other DMAs go on while page requests are outstanding",
         ""},
    }};

const ParamTable kWorkloadTable{
    "workload",
    {
        {"region_base", ParamType::Bytes, "0", "first IOVA of the region", ""},
        {"region_size", ParamType::Bytes, nullptr, "bytes of IOVA the path touches", "", "", 1, 1.8e19},
        {"pattern", ParamType::Enum, "\"sequential\"",
         "sequential: stream through the region and wrap; ring: a circular buffer of access_size entries, "
         "same order; random: uniform access_size-aligned addresses",
         "", enum_choices(kPatternNames)},
        {"access_size", ParamType::Bytes, "64", "bytes per DMA (power of two, at most 4 KiB)", "chosen", "", 1, 4096},
        {"op", ParamType::Enum, "\"read\"", "DMA direction", "", enum_choices(kDmaOpNames)},
        {"rate", ParamType::Rate, nullptr, "open loop: DMAs per second (give rate or outstanding)", "", "", 1e-3, 1e15},
        {"outstanding", ParamType::Int, nullptr, "closed loop: DMAs in flight (give rate or outstanding)", "", "", 1,
         65536},
        {"arrival", ParamType::Arrival, "\"periodic\"",
         "open loop: when DMAs are due at `rate` (periodic: every 1/rate; poisson: exponential gaps; on_off: "
         "bursts at their own rate, defaulting to `rate`; mmpp: rates per state); seeded from the path's own "
         "arrival stream", "chosen (as before arrival processes existed)"},
        {"start", ParamType::Ns, "0", "time of the first DMA, after the domain is ready", ""},
        {"reaches_outside_memory", ParamType::Bool, "false",
         "the region may reach past the end of guest memory (a buggy or hostile device): page requests there are "
         "answered Invalid, other DMAs there fault as the device's intolerant_fault says", ""},
        {"queue_depth", ParamType::Int, "1024",
         "open loop: DMAs that may wait while the path cannot issue (a NIC's rx ring, an NVMe submission queue); "
         "an arrival that finds it full is an overrun and is dropped",
         "chosen (Linux mlx5's default rx ring size is 1024)", "", 1, 1 << 24},
        {"dma_api", ParamType::Enum, "\"none\"",
         "the guest driver maps each buffer through the DMA API on a vCPU: none (the device addresses guest "
         "memory directly, nothing mapped per I/O), per_io (map before each DMA, unmap after), batched (map "
         "dma_batch buffers per call, unmap them per call once all completed); open loop (rate) only",
         "", enum_choices(kDmaApiModeNames)},
        {"dma_batch", ParamType::Int, "32", "batched: buffers per map and per unmap call", "chosen", "", 1, 512},
        {"dma_flush", ParamType::Enum, "\"strict\"",
         "unmaps flush strict (each waits for its own invalidation) or lazy (a per-vCPU flush queue)",
         "chosen (Linux's default depends on the architecture and CONFIG_IOMMU_DEFAULT_DMA_LAZY)",
         enum_choices(kDmaFlushNames)},
        {"dma_fq_entries", ParamType::Int, "256", "lazy: unmaps per flush-queue flush",
         "Linux drivers/iommu/dma-iommu.c IOVA_FQ_SIZE (IOVA_DEFAULT_FQ_SIZE)", "", 1, 1 << 20},
        {"dma_fq_timeout", ParamType::Ns, "\"10ms\"", "lazy: or this long after the first queued unmap",
         "Linux drivers/iommu/dma-iommu.c IOVA_FQ_TIMEOUT (IOVA_DEFAULT_FQ_TIMEOUT)", "", 1, 1e12},
        {"dma_fq", ParamType::Enum, "\"per_cpu\"",
         "lazy: a flush queue per vCPU (per path), or a single one the domain's vCPUs share (each vCPU's "
         "unmaps go to it; whoever fills it or finds its timeout passed flushes it)",
         "Linux's default (per-CPU); single: dma-iommu's IOMMU_DMA_OPTS_SINGLE_QUEUE (Linux 6.7, used by s390 "
         "paged-memory guests, with IOVA_SINGLE_FQ_SIZE 32768 and IOVA_SINGLE_FQ_TIMEOUT 1000 ms)",
         enum_choices(kDmaFqModeNames)},
    }};

const ParamTable kInvalidationTable{
    "invalidation",
    {
        {"name", ParamType::String, nullptr, "source name", ""},
        {"domain", ParamType::String, nullptr, "domain whose mappings change", ""},
        {"kind", ParamType::Enum, "\"page\"", "invalidation granularity sent to the IOMMU and ATCs", "",
         enum_choices(kInvKindNames)},
        {"action", ParamType::Enum, "\"flush\"",
         "flush: caches only; zap: unmap (page absent until faulted back; faultable domains only); "
         "remap: unmap, and map at another host PA once the invalidation completed",
         "", enum_choices(kInvActionNames)},
        {"rate", ParamType::Rate, nullptr, "events per second", "", "", 1e-3, 1e15},
        {"region_base", ParamType::Bytes, "0", "first IOVA the events pick from", ""},
        {"region_size", ParamType::Bytes, "0", "bytes the events pick from (0: all of the domain)", ""},
        {"range_size", ParamType::Bytes, "\"4KiB\"", "bytes per event (power of two, aligned); kind page means 4KiB",
         "chosen", "", 4096, 1.8e19},
        {"pasid", ParamType::Int, "0", "PASID, for kind pasid", "", "", 0, (1 << 20) - 1},
        {"start", ParamType::Ns, "0", "time of the first event", ""},
        {"batch_entries", ParamType::Int, "0", "defer and flush the whole domain after this many events (0: off)",
         "Linux iommu-dma flush queue: 256 entries", "", 0, 1 << 20},
        {"batch_timeout", ParamType::Ns, "\"10ms\"", "or this long after the first deferred event",
         "Linux iommu-dma flush queue: 10 ms", "", 1, 1e12},
    }};

struct Registrar {
  Registrar() {
    for (const ParamTable* t : {&kScenarioTable, &kHostTable, &kIommuTable, &kIotlbTable, &kWalkCacheTable,
                                &kEngineTable, &kDomainTable})
      register_param_table(t);
    for (const DomainKindInfo* k : domain_kinds()) register_param_table(k->params);
    for (const ParamTable* t : {&kDeviceTable, &kAtcTable, &kPathTable, &kWorkloadTable, &kReplayWorkloadTable,
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
  g.policy = r.choice("policy", kReplPolicyNames);
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

// The index of the domain named by key `key` of r's object.
size_t domain_index(const Scenario& sc, const ObjReader& r, const char* key) {
  const std::string name = r.str(key);
  for (size_t k = 0; k < sc.domains.size(); ++k)
    if (sc.domains[k].name == name) return k;
  r.fail(key, "expected the name of a domain in /domains, found \"" + name + "\"");
}

std::vector<std::string> read_comment(const json& doc, const std::string& file) {
  std::vector<std::string> out;
  if (!doc.contains("comment")) return out;
  const json& c = doc["comment"];
  if (c.is_string()) return {c.get<std::string>()};
  if (!c.is_array())
    throw InputError(file, "/comment", "expected a string or an array of strings, found " + describe_json(c));
  for (size_t i = 0; i < c.size(); ++i) {
    if (!c[i].is_string())
      throw InputError(file, "/comment/" + std::to_string(i), "expected a string, found " + describe_json(c[i]));
    out.push_back(c[i].get<std::string>());
  }
  return out;
}

HostSpec read_host(const json& j, const std::string& file) {
  ObjReader r(j, "/host", file, kHostTable);
  HostSpec h;
  h.cores = u32(r.integer("cores"));
  h.memory_latency_ns = r.ns("memory_latency");
  h.irq_latency = r.dist("irq_latency");
  h.fault_batch = u32(r.integer("fault_batch"));
  h.memory_bytes = r.bytes("memory");
  h.free_target_bytes = r.bytes("free_target");
  h.swap_read_bytes_per_s = r.bandwidth_bytes_per_s("swap_read_bandwidth");
  h.swap_write_bytes_per_s = r.bandwidth_bytes_per_s("swap_write_bandwidth");
  h.swap_latency_ns = r.ns("swap_latency");
  h.zero_bytes_per_s = r.bandwidth_bytes_per_s("zero_bandwidth");
  h.root_complex_bytes_per_s = r.bandwidth_bytes_per_s("root_complex_bandwidth");
  h.reclaim_scan_ns_per_page = r.ns("reclaim_scan_cost");
  h.dirty_log_ns_per_page = r.ns("dirty_log_scan_cost");
  return h;
}

IommuSpec read_iommu(const json& j, const std::string& file) {
  ObjReader r(j, "/iommu", file, kIommuTable, {"iotlb", "walk_cache"});
  IommuSpec m;
  m.iotlb_lookup_ns = r.ns("iotlb_lookup");
  m.walk_mem_read_ns = r.ns("walk_mem_read");
  m.ats_translation_ns = r.ns("ats_translation");
  m.walkers = u32(r.integer("walkers"));
  m.prq_depth = u32(r.integer("prq_depth"));
  m.prq_handling_ns = r.ns("prq_handling");
  m.inv_queue_depth = u32(r.integer("inv_queue_depth"));
  m.inv_desc_ns = r.ns("inv_desc");
  m.inv_wait_ns = r.ns("inv_wait");
  m.inv_desc_interval_ns = r.ns("inv_desc_interval");
  m.prq_overflow = r.choice("prq_overflow", kPrqOverflowNames);
  m.walks_set_accessed = r.boolean("walks_set_accessed");
  m.iotlb = read_tlb(ObjReader(sub(j, "iotlb"), "/iommu/iotlb", file, kIotlbTable));
  ObjReader w(sub(j, "walk_cache"), "/iommu/walk_cache", file, kWalkCacheTable);
  m.walk_cache.entries = u32(w.integer("entries"));
  m.walk_cache.ways = u32(w.integer("ways"));
  m.walk_cache.policy = w.choice("policy", kReplPolicyNames);
  const auto& wc = m.walk_cache;
  if (wc.entries && (wc.entries % wc.ways || !is_pow2(wc.entries / wc.ways)))
    w.fail("entries", "expected entries/ways to be a whole power of two, found " + std::to_string(wc.entries) + "/" +
                          std::to_string(wc.ways));
  return m;
}

EngineSpec read_engine(const json& j, const std::string& file) {
  ObjReader r(j, "/engine", file, kEngineTable);
  EngineSpec e;
  e.quantum_ns = r.ns("quantum");
  e.checker = r.boolean("checker");
  e.unsafe_batching = r.boolean("unsafe_batching");
  e.inject = r.choice("inject", kInjectNames);
  return e;
}

// The domain's kind, read before its keys (which keys are allowed depends on it).
const DomainKindInfo* read_kind(const json& obj, const std::string& ptr, const std::string& file) {
  if (!obj.is_object()) throw InputError(file, ptr, "expected an object (domain), found " + describe_json(obj));
  auto it = obj.find("kind");
  if (it == obj.end()) throw InputError(file, ptr, "missing required key \"kind\" (" + domain_kind_choices() + ")");
  const DomainKindInfo* k = it->is_string() ? find_domain_kind(it->get<std::string>()) : nullptr;
  if (!k)
    throw InputError(file, ptr + "/kind", "expected one of " + domain_kind_choices() + ", found " + describe_json(*it));
  return k;
}

DomainSpec read_domain(const json& obj, const std::string& ptr, const std::string& file) {
  const DomainKindInfo* kind = read_kind(obj, ptr, file);
  ParamTable table{kind->params->object, kDomainTable.specs};  // the common keys and the kind's own
  table.specs.insert(table.specs.end(), kind->params->specs.begin(), kind->params->specs.end());
  ObjReader r(obj, ptr, file, table);
  DomainSpec d;
  d.name = r.str("name");
  d.kind = kind;
  d.format = r.str("format");
  if (!is_page_table_format(d.format)) {
    std::string all;
    for (const auto& n : page_table_format_names()) all += (all.empty() ? "" : ", ") + n;
    r.fail("format", "expected a page-table format (" + all + "), found \"" + d.format + "\"");
  }
  d.memory_bytes = r.bytes("memory");
  if (d.memory_bytes % kBasePageBytes)
    r.fail("memory", "expected a multiple of 4KiB, found " + std::to_string(d.memory_bytes));
  const int va_bits = page_table_format_info(d.format).va_bits;
  if (va_bits < 64 && d.memory_bytes > (1ULL << va_bits))
    r.fail("memory", "expected at most 2^" + std::to_string(va_bits) + " bytes for format " + d.format);
  if (d.memory_bytes > (2ULL << 40))
    r.fail("memory", "expected at most 2TiB per domain (each domain has a 2 TiB host-physical window), found " +
                         std::to_string(d.memory_bytes));
  d.page_bytes = r.bytes("page_size");
  if (d.page_bytes != 0 && d.page_bytes != kBasePageBytes && d.page_bytes != kHugePageBytes &&
      d.page_bytes != (1ULL << 30))
    r.fail("page_size", "expected 0, 4KiB, 2MiB or 1GiB, found " + std::to_string(d.page_bytes));
  d.pin_ns_per_page = r.ns("pin_cost_per_page");
  d.kind_params = kind->read(r, d);
  return d;
}

DmaApiSpec read_dma_api(const ObjReader& w) {
  DmaApiSpec d;
  d.mode = w.choice("dma_api", kDmaApiModeNames);
  d.batch = u32(w.integer("dma_batch"));
  d.flush = w.choice("dma_flush", kDmaFlushNames);
  d.fq_entries = u32(w.integer("dma_fq_entries"));
  d.fq_timeout_ns = w.ns("dma_fq_timeout");
  d.fq_mode = w.choice("dma_fq", kDmaFqModeNames);
  if (d.mode == DmaApiMode::kNone) {
    for (const char* k : {"dma_batch", "dma_flush", "dma_fq_entries", "dma_fq_timeout", "dma_fq"})
      if (w.has(k)) w.fail(k, "expected dma_api per_io or batched with this key");
  } else if (!w.has("rate")) {
    w.fail("dma_api", "expected an open-loop path (with rate) for a guest driver's DMA API");
  }
  if (d.mode != DmaApiMode::kBatched && w.has("dma_batch")) w.fail("dma_batch", "expected dma_api batched with dma_batch");
  if (d.flush != DmaFlush::kLazy)
    for (const char* k : {"dma_fq_entries", "dma_fq_timeout", "dma_fq"})
      if (w.has(k)) w.fail(k, "expected dma_flush lazy with this key");
  return d;
}

WorkloadSpec read_workload(const json& obj, const std::string& pp, const std::string& file, const DomainSpec& dom) {
  if (!obj.contains("workload")) throw InputError(file, pp, "missing required key \"workload\" (an object)");
  if (is_replay_workload(obj)) return read_replay_workload(obj, pp, file, dom);
  ObjReader w(obj["workload"], pp + "/workload", file, kWorkloadTable);
  WorkloadSpec wl;
  wl.region_base = w.bytes("region_base");
  wl.region_bytes = w.bytes("region_size");
  wl.pattern = w.choice("pattern", kPatternNames);
  const uint64_t acc = w.bytes("access_size");
  if (!is_pow2(acc)) w.fail("access_size", "expected a power of two, found " + std::to_string(acc));
  wl.access_bytes = static_cast<uint32_t>(acc);
  wl.write = w.choice("op", kDmaOpNames) == DmaOp::kWrite;
  wl.start_ns = w.ns("start");
  wl.queue_depth = u32(w.integer("queue_depth"));
  if (w.has("queue_depth") && !w.has("rate"))
    w.fail("queue_depth", "expected queue_depth only on an open-loop path (with rate)");
  if (w.has("rate") == w.has("outstanding"))
    throw InputError(file, pp + "/workload", "expected exactly one of \"rate\" (open loop) or \"outstanding\" (closed loop)");
  if (w.has("rate")) wl.rate_per_s = w.rate_per_s("rate");
  else wl.outstanding = u32(w.integer("outstanding"));
  if (w.has("arrival") && !w.has("rate")) w.fail("arrival", "expected arrival only on an open-loop path (with rate)");
  if (wl.rate_per_s > 0) {
    json h;
    wl.arrival = read_arrival(w.raw("arrival", ParamType::Arrival, &h), w.pointer("arrival"), file, wl.rate_per_s);
  }
  if (wl.region_base % acc) w.fail("region_base", "expected a multiple of access_size (" + std::to_string(acc) + ")");
  if (wl.region_bytes % acc || wl.region_bytes < acc)
    w.fail("region_size", "expected a non-zero multiple of access_size (" + std::to_string(acc) + ")");
  wl.reaches_outside_memory = w.boolean("reaches_outside_memory");
  wl.dma = read_dma_api(w);
  const uint64_t end = wl.region_base + wl.region_bytes;
  const uint64_t limit = workload_iova_limit(dom, wl.reaches_outside_memory);
  if (end > limit || end < wl.region_base)
    w.fail("region_size", "expected the region to lie inside domain \"" + dom.name + "\" memory (" +
                              std::to_string(dom.memory_bytes) + " bytes" +
                              (wl.reaches_outside_memory ? ", or its format's address space" : "") + "), found end " +
                              std::to_string(end) + (wl.reaches_outside_memory ? "" : " (see reaches_outside_memory)"));
  return wl;
}

std::vector<PathSpec> read_paths(const json& dev, const std::string& p, const std::string& file, const DomainSpec& dom) {
  const json& paths = array_at(dev, "paths", p, file, true);
  if (paths.empty()) throw InputError(file, p + "/paths", "expected at least one path, found an empty array");
  std::vector<PathSpec> out;
  std::set<std::string> names;
  for (size_t k = 0; k < paths.size(); ++k) {
    const std::string pp = p + "/paths/" + std::to_string(k);
    ObjReader pr(paths[k], pp, file, kPathTable, {"workload"});
    PathSpec path;
    path.name = pr.str("name");
    if (!names.insert(path.name).second)
      pr.fail("name", "expected a unique path name in this device, found a second \"" + path.name + "\"");
    path.fault_tolerant = pr.boolean("fault_tolerant");
    path.ordered = pr.boolean("ordered");
    path.workload = read_workload(paths[k], pp, file, dom);
    out.push_back(path);
  }
  return out;
}

DeviceSpec read_device(const Scenario& sc, const json& obj, const std::string& p, const std::string& file) {
  ObjReader r(obj, p, file, kDeviceTable, {"atc", "paths"});
  DeviceSpec dev;
  dev.name = r.str("name");
  dev.domain = r.str("domain");
  dev.domain_index = domain_index(sc, r, "domain");
  dev.pasid = u32(r.integer("pasid"));
  dev.ats = r.boolean("ats");
  dev.pri = r.boolean("pri");
  if (dev.pri && !dev.ats) r.fail("pri", "expected \"ats\": true on a device with PRI (page requests need ATS)");
  dev.pri_outstanding = u32(r.integer("pri_outstanding"));
  dev.atc_lookup_ns = r.ns("atc_lookup");
  dev.atc_inv_ns = r.ns("atc_inv");
  dev.intolerant = r.choice("intolerant_fault", kIntolerantActionNames);
  dev.reset_ns = r.ns("reset_cost");
  dev.pri_timeout_ns = r.ns("pri_timeout");
  dev.pri_backoff_ns = r.ns("pri_retry_backoff");
  dev.prg_pages = u32(r.integer("prg_pages"));
  dev.msi_every_dmas = u32(r.integer("msi_every_dmas"));
  const DomainSpec& ds = sc.domains[dev.domain_index];
  if (dev.msi_every_dmas && (std::string(ds.kind->name) != "shared_tdp" || ds.format.rfind("arm64_", 0) != 0))
    r.fail("msi_every_dmas", "expected a device on a shared_tdp domain with an Arm format (arm64_...): only there "
                             "is an ITS doorbell slot; found kind " + std::string(ds.kind->name) + ", format " +
                             ds.format);
  if (dev.prg_pages > dev.pri_outstanding)
    r.fail("prg_pages", "expected at most pri_outstanding (" + std::to_string(dev.pri_outstanding) +
                            ") pages per group, found " + std::to_string(dev.prg_pages));
  dev.pcie_latency_ns = r.ns("pcie_latency");
  dev.pcie_bandwidth_bytes_per_s = r.bandwidth_bytes_per_s("pcie_bandwidth");
  dev.max_payload_bytes = u32(r.bytes("max_payload"));
  if (!is_pow2(dev.max_payload_bytes)) r.fail("max_payload", "expected a power of two (128 B to 4 KiB)");
  dev.inv_queue_depth = u32(r.integer("inv_queue_depth"));
  dev.atc = read_tlb(ObjReader(sub(obj, "atc"), p + "/atc", file, kAtcTable));
  if (!dev.ats && obj.contains("atc")) r.fail("atc", "expected no atc on a device without ATS");
  dev.paths = read_paths(obj, p, file, sc.domains[dev.domain_index]);
  return dev;
}

InvalidationSpec read_invalidation(const Scenario& sc, const json& obj, const std::string& p, const std::string& file) {
  ObjReader r(obj, p, file, kInvalidationTable);
  InvalidationSpec inv;
  inv.name = r.str("name");
  inv.domain_index = domain_index(sc, r, "domain");
  const DomainSpec& d = sc.domains[inv.domain_index];
  inv.kind = r.choice("kind", kInvKindNames);
  inv.action = r.choice("action", kInvActionNames);
  if (inv.action == InvAction::kZap && !d.kind->pages_can_fault)
    r.fail("action", "expected flush or remap on " + std::string(d.kind->name) + " domain \"" + d.name +
                         "\" (its pages are never zapped)");
  if (inv.action != InvAction::kFlush && d.memory_bytes > (1ULL << 40))
    r.fail("action", "expected a domain of at most 1TiB for zap and remap (moved pages use the upper half of its window)");
  inv.rate_per_s = r.rate_per_s("rate");
  inv.region_base = r.bytes("region_base");
  inv.region_bytes = r.bytes("region_size");
  if (inv.region_bytes == 0) inv.region_bytes = d.memory_bytes - std::min(inv.region_base, d.memory_bytes);
  inv.range_bytes = inv.kind == InvKind::kPage ? kBasePageBytes : r.bytes("range_size");
  if (!is_pow2(inv.range_bytes)) r.fail("range_size", "expected a power of two, found " + std::to_string(inv.range_bytes));
  if (inv.region_base % inv.range_bytes || inv.region_bytes % inv.range_bytes || inv.region_bytes == 0)
    r.fail("region_size", "expected a region that is a non-zero multiple of range_size and aligned to it");
  if (inv.region_base + inv.region_bytes > d.memory_bytes || inv.region_base + inv.region_bytes < inv.region_base)
    r.fail("region_size", "expected the region to lie inside domain \"" + d.name + "\" memory");
  inv.pasid = u32(r.integer("pasid"));
  inv.start_ns = r.ns("start");
  inv.batch_entries = u32(r.integer("batch_entries"));
  inv.batch_timeout_ns = r.ns("batch_timeout");
  return inv;
}

// Reads each element of the array at key with read(element, pointer), names unique.
// Every error of a file, not only the first: each independent part is read apart.
class Errors {
 public:
  template <class Fn>
  bool attempt(Fn fn) {
    try {
      fn();
      return true;
    } catch (const InputError& e) {
      list_.push_back(e);
      return false;
    }
  }
  bool any() const { return !list_.empty(); }
  // One error as it is; several as the first, followed by the others, one a line.
  void throw_if_any() const {
    if (list_.empty()) return;
    if (list_.size() == 1) throw list_.front();
    const InputError& first = list_.front();
    std::string msg = first.detail();
    msg += " (and " + std::to_string(list_.size() - 1) + " more)";
    for (size_t i = 1; i < list_.size(); ++i) msg += "\niopfsim: error: " + std::string(list_[i].what());
    throw InputError(first.file(), first.pointer(), msg);
  }

 private:
  std::vector<InputError> list_;
};

// Reads each element of the array at key with read(element, pointer), names unique; an
// element that fails is left out and its error collected.
template <class Spec, class Read>
std::vector<Spec> read_named_array(const json& doc, const char* key, const std::string& file, bool required,
                                   const char* unique_what, Errors* errors, Read read) {
  const json& arr = array_at(doc, key, "", file, required);
  std::vector<Spec> out;
  std::set<std::string> names;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = "/" + std::string(key) + "/" + std::to_string(i);
    errors->attempt([&] {
      Spec s = read(arr[i], p);
      if (!names.insert(s.name).second)
        throw InputError(file, p + "/name", std::string("expected a unique ") + unique_what + ", found a second \"" +
                                                s.name + "\"");
      out.push_back(std::move(s));
    });
  }
  return out;
}

// Every random stream a run of this scenario can open (streams.hpp), with its owner, and no
// two alike. vCPU streams are listed up to the most vCPUs a domain may have.
void check_streams_distinct(const Scenario& sc) {
  constexpr uint32_t kMaxVcpus = 4096;  // the vcpus parameter's bound
  std::vector<uint64_t> ids;
  std::vector<std::string> owners;  // described lazily: most are vCPUs
  auto add = [&](uint64_t id, std::string owner) {
    ids.push_back(id);
    owners.push_back(std::move(owner));
  };
  for (const DomainSpec& d : sc.domains) {
    add(streams::domain_setup(d.name), "domain " + d.name + " (set-up)");
    add(streams::migration(d.name), "domain " + d.name + " (migration)");
    add(streams::collapse(d.name), "domain " + d.name + " (khugepaged)");
    add(streams::fault_costs(d.name), "domain " + d.name + " (fault costs)");
    for (uint32_t v = 0; v < kMaxVcpus; ++v) add(streams::vcpu(d.name, v), "");
  }
  for (const DeviceSpec& dev : sc.devices)
    for (const PathSpec& p : dev.paths) {
      add(streams::path(dev.name, p.name), "path " + dev.name + "/" + p.name);
      add(streams::arrivals(dev.name, p.name), "path " + dev.name + "/" + p.name + " (arrivals)");
    }
  for (const InvalidationSpec& inv : sc.invalidations) add(streams::scripted_source(inv.name), "source " + inv.name);
  add(streams::irq_latency(), "host (irq_latency)");
  const auto [a, b] = streams::first_collision(ids);
  if (a == b) return;
  auto describe = [&](size_t i) {
    if (!owners[i].empty()) return owners[i];
    const size_t per_domain = 4 + kMaxVcpus, d = i / per_domain;
    return "vCPU " + std::to_string(i % per_domain - 4) + " of domain " + sc.domains[d].name;
  };
  throw InputError(sc.file, "", "expected every random stream to be distinct, found " + describe(a) + " and " +
                                    describe(b) + " with the same stream id; rename one of them");
}

// Pinned memory can never be reclaimed: it must fit in host RAM.
void check_pinned_fits(const Scenario& sc) {
  uint64_t pinned = 0;
  std::string who;
  for (size_t i = 0; i < sc.domains.size(); ++i) {
    const PinPlan plan = pin_plan(sc, i);
    pinned += plan.bytes;
    if (plan.bytes) who += (who.empty() ? "" : ", ") + sc.domains[i].name + " " + std::to_string(plan.bytes);
  }
  if (pinned > sc.host.memory_bytes)
    throw InputError(sc.file, "/host/memory",
                     "expected host memory of at least the pinned guest memory (" + std::to_string(pinned) +
                         " bytes: " + who + "), found " + std::to_string(sc.host.memory_bytes) +
                         "; pinned memory is never reclaimed, so it cannot be overcommitted");
}

}  // namespace

uint64_t workload_iova_limit(const DomainSpec& dom, bool reaches_outside_memory) {
  return reaches_outside_memory ? 1ULL << page_table_format_info(dom.format).va_bits : dom.memory_bytes;
}

PinPlan pin_plan(const Scenario& sc, size_t domain_index) {
  std::vector<const DeviceSpec*> attached;
  for (const DeviceSpec& dev : sc.devices)
    if (dev.domain_index == domain_index) attached.push_back(&dev);
  const DomainSpec& d = sc.domains[domain_index];
  return d.kind->pin_plan(d, attached);
}

namespace {

void read_top(const json& doc, const std::string& file, Scenario* sc) {
  ObjReader top(doc, "", file, kScenarioTable,
                {"comment", "host", "iommu", "engine", "domains", "devices", "invalidations"});
  if (top.str("schema") != "iopfsim.scenario/1")
    top.fail("schema", "expected \"iopfsim.scenario/1\", found " + describe_json(doc["schema"]));
  sc->name = top.str("name");
  sc->seed = static_cast<uint64_t>(top.integer("seed"));
  sc->duration_ns = top.ns("duration");
  sc->warmup_ns = top.ns("warmup");
}

// Domains, then what refers to them (devices, invalidation sources): read only when every
// domain was read, so a bad domain does not make every device that names it an error too.
void read_domains_and_users(const json& doc, const std::string& file, Scenario* sc, Errors* errors) {
  sc->domains = read_named_array<DomainSpec>(doc, "domains", file, true, "domain name", errors,
                                             [&](const json& j, const std::string& p) { return read_domain(j, p, file); });
  if (errors->any()) return;
  if (sc->domains.empty()) throw InputError(file, "/domains", "expected at least one domain, found an empty array");
  if (sc->domains.size() > 64)
    throw InputError(file, "/domains", "expected at most 64 domains, found " + std::to_string(sc->domains.size()));
  sc->devices = read_named_array<DeviceSpec>(doc, "devices", file, true, "device name", errors,
                                             [&](const json& j, const std::string& p) { return read_device(*sc, j, p, file); });
  if (!errors->any() && sc->devices.empty())
    throw InputError(file, "/devices", "expected at least one device, found an empty array");
  sc->invalidations = read_named_array<InvalidationSpec>(
      doc, "invalidations", file, false, "name", errors,
      [&](const json& j, const std::string& p) { return read_invalidation(*sc, j, p, file); });
}

}  // namespace

Scenario parse_scenario(const json& doc, const std::string& file) {
  Scenario sc;
  sc.file = file;
  if (!doc.is_object()) throw InputError(file, "", "expected an object (scenario), found " + describe_json(doc));
  Errors errors;  // every independent part is read, and every error reported
  errors.attempt([&] { read_top(doc, file, &sc); });
  errors.attempt([&] { sc.comment = read_comment(doc, file); });
  errors.attempt([&] { sc.host = read_host(sub(doc, "host"), file); });
  errors.attempt([&] { sc.iommu = read_iommu(sub(doc, "iommu"), file); });
  errors.attempt([&] { sc.engine = read_engine(sub(doc, "engine"), file); });
  errors.attempt([&] { read_domains_and_users(doc, file, &sc, &errors); });
  errors.throw_if_any();
  add_replay_unmap_sources(&sc);
  check_pinned_fits(sc);
  check_streams_distinct(sc);
  return sc;
}


Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  json doc = parse_scenario_json(read_scenario_file(path), path);
  for (const std::string& o : overrides) apply_override(doc, path, o);
  return parse_scenario(doc, path);
}

}  // namespace iopf
