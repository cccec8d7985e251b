// Fault handling (PCIe PRI on the host side): the IOMMU's page request queue (PRQ), the
// fault handler threads on host cores, and the PRG responses back to the devices.
//
// Models: a page request group of `pages` requests, each taking a PRQ entry from arrival
// until answered. The request crosses the device's PCIe link (its latency, 16 B a page at the
// link's bandwidth); the IOMMU serves requests one at a time in arrival order, each at the
// later of its arrival and the end of the one before, and checks the PRQ's room then. A
// request that finds the PRQ full is answered Success at once (auto_success: the device
// retries and faults again) or lost (drop: the device times out after pri_timeout and retries
// after pri_retry_backoff). The IOMMU spends prq_handling per request, then hands it to the
// host (a 64 B descriptor across the root complex). One handler thread per host core: an idle
// one takes the next request when it arrives; a busy one, when it ends its batch, takes every
// request already arrived (one interrupt per batch of at most host.fault_batch), waits
// irq_latency (a sample per wake-up), and resolves each page on its core (host memory's
// fault_in, CPU work shared with the host's other threads); the faulting page decides the
// response: Success, Invalid (outside guest memory) or Failure (no memory could be had). The
// response crosses back (root complex and PCIe latency, 16 B).
// Messages are timed in-line (sim/inbox.hpp): their links carry nothing else in the model.
// A handler thread is driven by the engine (sim/alarm.hpp's EngineTimer ends its interrupt
// latency and each page's CPU work on a core of its own: CpuCores' engine-timed work), so a
// fault costs no thread switches; the thread itself runs only what must wait otherwise
// (memory to be reclaimed, a major fault's swap read, cores shared), then hands back. Each
// wait then ends at its exact ns (a timed SimGrid wait could end one ns early).
// Does not model: PRQ overflow recovery by software, Stop Markers, PASID-less requests.
// Figures: message sizes are the PCIe header TLPs (4 DW); the handler batch default is chosen.
#pragma once
#include <simgrid/forward.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/common/rng.hpp"
#include "models/common/stats.hpp"
#include "models/common/trace.hpp"
#include "models/domain/domain.hpp"
#include "sim/alarm.hpp"
#include "sim/inbox.hpp"

namespace iopf {

class Device;
class HostMemory;
class SimServices;
struct IommuSpec;
struct HostSpec;

// The link from the IOMMU to the host CPU (the root complex's path to memory and interrupts).
struct HostLink {
  uint64_t latency_ns;
  double bytes_per_s;
};

enum class PrgCode : uint8_t { kSuccess = 0, kInvalid = 1, kFailure = 2 };

// One page request group (pages page requests, the last with Last set: each takes a PRQ
// entry), and the same object carries the PRG response back to the device's inbox.
struct PageRequest {
  Device* device;
  uint64_t id;  // the device's own number for it
  uint64_t va;  // the faulting page; the group asks for the pages after it too
  bool write;
  uint32_t pages;
  PrgCode code = PrgCode::kSuccess;
  FaultKind kind = FaultKind::kNone;  // of the faulting page
  uint64_t accepted_ns = 0;  // took its PRQ entries
};

struct PrqStats {
  uint64_t depth = 0;  // occupancy now: requests received and not yet answered
  uint64_t max_depth = 0;
  uint64_t overflows = 0;
  uint64_t auto_responses = 0;
  uint64_t device_faults[4] = {};  // by FaultKind of each page a handler resolved
  uint64_t requests = 0;           // page request groups that reached the PRQ (overflows included)
  Histogram residence_ns;          // accepted groups: PRQ entry taken -> response sent
};

class FaultHandling {
 public:
  static constexpr uint64_t kPageRequestBytes = 16;  // a PRI Page Request Message is a 4-DW header TLP
  static constexpr uint64_t kPrgResponseBytes = 16;  // PRG Response Message, likewise
  static constexpr uint64_t kHandoffBytes = 64;      // PRQ descriptor handed to the host (one cache line)

  // host_link: the IOMMU-to-CPU link of sim/engine.cpp's platform.
  FaultHandling(SimServices* svc, const IommuSpec& iommu, const HostSpec& host, HostMemory* memory, uint64_t seed,
                const HostLink& host_link);
  ~FaultHandling();

  // The device side: sends a page request group (the response comes to responses(device)).
  void send(const PageRequest& req);
  // A response the device is done with (or a request the PRQ lost) is retired, to be reused
  // by a later send; what is still in flight when the run ends goes with this object.
  void retire(PageRequest* req);
  Inbox& responses(const Device* d);

  // The IOMMU's PRQ is served by the engine itself (sim/alarm.hpp's EngineTimer, at each
  // request's start: no thread to wake); this daemon on the IOMMU only ends that with the run.
  void prq_keeper();
  void handler_loop(uint32_t core = 0);  // one per host core
  void set_trace(TraceSink* trace) { trace_ = trace; }  // page requests and faults go there (--trace)

  const PrqStats& stats() const { return stats_; }

 private:
  struct Handoff {
    PageRequest* req;
    uint64_t ready_ns;  // its descriptor has reached the host
  };
  struct Handler;  // a handler thread and its batch (fault_handling.cpp)
  void accept(PageRequest* req, uint64_t now);
  void hand_off(PageRequest* req, uint64_t ready_ns);
  void respond(PageRequest* req);
  // A handler's batch, driven by the engine (Handler's timer) while nothing but its CPU work on
  // a core of its own must wait; what must wait is finished in its thread (finish_in_thread).
  bool begin_batch(Handler& h, const Handoff& first);  // true: it waits for its interrupt
  void run(Handler& h);
  void on_timer(Handler& h);
  void end_work(Handler& h);
  void finish_in_thread(Handler& h);
  static uint64_t page_va(const PageRequest* req, uint32_t page);
  void begin_request(Handler& h, PageRequest* req);
  bool more_pages(const Handler& h, const PageRequest* req) const;
  void end_page(Handler& h, PageRequest* req, FaultKind kind, bool ok);
  void end_request(Handler& h, PageRequest* req);
  void trace_request(const PageRequest* req, bool begin, const char* arg_name, uint64_t arg);

  SimServices* svc_;
  const IommuSpec& iommu_;
  const HostSpec& host_;
  HostMemory* memory_;
  HostLink host_link_;
  void prq_schedule();  // arms prq_timer_ at the next request's start
  void prq_serve();     // what the PRQ does at that start

  Inbox prq_;                   // page requests on their way to the IOMMU (no thread waits on it)
  EngineTimer prq_timer_;
  uint64_t prq_free_ns_ = 0;    // the IOMMU has handled the request before by then
  std::deque<Handoff> pending_;  // handed to the host, no handler free yet
  std::deque<Handler*> idle_;    // handlers waiting, longest first
  std::unordered_map<const Device*, std::unique_ptr<Inbox>> responses_;
  // Every request sent: retired ones are reused, as a fault storm sends and retires one per
  // fault (a map of owned requests cost an allocation and two hashes each).
  std::deque<PageRequest> requests_;   // all there were at once (a deque: they stay put)
  std::vector<PageRequest*> retired_;  // free for the next send
  PrqStats stats_;
  Rng irq_rng_;  // irq_latency samples (streams::irq_latency)
  TraceSink* trace_ = nullptr;
};

}  // namespace iopf
