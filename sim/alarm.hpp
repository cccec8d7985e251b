// Wake-ups that cost no thread a wait of its own.
//
// EngineTimer: a callback the engine runs at a time (a SimGrid kernel timer, run by the engine
// itself between threads' steps), armed again at will; what it does must not block. The PRQ
// and the fault handlers (sim/fault_handling.hpp) run this way: no thread to wake for each.
// EngineWakeup: an EngineTimer that others may bring forward while its owner listens, the
// wake-up of an owner that waits for the earlier of a time and a message (a device waiting for
// a PRG response or its next deadline: sim/device_side.cpp, sim/inbox.hpp).
// Why not a thread: a thread woken costs two context switches and a semaphore activity per
// wake-up, and a timed semaphore wait cannot be re-timed (a thread told of an earlier
// deadline had to be woken at once and wait again). In fault-storm a device wakes 1.26 times
// a fault.
#pragma once
#include <simgrid/forward.h>

#include <cstdint>
#include <functional>

namespace iopf {

class EngineTimer {
 public:
  static constexpr uint64_t kNever = ~0ULL;

  explicit EngineTimer(std::function<void()> fire) : fire_(std::move(fire)) {}
  ~EngineTimer() { disarm(); }
  EngineTimer(const EngineTimer&) = delete;
  EngineTimer& operator=(const EngineTimer&) = delete;

  void arm(uint64_t at_ns);  // fires at at_ns (kNever: never) instead of any time set before
  void disarm();
  uint64_t at_ns() const { return at_ns_; }  // kNever when not armed

 private:
  std::function<void()> fire_;
  simgrid::kernel::timer::Timer* timer_ = nullptr;
  uint64_t at_ns_ = kNever;
};

class EngineWakeup {
 public:
  static constexpr uint64_t kNever = EngineTimer::kNever;

  explicit EngineWakeup(std::function<void()> fire);
  EngineWakeup(const EngineWakeup&) = delete;
  EngineWakeup& operator=(const EngineWakeup&) = delete;

  // The callback runs at at_ns (kNever: only when rung) instead of any time set before;
  // listening: ring_by() may bring it forward until it runs.
  void arm(uint64_t at_ns, bool listening);
  // While listening: it runs at at_ns if that is earlier than its time (at once, in this
  // instant's engine step, when at_ns is now or past).
  void ring_by(uint64_t at_ns);

 private:
  std::function<void()> fire_;
  bool listening_ = false;
  EngineTimer timer_;
};

}  // namespace iopf
