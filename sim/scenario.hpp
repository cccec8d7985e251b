// The typed scenario: what a scenario file says, validated and with units normalized
// (ns, bytes, per-second). Built only by load_scenario(); the engine never sees JSON.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/cache/tlb.hpp"

namespace iopf {

enum class Pattern : uint8_t { kSequential, kRandom, kRing };
enum class DomainKind : uint8_t { kPinned, kSharedTdp };
// What a shared-TDP domain pins (seed 000's options).
enum class Policy : uint8_t {
  kPinAll,              // classic VFIO: everything pinned and mapped
  kFaultAll,            // naive shared TDP: nothing pinned, everything faults in
  kPinIntolerantPaths,  // pin (pre-fault) what paths that cannot fault touch; fault the rest
  kAllowList,           // fault only if every attached device tolerates faults on every path
};
const char* policy_name(Policy p);
// What a path that cannot fault does when it meets an absent page.
enum class IntolerantAction : uint8_t { kAbort, kDrop, kStall };
enum class PrqOverflow : uint8_t { kAutoSuccess, kDrop };

struct WorkloadSpec {
  uint64_t region_base = 0;  // IOVA
  uint64_t region_bytes = 0;
  Pattern pattern = Pattern::kSequential;
  uint32_t access_bytes = 64;
  bool write = false;
  double rate_per_s = 0;     // open loop when > 0
  uint32_t outstanding = 0;  // closed loop when > 0
  uint64_t start_ns = 0;     // first DMA
};

struct PathSpec {
  std::string name;
  bool fault_tolerant = false;
  WorkloadSpec workload;
};

struct DeviceSpec {
  std::string name;
  std::string domain;
  size_t domain_index = 0;
  uint32_t pasid = 0;
  bool ats = false;
  bool pri = false;
  uint32_t pri_outstanding = 32;
  TlbGeometry atc;
  uint64_t atc_lookup_ns = 0;
  uint64_t atc_inv_ns = 0;  // device work per ATS Invalidate Request
  IntolerantAction intolerant = IntolerantAction::kAbort;
  uint64_t reset_ns = 0;          // device reset after a stall
  uint64_t pri_timeout_ns = 0;    // no PRG response by then: the request was lost, retry
  uint64_t pri_backoff_ns = 0;    // wait before re-sending a page request
  uint32_t prg_pages = 1;         // pages per page request group: the faulting one and those after it
  uint64_t pcie_latency_ns = 0;         // one way, device <-> root complex
  double pcie_bandwidth_bytes_per_s = 0;
  std::vector<PathSpec> paths;
};

struct DomainSpec {
  std::string name;
  DomainKind kind = DomainKind::kPinned;
  std::string format;
  uint64_t memory_bytes = 0;  // guest memory, IOVA (= GPA) 0 .. memory_bytes
  uint64_t page_bytes = 0;    // leaf size to map with; 0 = largest the format and alignment allow
  double resident_fraction = 0;
  uint64_t pin_ns_per_4k = 0;
  uint64_t fault_ns = 0;      // host work to make one absent page present (minor fault)
  uint64_t major_fault_ns = 0;  // extra host work of a major fault (besides the swap-in I/O)
  Policy policy = Policy::kFaultAll;
  double vcpu_touch_rate_per_s = 0;   // guest vCPU accesses to random pages, all vCPUs
  uint32_t vcpus = 1;
  double migration_rate_per_s = 0;    // page migrations (compaction, NUMA balancing)
  uint64_t migration_copy_ns = 0;
  double thp_collapse_rate_per_s = 0; // khugepaged collapse attempts (page_size 2MiB domains)
  uint64_t thp_collapse_copy_ns = 0;
  uint64_t dirty_log_interval_ns = 0; // write-protect cycle of dirty logging (0: off)
  uint64_t dirty_log_start_ns = 0;
};

enum class InvKind : uint8_t { kPage, kRange, kDomain, kPasid, kGlobal };
enum class InvAction : uint8_t {
  kFlush,  // caches only: the mapping stays (a TLB shootdown with nothing changed)
  kZap,    // unmap, then invalidate: the page is absent until faulted back (faultable domains)
  kRemap,  // unmap, invalidate, and after completion map again at another host PA (a move)
};
constexpr int kInvKinds = 5;
const char* inv_kind_name(InvKind k);

// A source of invalidations: scripted unmaps on one domain at a rate.
struct InvalidationSpec {
  std::string name;
  size_t domain_index = 0;
  InvKind kind = InvKind::kPage;
  InvAction action = InvAction::kFlush;
  double rate_per_s = 0;
  uint64_t region_base = 0;
  uint64_t region_bytes = 0;
  uint64_t range_bytes = 4096;  // power of two, aligned: address and mask
  uint32_t pasid = 0;
  uint64_t start_ns = 0;
  uint32_t batch_entries = 0;   // > 0: Linux-style deferred flush of the whole domain
  uint64_t batch_timeout_ns = 0;
};

struct WalkCacheSpec {
  uint32_t entries = 0;  // per level
  uint32_t ways = 0;
  ReplPolicy policy = ReplPolicy::kLru;
};

struct IommuSpec {
  TlbGeometry iotlb;
  WalkCacheSpec walk_cache;
  uint64_t iotlb_lookup_ns = 0;
  uint64_t walk_mem_read_ns = 0;
  uint64_t ats_translation_ns = 0;  // IOMMU work per ATS translation request, before any walk
  uint32_t prq_depth = 0;
  uint64_t prq_handling_ns = 0;     // IOMMU work to queue one page request and raise it to the host
  uint32_t inv_queue_depth = 0;     // invalidation queue descriptors
  uint64_t inv_desc_ns = 0;         // IOMMU work per IOTLB/walk-cache invalidation descriptor
  uint64_t inv_wait_ns = 0;         // wait descriptor: completion write after all before it
  PrqOverflow prq_overflow = PrqOverflow::kAutoSuccess;
};

struct HostSpec {
  uint32_t cores = 0;
  uint64_t memory_latency_ns = 0;  // DRAM access behind the root complex
  uint64_t irq_latency_ns = 0;     // page request interrupt to the fault handler running
  uint64_t memory_bytes = 0;       // host RAM for guest memory
  uint64_t free_target_bytes = 0;  // reclaim keeps this much free
  double swap_read_bytes_per_s = 0;
  double swap_write_bytes_per_s = 0;
  uint64_t swap_latency_ns = 0;
};

struct EngineSpec {
  uint64_t quantum_ns = 0;
  bool checker = false;
  bool unsafe_batching = false;  // tests only: no clamp, no drain
};

struct Scenario {
  std::string file;
  std::string name;
  std::vector<std::string> comment;
  uint64_t seed = 0;
  uint64_t duration_ns = 0;
  HostSpec host;
  IommuSpec iommu;
  EngineSpec engine;
  std::vector<DomainSpec> domains;
  std::vector<DeviceSpec> devices;
  std::vector<InvalidationSpec> invalidations;
};

// What a domain pins, decided by its policy and the devices attached to it.
struct PinPlan {
  Policy effective = Policy::kFaultAll;  // allow_list resolves to pin_all or fault_all
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // pin_intolerant_paths: merged, 4 KiB-aligned
  uint64_t bytes = 0;
};
PinPlan pin_plan(const Scenario& sc, size_t domain_index);

// Reads, applies overrides ("/pointer=value", value parsed as JSON or else taken as a
// string) and validates. Throws InputError naming the file and JSON pointer.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});
Scenario parse_scenario(const nlohmann::json& doc, const std::string& file);
const char* pattern_name(Pattern p);
const char* domain_kind_name(DomainKind k);

}  // namespace iopf
