// The device side of a run: one actor per device that issues its paths' DMAs inline, in time
// order, and its PRI client (page requests, their allocation, timeouts and back-off).
//
// Models: the batch rule (see sim/engine.cpp): every DMA due in [now, now + quantum) runs
// inline, in due-time order across the device's paths (so its link sees its transfers in
// order); the actor then sleeps to its next due DMA. A path that faults stalls; its page
// request group leaves when the fault is detected and the device has pri_outstanding room
// (prg_pages requests per group), and the path resumes when the PRG response arrives, while
// the other paths go on. A request unanswered after pri_timeout was lost: it is sent again
// after pri_retry_backoff, as is one whose retry faulted again (auto-answered, or the page
// went away meanwhile). Invalid and Failure responses fail the pending DMA.
// Does not model: Stop Markers, the PRI Response Failure disabling the PRI capability.
#pragma once
#include <cstdint>

namespace iopf {

class Device;
class FaultHandling;
class SimServices;

// Runs one device until every path has issued its last DMA and every page request is answered.
void run_device(Device* dev, SimServices* svc, FaultHandling* faults, uint64_t end_ns, uint64_t quantum_ns);

}  // namespace iopf
