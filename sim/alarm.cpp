#include "sim/alarm.hpp"

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u.hpp>

#include "sim/sim_services.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

Alarm::Alarm() : sem_(sg4::Semaphore::create(0)) {}

Alarm::~Alarm() { disarm(); }

void Alarm::disarm() {
  if (timer_) timer_->remove();
  timer_ = nullptr;
}

// A kernel timer runs in the engine (maestro) at its date; it releases the owner there.
void Alarm::arm(uint64_t at_ns) {
  disarm();
  at_ns_ = at_ns;
  if (at_ns == kNever) return;
  timer_ = simgrid::kernel::timer::Timer::set(static_cast<double>(at_ns) * 1e-9, [this] {
    timer_ = nullptr;  // the engine frees a timer once it has run
    at_ns_ = 0;        // rung: ring_by changes nothing until the owner sleeps again
    sem_->release();
  });
}

void Alarm::sleep_until(uint64_t at_ns) {
  struct Done {  // also when the thread is killed while asleep (a daemon at the end of the run)
    Alarm& a;
    ~Done() {
      a.disarm();
      a.sleeping_ = false;
      a.at_ns_ = kNever;
    }
  } done{*this};
  sleeping_ = true;
  arm(at_ns);
  sem_->acquire();
}

void Alarm::ring_by(uint64_t at_ns) {
  if (!sleeping_ || at_ns >= at_ns_) return;
  if (at_ns <= SimServices::clock_ns()) {
    disarm();
    at_ns_ = 0;  // rung: later calls before the owner runs change nothing
    sem_->release();
    return;
  }
  arm(at_ns);
}

}  // namespace iopf
