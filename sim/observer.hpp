// Observers of a run: what watches a simulation without changing it (the time series, the
// progress line). Each observer is called at every multiple of its interval_ns of simulated
// time, from the engine's time-advance signal (sim/engine.cpp): no actor, no event, no extra
// step of the clock, so a report is the same with or without observers (tests compare runs
// with observers to the golden reports). A sample at t sees what every model did before t.
// Does not: attribute anything to exact simulated times finer than the device actors' batch
// quantum (a device runs its DMAs up to one quantum ahead of SimGrid time, so a sample at t
// has seen the completions its devices processed by then).
#pragma once
#include <cstdint>

namespace iopf {

struct System;
struct PrqStats;
struct InvalidationStats;

// What an observer may read, valid from begin() to end().
struct RunView {
  System& sys;
  const PrqStats& prq;
  const InvalidationStats& inv;
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual uint64_t interval_ns() const = 0;  // simulated time between samples, > 0
  // Before the first event (hooks the models' interval counters here).
  virtual void begin(RunView& view) { (void)view; }
  // At simulated time now_ns = k * interval_ns, k = 1, 2, ..., before anything at now_ns runs.
  virtual void sample(RunView& view, uint64_t now_ns) = 0;
  // After the run, at end_ns (sim.simulated_ns: past the last sample, or equal to it).
  virtual void end(RunView& view, uint64_t end_ns) { (void)view, (void)end_ns; }
};

}  // namespace iopf
