// Wake-ups that cost no thread a wait of its own.
//
// EngineTimer: a callback the engine runs at a time (a SimGrid kernel timer, run by the engine
// itself between threads' steps), armed again at will; what it does must not block. The PRQ
// (sim/fault_handling.hpp) serves its requests this way: no thread to wake for each.
// Alarm: a thread's wake-up at a time that other threads may bring forward while it sleeps,
// without waking it only for it to sleep again (an EngineTimer that releases its semaphore).
// Why: a timed semaphore wait cannot be re-timed, so a thread told of an earlier deadline had
// to be woken at once and wait again, one more engine event (fault-storm: 0.72 a fault, the
// device woken by PRG responses and the PRQ by page requests still in flight; 16 % of its
// events).
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

class Alarm {
 public:
  static constexpr uint64_t kNever = EngineTimer::kNever;

  Alarm();
  Alarm(const Alarm&) = delete;
  Alarm& operator=(const Alarm&) = delete;

  // Blocks the calling thread until the alarm rings: at at_ns (kNever: no time of its own), or
  // earlier when ring_by() brings it forward.
  void sleep_until(uint64_t at_ns);
  bool sleeping() const { return sleeping_; }
  // While the owner sleeps: it rings at at_ns if that is earlier than its time (at once when
  // at_ns is now or past).
  void ring_by(uint64_t at_ns);

 private:
  void ring();

  simgrid::s4u::SemaphorePtr sem_;
  EngineTimer timer_;
  bool sleeping_ = false;
  bool rung_ = false;  // released for this sleep: nothing more until the owner sleeps again
};

}  // namespace iopf
