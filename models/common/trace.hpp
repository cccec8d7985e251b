// Timeline events (`iopfsim run --trace`): the interface through which the slow-path models
// report what happens when, for a viewer (Perfetto, chrome://tracing).
//
// Does: spans (a start and an end on one track) and asynchronous begin/end pairs (a page
// request, from the device sending it to the host answering it) by category. Models hold a
// TraceSink* that is null unless a trace is asked for, so the cost when off is one pointer
// test per slow-path event; nothing is recorded per DMA.
// Does not: decide what is kept (the window and the size cap are the sink's, sim/trace.cpp),
// nor change any model state.
#pragma once
#include <cstdint>

namespace iopf {

enum class TraceCat : uint8_t { kPageRequest, kFault, kInvalidation, kReset, kReclaim };

// Where an event shows: a process (the host, the IOMMU, one per device) and a thread in it.
struct TraceTrack {
  uint32_t pid;
  uint32_t tid;
  static constexpr uint32_t kHostPid = 1, kIommuPid = 2, kDevicePid0 = 10;  // device i: kDevicePid0 + i
  static constexpr uint32_t kKswapdTid = 1000;  // on the host; host cores are tids 0..cores-1
  static constexpr uint32_t kInvQueueTid = 1;   // on the IOMMU; the PRQ is tid 0
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // [start_ns, end_ns] on track; arg_name (or null) with a number.
  virtual void span(TraceCat cat, const char* name, TraceTrack track, uint64_t start_ns, uint64_t end_ns,
                    const char* arg_name = nullptr, uint64_t arg = 0) = 0;
  // One half of an asynchronous pair matched by id (begin, then end with the same id).
  virtual void async(TraceCat cat, const char* name, bool begin, TraceTrack track, uint64_t id, uint64_t t_ns,
                     const char* arg_name = nullptr, uint64_t arg = 0) = 0;
};

}  // namespace iopf
