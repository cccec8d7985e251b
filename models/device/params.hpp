// A device's parameters, its DMA paths and their workloads, as the scenario's "devices"
// array gives them (the loader fills these; defaults and sources: the device, device.atc,
// path and workload parameter tables, sim/scenario.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/cache/tlb.hpp"
#include "models/common/enum_table.hpp"
#include "models/device/arrivals.hpp"
#include "models/device/replay.hpp"

namespace iopf {

enum class Pattern : uint8_t { kSequential, kRandom, kRing };
inline constexpr EnumTable<Pattern, 3> kPatternNames{
    {{Pattern::kSequential, "sequential"}, {Pattern::kRandom, "random"}, {Pattern::kRing, "ring"}}};

// What a path that cannot fault does when it meets an absent page.
enum class IntolerantAction : uint8_t { kAbort, kDrop, kStall };
inline constexpr EnumTable<IntolerantAction, 3> kIntolerantActionNames{
    {{IntolerantAction::kAbort, "abort"}, {IntolerantAction::kDrop, "drop"}, {IntolerantAction::kStall, "stall"}}};

enum class DmaOp : uint8_t { kRead, kWrite };
inline constexpr EnumTable<DmaOp, 2> kDmaOpNames{{{DmaOp::kRead, "read"}, {DmaOp::kWrite, "write"}}};

// How the guest's driver gives the device its buffers (models/device/guest_driver.hpp).
enum class DmaApiMode : uint8_t { kNone, kPerIo, kBatched };
inline constexpr EnumTable<DmaApiMode, 3> kDmaApiModeNames{
    {{DmaApiMode::kNone, "none"}, {DmaApiMode::kPerIo, "per_io"}, {DmaApiMode::kBatched, "batched"}}};
enum class DmaFlush : uint8_t { kStrict, kLazy };
inline constexpr EnumTable<DmaFlush, 2> kDmaFlushNames{{{DmaFlush::kStrict, "strict"}, {DmaFlush::kLazy, "lazy"}}};

// Lazy flush queues: one per vCPU (Linux's default), or one the domain's vCPUs share (Linux's
// single-queue mode, IOMMU_DMA_OPTS_SINGLE_QUEUE, which s390 paged guests use).
enum class DmaFqMode : uint8_t { kPerCpu, kSingle };
inline constexpr EnumTable<DmaFqMode, 2> kDmaFqModeNames{{{DmaFqMode::kPerCpu, "per_cpu"}, {DmaFqMode::kSingle, "single"}}};

struct DmaApiSpec {
  DmaApiMode mode = DmaApiMode::kNone;  // none: the device addresses guest memory directly (no driver modelled)
  uint32_t batch = 32;                  // batched: buffers mapped per call, and unmapped per call
  DmaFlush flush = DmaFlush::kStrict;
  uint32_t fq_entries = 256;            // lazy: a flush when the vCPU's queue holds this many unmaps
  uint64_t fq_timeout_ns = 10'000'000;  // or this long after the first queued one
  DmaFqMode fq_mode = DmaFqMode::kPerCpu;
};

struct WorkloadSpec {
  uint64_t region_base = 0;  // IOVA
  uint64_t region_bytes = 0;
  Pattern pattern = Pattern::kSequential;
  uint32_t access_bytes = 64;
  bool write = false;
  double rate_per_s = 0;     // open loop when > 0
  ArrivalSpec arrival;       // open loop: when DMAs are due (periodic at rate_per_s by default)
  uint32_t outstanding = 0;  // closed loop when > 0
  uint64_t start_ns = 0;     // first DMA
  uint32_t queue_depth = 1024;  // open loop: arrivals that may wait while the path cannot issue
  bool reaches_outside_memory = false;  // the region may extend past guest memory
  DmaApiSpec dma;                       // the guest driver's DMA API (open loop only)
  // A replayed trace (models/device/replay.hpp): when not empty, the DMAs are these, due at
  // start + t_ns, arriving as an open loop does (queue_depth); rate and region are unused.
  std::vector<ReplayDma> replay;
  std::vector<ReplayUnmap> replay_unmaps;  // the loader turns them into a scripted source
};

struct PathSpec {
  std::string name;
  bool fault_tolerant = false;
  bool ordered = false;  // a fault blocks the DMAs after it (a descriptor ring)
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
  double pcie_bandwidth_bytes_per_s = 0;  // per direction, wire bytes
  uint32_t max_payload_bytes = 256;       // PCIe MPS: TLP payload
  uint32_t inv_queue_depth = 32;          // ATS Invalidate Requests outstanding at once
  uint32_t msi_every_dmas = 0;    // an MSI (a write to the domain's doorbell slot) per this many DMAs; 0: none
  std::vector<PathSpec> paths;
};

}  // namespace iopf
