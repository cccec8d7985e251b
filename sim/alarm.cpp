#include "sim/alarm.hpp"

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u.hpp>

#include "sim/sim_services.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

void EngineTimer::disarm() {
  if (timer_) timer_->remove();
  timer_ = nullptr;
  at_ns_ = kNever;
}

void EngineTimer::arm(uint64_t at_ns) {
  disarm();
  if (at_ns == kNever) return;
  at_ns_ = at_ns;
  timer_ = simgrid::kernel::timer::Timer::set(static_cast<double>(at_ns) * 1e-9, [this] {
    timer_ = nullptr;  // the engine frees a timer once it has run
    at_ns_ = kNever;
    fire_();
  });
}

Alarm::Alarm() : sem_(sg4::Semaphore::create(0)), timer_([this] { ring(); }) {}

void Alarm::ring() {
  rung_ = true;
  timer_.disarm();
  sem_->release();
}

void Alarm::sleep_until(uint64_t at_ns) {
  struct Done {  // also when the thread is killed while asleep (a daemon at the end of the run)
    Alarm& a;
    ~Done() {
      a.timer_.disarm();
      a.sleeping_ = false;
    }
  } done{*this};
  sleeping_ = true;
  rung_ = false;
  timer_.arm(at_ns);
  sem_->acquire();
}

void Alarm::ring_by(uint64_t at_ns) {
  if (!sleeping_ || rung_ || at_ns >= timer_.at_ns()) return;
  if (at_ns <= SimServices::clock_ns()) ring();
  else timer_.arm(at_ns);
}

}  // namespace iopf
