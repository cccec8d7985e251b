// The SimGrid side of a run: the platform, the wiring of the slow-path parts, and the
// batch rule.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/fault_handling.hpp"
#include "sim/invalidation_queue.hpp"
#include "sim/observer.hpp"
#include "sim/system.hpp"

namespace iopf {

struct EngineStats {
  uint64_t simulated_ns = 0;
  uint64_t events = 0;  // SimGrid activities the model started (sleeps, waits, messages, executions)
  double wall_s = 0;
  uint64_t quantum_ns = 0;  // the batch quantum in force after clamping
  PrqStats prq;             // the SimGrid-side parts' own counters, at the end of the run
  InvalidationStats inv;
  uint64_t model_histograms = 0;  // Histograms the model holds (counted before observers start)
};

// Runs the scenario in `sys` to completion. simgrid_args are extra --cfg/--log flags.
// Throws std::runtime_error on a deadlock (the CLI turns it into exit status 1).
// observers watch the run (sim/observer.hpp) and trace records its timeline
// (models/common/trace.hpp), both without changing it.
EngineStats run_engine(System& sys, const std::vector<std::string>& simgrid_args = {},
                       const std::vector<Observer*>& observers = {}, TraceSink* trace = nullptr);

}  // namespace iopf
