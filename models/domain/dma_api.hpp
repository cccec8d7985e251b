// The guest's DMA API as a domain kind sees it: what one dma_map or dma_unmap call costs the
// calling vCPU and what it does to the tables, through hooks each kind overrides (Domain's
// dma_map, dma_unmap, dma_flush, dma_release). The guest driver that makes the calls (per
// I/O or in batches, strict or lazy unmaps) is models/device/guest_driver.*.
//
// Models: CPU time on the vCPU (host core time, as every vCPU thread here), traps to the VMM
// (a VM exit round trip plus the VMM's work, on the same vCPU thread: the vCPU is stopped
// while it is out), and the invalidations unmaps need (through the host's invalidation
// queue; the calling vCPU spins until their completion, as Linux's qi_submit_sync polls the
// wait descriptor: that time counts as CPU time, though the engine leaves the core free).
// Without a vIOMMU (kinds pinned and shared_tdp) the guest's DMA API is dma-direct: the
// device address is the GPA, a map or unmap is a few instructions, and nothing is flushed.
// Does not model: the IOVA allocator's own cost (part of the guest's map cost), swiotlb.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <vector>

#include "models/common/enum_table.hpp"
#include "models/common/stats.hpp"
#include "models/iommu/invalidation.hpp"

namespace iopf {

class GuestDriver;  // models/device/guest_driver.hpp: a flush queue's entries belong to one

class Checker;
class HostServices;
struct IommuDomain;

// Why the guest trapped to the VMM.
enum class TrapCause : uint8_t { kMap, kUnmap, kFlush };
constexpr int kTrapCauses = 3;
inline constexpr EnumTable<TrapCause, kTrapCauses> kTrapCauseNames{
    {{TrapCause::kMap, "map"}, {TrapCause::kUnmap, "unmap"}, {TrapCause::kFlush, "flush"}}};

// What the DMA API did in one domain (the report's maps, unmaps, traps).
struct DmaApiStats {
  Histogram map_latency_ns;     // per dma_map call: called -> returned (a vCPU busy elsewhere counts)
  Histogram unmap_latency_ns;   // per dma_unmap call, its flush included when strict
  uint64_t map_pages = 0;
  uint64_t unmap_pages = 0;
  uint64_t cpu_ns = 0;          // vCPU time in the calls, traps and flushes included
  uint64_t flush_wait_ns = 0;   // of cpu_ns: spinning until a flush completed
  uint64_t flushes = 0;         // IOTLB flushes (invalidation requests) the unmaps made
  uint64_t flush_queue_flushes = 0;  // of those, lazy flush-queue flushes
  uint64_t traps[kTrapCauses] = {};
  uint64_t trap_cpu_ns = 0;     // of cpu_ns: VM exits and the VMM's work
  uint64_t pinned_pages = 0;    // pinned by maps now (shadow)
  uint64_t max_pinned_pages = 0;
};

// A lazy flush queue: unmapped ranges whose flush is deferred (a vCPU's own, or the one its
// domain's drivers share: workload dma_fq). owner: the driver (its index in owners) whose IOVA
// window holds iova; a driver that ended is null there (its IOVAs are not used again).
struct DmaFlushQueue {
  struct Entry {
    uint32_t owner;
    uint64_t iova;
    size_t pages;
    std::vector<uint64_t> keys;
  };
  std::vector<Entry> entries;
  std::vector<GuestDriver*> owners;
  uint64_t deadline_ns = 0;  // flushed then, when not before (set by the first entry)
};

// What a kind's hook may use while a vCPU is in the DMA API.
class DmaApiEnv {
 public:
  DmaApiEnv(HostServices& svc, Invalidator& inv, InvPort* port, Checker* checker, size_t dom_index,
            DmaApiStats& stats)
      : svc_(svc), inv_(inv), port_(port), checker_(checker), dom_index_(dom_index), stats_(stats) {}
  HostServices& svc() { return svc_; }
  Checker* checker() { return checker_; }
  DmaApiStats& stats() { return stats_; }
  // CPU work on the calling vCPU.
  void cpu(uint64_t ns);
  // A trap: the VM exit round trip and the VMM's work, on the calling vCPU's thread.
  void trap(TrapCause cause, uint64_t exit_ns, uint64_t vmm_ns);
  // An IOTLB (and device ATC) flush of [lo, hi) (or the domain), waited for; completes the
  // checker's keys. Returns the completion time.
  uint64_t flush(const IommuDomain& view, InvKind kind, uint64_t lo, uint64_t hi, const std::vector<uint64_t>& keys);

 private:
  HostServices& svc_;
  Invalidator& inv_;
  InvPort* port_;
  Checker* checker_;
  size_t dom_index_;
  DmaApiStats& stats_;
};

// The report keys of a domain whose devices map through the DMA API: maps, unmaps, dma_api.
void dma_api_json(const DmaApiStats& s, nlohmann::json* out);
// A vIOMMU kind's traps: {count, by_cause {map, unmap, flush}, cpu_ns}; s null: none used.
void traps_json(const DmaApiStats* s, nlohmann::json* out);

}  // namespace iopf
