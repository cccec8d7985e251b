// The typed scenario: what a scenario file says, validated and with units normalized
// (ns, bytes, per-second). Built only by load_scenario(); the engine never sees JSON.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/cache/tlb.hpp"

namespace iopf {

enum class Pattern : uint8_t { kSequential, kRandom, kRing };
enum class DomainKind : uint8_t { kPinned, kSharedTdp };

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
};

struct HostSpec {
  uint32_t cores = 0;
  uint64_t memory_latency_ns = 0;  // DRAM access behind the root complex
  uint64_t irq_latency_ns = 0;     // page request interrupt to the fault handler running
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

// Reads, applies overrides ("/pointer=value", value parsed as JSON or else taken as a
// string) and validates. Throws InputError naming the file and JSON pointer.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});
Scenario parse_scenario(const nlohmann::json& doc, const std::string& file);
const char* pattern_name(Pattern p);
const char* domain_kind_name(DomainKind k);

}  // namespace iopf
