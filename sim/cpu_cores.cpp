#include "sim/cpu_cores.hpp"

#include <simgrid/s4u.hpp>

#include <algorithm>

#include "sim/sim_services.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

namespace {
// A thread's timed wait: interrupted by a release.
struct TimedWait final : CpuCores::Alone {
  explicit TimedWait(sg4::Semaphore* s) : sem(s) {}
  void interrupt() override { sem->release(); }
  sg4::Semaphore* sem;
};
}  // namespace

CpuCores::CpuCores(sg4::Host* host) : host_(host), cores_(static_cast<uint32_t>(host->get_core_count())) {}

void CpuCores::start_alone(Alone* w, uint64_t ns) {
  w->end_ns = SimServices::clock_ns() + ns;
  w->shared = false;
  alone_.push_back(w);
}

void CpuCores::end_alone(Alone* w) {
  alone_.erase(std::find(alone_.begin(), alone_.end(), w));
  ++fast_works_;
}

void CpuCores::execute_rest(const Alone& w) { execute(w.end_ns - std::min(w.end_ns, SimServices::clock_ns())); }

void CpuCores::execute(uint64_t ns) {
  if (ns) sg4::this_actor::execute(static_cast<double>(ns));  // 1 Gflop/s: a flop is a ns
  --executing_;
}

void CpuCores::work(uint64_t ns) {
  if (!ns) return;
  if (sg4::this_actor::get_host() != host_) {  // not on the host's cores: nothing to share with
    sg4::this_actor::execute(static_cast<double>(ns));
    return;
  }
  if (core_free()) {  // a core of its own, for now
    sg4::SemaphorePtr sem;
    if (spare_sems_.empty()) {
      sem = sg4::Semaphore::create(0);
    } else {
      sem = std::move(spare_sems_.back());
      spare_sems_.pop_back();
    }
    TimedWait me(sem.get());
    // Leaves alone_ however the wait ends (an actor killed in it unwinds through here too).
    struct Leave {
      std::vector<Alone*>& alone;
      TimedWait& me;
      ~Leave() {
        if (!me.shared) alone.erase(std::find(alone.begin(), alone.end(), &me));
      }
    } leave{alone_, me};
    start_alone(&me, ns);
    sem->acquire_timeout(static_cast<double>(ns) / 1e9);  // as the CPU model times it: flops / speed
    if (!me.shared) {  // timed out, and no release was sent to it: it can be reused
      ++fast_works_;
      spare_sems_.push_back(std::move(sem));
      return;
    }
    execute_rest(me);  // the cores became shared before the end
    return;
  }
  // This one shares the cores: every thread computing on a wait goes on as an execution. The
  // state is settled before the first release, which is a simcall: other threads run then.
  ++executing_;
  std::vector<Alone*> moved;
  if (!alone_.empty()) {
    ++shared_starts_;
    const uint64_t now = SimServices::clock_ns();
    size_t kept = 0;
    for (Alone* w : alone_) {
      if (w->end_ns <= now) {  // ends now (its wait is timing out): nothing left to share
        alone_[kept++] = w;
        continue;
      }
      w->shared = true;
      moved.push_back(w);
    }
    alone_.resize(kept);
    executing_ += static_cast<uint32_t>(moved.size());
  }
  for (Alone* w : moved) w->interrupt();
  execute(ns);
}

}  // namespace iopf
