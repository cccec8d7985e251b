// CPU work on the host's cores, at the cost of a timed wait while the cores are not shared.
//
// Models: what SimGrid's CPU model does for the host (cores at 1 Gflop/s, each execution at
// most one core, the cores shared evenly when more threads compute than there are cores),
// unchanged. Why not an execution for every piece of work: the CPU model re-solves the
// host's sharing at each start and end, about three times the cost of a timed wait
// (fault-storm: 0.68x the wall time with waits). While no more threads compute than there
// are cores, each has a core to itself and its work takes exactly its length, so it is a
// timed wait of its own. When one more would share the cores, the threads on such waits are
// woken and go on with what they have left (their elapsed time is their work done, at one
// core each) as SimGrid executions, and so does every new work while all the cores are
// taken: SimGrid shares the cores among them exactly as before. A work that finds a core
// free is a wait again (the executions it joins have a core each too, as SimGrid then says).
// Work by a thread on another host (not the host's cores) is always an execution.
#pragma once
#include <simgrid/forward.h>

#include <cstdint>
#include <vector>

namespace iopf {

class CpuCores {
 public:
  explicit CpuCores(simgrid::s4u::Host* host);
  // ns of work (flops at 1 Gflop/s) by the calling thread; returns when it is done.
  void work(uint64_t ns);

  uint64_t fast_works() const { return fast_works_; }  // done on a core of their own, without sharing
  uint64_t shared_starts() const { return shared_starts_; }  // times waits were moved to executions

 private:
  struct Waiter {
    simgrid::s4u::Semaphore* wake;
    uint64_t end_ns;
    bool shared = false;  // woken because the cores became shared
  };
  void execute(uint64_t ns);

  simgrid::s4u::Host* host_;
  uint32_t cores_;
  std::vector<Waiter*> alone_;  // threads working on a core of their own (timed waits)
  uint32_t executing_ = 0;      // threads in a SimGrid execution on the host (or about to be)
  // Semaphores of waits that timed out, for the next waits: one created and destroyed per
  // work cost more than the wait itself.
  std::vector<simgrid::s4u::SemaphorePtr> spare_sems_;
  uint64_t fast_works_ = 0;
  uint64_t shared_starts_ = 0;
};

}  // namespace iopf
