// The device side of a run: one actor per device that issues its paths' DMAs inline, in time
// order, and its PRI client (page requests, merged by page, their allocation, timeouts and
// back-off).
//
// Models: the batch rule (see sim/engine.cpp): every DMA due in [now, now + quantum) runs
// inline, in due-time order across the device's paths (so its link sees its transfers in
// order); the device then sleeps to its next due DMA. Its loop runs on the engine
// (an EngineWakeup, sim/alarm.hpp): the device's thread takes the first step and waits for the
// last, and each wake-up between is a callback, not a thread switch. A DMA that faults is parked on its page
// (an ordered path stops behind it, others go on). One page request group per page: a fault
// on a page already requested joins it (merged, as devices and the PRQ do). A group leaves
// when its fault is detected and the device has pri_outstanding room (prg_pages requests per
// group) and page requests are enabled; every DMA parked on the page retries when the PRG
// response arrives. A request unanswered after pri_timeout was lost: it is sent again after
// pri_retry_backoff, as is one whose retry faulted again (auto-answered, or the page went
// away meanwhile). Invalid and Failure responses fail the parked DMAs; Failure also stops
// page requests until the device's reset (models/device/device.hpp).
// At the window's end the actor stops: parked DMAs are reported in flight, outstanding page
// requests are abandoned, and what was due and never issued is the paths' backlog.
// Does not model: Stop Markers, PASID-less page requests.
#pragma once
#include <cstdint>

namespace iopf {

class Device;
class FaultHandling;
class SimServices;

// When the device works: its domain became ready at origin_ns; DMAs due in
// [start_ns, end_ns) are measured; none issues at or after end_ns.
struct DeviceWindow {
  uint64_t origin_ns;
  uint64_t start_ns;
  uint64_t end_ns;
  uint64_t quantum_ns;  // the batch rule's quantum
};

// Runs one device until its window closes or every path is done.
void run_device(Device* dev, SimServices* svc, FaultHandling* faults, const DeviceWindow& window);

}  // namespace iopf
