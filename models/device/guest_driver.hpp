// The guest's device driver as the DMA API sees it (a path's workload dma_api): it maps each
// I/O buffer before its DMA and unmaps it after, on a vCPU of the guest (one vCPU thread per
// path, as a NIC queue is served by one CPU).
//
// Models: arrivals at the path's rate; per_io maps one 4 KiB page per I/O (dma_map_single),
// batched maps `dma_batch` buffers in one call when it has none mapped left and unmaps a batch
// in one call once all its buffers completed (the rest of the last batch is unmapped at the
// end). The DMA is issued when its buffer is mapped (the device address is the IOVA, or the GPA
// without a vIOMMU); its latency counts from its arrival, so map time and a vCPU that fell
// behind are part of it. Arrivals that find queue_depth I/Os waiting for the vCPU are overruns;
// what was due and not yet issued when the window closed is backlog. A completion is unmapped
// when the vCPU gets to it. Unmaps flush `strict` (each waits for its own page or range
// invalidation) or `lazy`: Linux's per-CPU flush queue (drivers/iommu/dma-iommu.c:
// IOVA_FQ_SIZE 256 entries, IOVA_FQ_TIMEOUT 10 ms) defers them and flushes the whole domain
// when it is full or 10 ms after its first entry; only then are their IOVAs free again. With
// dma_fq single the domain's drivers share one queue (dma-iommu's single-queue mode): whichever
// vCPU fills it, or first wakes at its deadline, flushes every vCPU's entries.
// A map the domain refuses (kind kvm_owned) fails the call: the driver drops the I/O that
// needed it (counted issued and failed as dropped, as a NIC drops a packet it cannot map).
// What a map and an unmap cost and do is the domain kind's (Domain::dma_map, ...): see
// models/domain/dma_api.hpp. IOVAs: each driver of a domain allocates upward in a 64 GiB window
// of its own from 4 GiB, freed ones reused last-in first-out (as the IOVA rcache's per-CPU
// magazines do).
// An arrival is the driver's I/O request (a packet to send, a receive buffer to post); the rx
// refill Linux does ahead of packets is not separated from it. A driven DMA never waits for a
// page: a fault fails it as the device's intolerant_fault says (with a vIOMMU its buffers are
// mapped before it starts, so none faults).
// Does not model: scatter-gather lists, the IOVA allocator's tree and its cost, interrupt
// moderation (a completion is seen when it lands), several queues sharing a vCPU, a device
// mixing driven paths with paths it issues ahead of SimGrid time (their link use interleaves
// out of time order).
#pragma once
#include <cstdint>
#include <map>
#include <queue>
#include <string>
#include <vector>

#include "models/device/device.hpp"
#include "models/domain/dma_api.hpp"
#include "models/host/services.hpp"

namespace iopf {

class GuestDriver {
 public:
  // index: the driver's number in its domain; each has its own IOVA window.
  GuestDriver(Path& path, Domain& dom, size_t dom_index, HostServices& svc, Invalidator& inv, Checker* checker,
              const std::string& name, uint32_t index);
  // The vCPU thread: until the window closed and every buffer is unmapped and flushed.
  void run();
  ~GuestDriver() { fq_.owners[index_] = nullptr; }
  GuestDriver(const GuestDriver&) = delete;
  GuestDriver& operator=(const GuestDriver&) = delete;

 private:
  static constexpr uint64_t kIovaBase = 1ULL << 32;     // chosen: above a 32-bit DMA window
  static constexpr uint64_t kIovaWindowLg2 = 36;        // chosen: 64 GiB of IOVA per driver
  struct Buffer {
    uint64_t address;  // guest address of the data (GPA)
    uint64_t iova;     // its page's IOVA
    size_t batch;      // the map call it came from
  };
  struct Batch {
    uint64_t iova;
    size_t pages;
    size_t left;  // buffers not yet completed (or given up)
  };
  struct Done {
    uint64_t done_ns;
    size_t batch;
    bool operator>(const Done& o) const { return done_ns > o.done_ns; }
  };
  void arrival();
  bool map_batch(size_t n);  // false: refused
  void completed(size_t batch);
  void unmap(uint64_t iova, size_t pages);
  void flush_queue();
  uint64_t alloc_iova(size_t pages);
  void free_iova(uint64_t iova, size_t pages) { free_[pages].push_back(iova); }

  Path& path_;
  Domain& dom_;
  HostServices& svc_;
  DmaApiEnv env_;
  const DmaApiSpec& spec_;
  std::vector<Buffer> mapped_;  // mapped, not yet used (batched), last first
  std::vector<Batch> batches_;
  std::priority_queue<Done, std::vector<Done>, std::greater<>> in_flight_;
  DmaFlushQueue own_fq_;
  DmaFlushQueue& fq_;  // lazy: unmapped, not yet flushed (own_fq_ or the domain's shared one)
  uint32_t index_;     // this driver's slot in fq_.owners
  uint64_t next_iova_;
  std::map<size_t, std::vector<uint64_t>> free_;  // by pages
};

}  // namespace iopf
