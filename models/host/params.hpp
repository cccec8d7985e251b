// The host's parameters (CPU cores, memory, swap) and its scripted invalidation sources, as
// the scenario's "host" object and "invalidations" array give them (the loader fills these;
// defaults and sources: the host and invalidation parameter tables, sim/scenario.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/common/distribution.hpp"
#include "models/common/enum_table.hpp"
#include "models/common/sizes.hpp"
#include "models/device/replay.hpp"
#include "models/iommu/invalidation.hpp"

namespace iopf {

struct HostSpec {
  uint32_t cores = 0;
  uint64_t memory_latency_ns = 0;  // DRAM access behind the root complex
  Distribution irq_latency;        // page request interrupt to the fault handler running (per wake-up)
  uint32_t fault_batch = 16;       // page requests one fault handler wake-up takes at most
  uint64_t memory_bytes = 0;       // host RAM for guest memory
  uint64_t free_target_bytes = 0;  // reclaim keeps this much free
  double swap_read_bytes_per_s = 0;
  double swap_write_bytes_per_s = 0;
  uint64_t swap_latency_ns = 0;
  double root_complex_bytes_per_s = 63e9;  // per direction, shared by all devices
  double zero_bytes_per_s = 0;          // a core zeroing memory (faults, pinning)
  uint64_t reclaim_scan_ns_per_page = 0;
  uint64_t dirty_log_ns_per_page = 0;
};

enum class InvAction : uint8_t {
  kFlush,  // caches only: the mapping stays (a TLB shootdown with nothing changed)
  kZap,    // unmap, then invalidate: the page is absent until faulted back (faultable domains)
  kRemap,  // unmap, invalidate, and after completion map again at another host PA (a move)
};
inline constexpr EnumTable<InvAction, 3> kInvActionNames{
    {{InvAction::kFlush, "flush"}, {InvAction::kZap, "zap"}, {InvAction::kRemap, "remap"}}};

// A source of invalidations: scripted unmaps on one domain at a rate.
struct InvalidationSpec {
  std::string name;
  size_t domain_index = 0;
  InvKind kind = InvKind::kPage;
  InvAction action = InvAction::kFlush;
  double rate_per_s = 0;
  uint64_t region_base = 0;
  uint64_t region_bytes = 0;
  uint64_t range_bytes = kBasePageBytes;  // power of two, aligned: address and mask
  uint32_t pasid = 0;
  uint64_t start_ns = 0;
  uint32_t batch_entries = 0;   // > 0: Linux-style deferred flush of the whole domain
  uint64_t batch_timeout_ns = 0;
  // A replayed trace's unmaps (models/device/replay.hpp): when not empty, the events are
  // these, each 4 KiB page of [iova, iova + bytes) at start + t_ns, instead of rate and region.
  std::vector<ReplayUnmap> script;
};

}  // namespace iopf
