// A thread's wake-up at a time that other threads may bring forward while it sleeps, without
// waking it only for it to sleep again: a SimGrid kernel timer that releases the thread's
// semaphore, moved when brought forward.
// Why: a timed semaphore wait cannot be re-timed, so a thread told of an earlier deadline had
// to be woken at once and wait again, one more engine event (fault-storm: 0.72 a fault, the
// device woken by PRG responses and the PRQ by page requests still in flight; 16 % of its
// events).
#pragma once
#include <simgrid/forward.h>

#include <cstdint>

namespace iopf {

class Alarm {
 public:
  static constexpr uint64_t kNever = ~0ULL;

  Alarm();
  ~Alarm();
  Alarm(const Alarm&) = delete;
  Alarm& operator=(const Alarm&) = delete;

  // Blocks the calling thread until the alarm rings: at at_ns (kNever: no time of its own), or
  // earlier when ring_by() brings it forward.
  void sleep_until(uint64_t at_ns);
  bool sleeping() const { return sleeping_; }
  uint64_t rings_at_ns() const { return at_ns_; }  // while sleeping (kNever: not timed)
  // While the owner sleeps: it rings at at_ns if that is earlier than its time (at once when
  // at_ns is now or past).
  void ring_by(uint64_t at_ns);

 private:
  void arm(uint64_t at_ns);
  void disarm();

  simgrid::s4u::SemaphorePtr sem_;
  simgrid::kernel::timer::Timer* timer_ = nullptr;
  uint64_t at_ns_ = kNever;
  bool sleeping_ = false;
};

}  // namespace iopf
