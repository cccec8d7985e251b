#include "sim/alarm.hpp"

#include <simgrid/kernel/Timer.hpp>

#include <algorithm>

#include "sim/sim_services.hpp"

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

EngineWakeup::EngineWakeup(std::function<void()> fire)
    : fire_(std::move(fire)), timer_([this] {
        listening_ = false;
        fire_();
      }) {}

void EngineWakeup::arm(uint64_t at_ns, bool listening) {
  listening_ = listening;
  timer_.arm(at_ns);
}

void EngineWakeup::ring_by(uint64_t at_ns) {
  if (!listening_ || at_ns >= timer_.at_ns()) return;
  timer_.arm(std::max(at_ns, SimServices::clock_ns()));
}

}  // namespace iopf
