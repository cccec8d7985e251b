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
// Engine-timed work (start_alone): a work on a free core that an engine timer ends, with no
// thread waiting (sim/fault_handling.cpp's handlers); it counts as a core taken like a wait,
// and the cores becoming shared interrupt it, its owner's thread going on with the rest as an
// execution.
#pragma once
#include <simgrid/forward.h>

#include <cstdint>
#include <vector>

namespace iopf {

class CpuCores {
 public:
  // Work on a core of its own, that the cores becoming shared interrupts (a thread's timed
  // wait, or an engine-driven work: sim/fault_handling.cpp's handlers).
  class Alone {
   public:
    uint64_t end_ns = 0;
    bool shared = false;  // interrupted: what is left, to its end_ns, is an execution now
    // The cores became shared (called in the thread that shares them): its owner goes on with
    // end_ns - now as an execution, in its own thread (execute_rest).
    virtual void interrupt() = 0;

   protected:
    ~Alone() = default;
  };

  explicit CpuCores(simgrid::s4u::Host* host);
  // ns of work (flops at 1 Gflop/s) by the calling thread; returns when it is done.
  void work(uint64_t ns);
  // For a work the engine times (no thread waits on it): whether a core is free for it now.
  bool core_free() const { return executing_ + alone_.size() < cores_; }
  // Starts such a work of ns > 0 on the free core (core_free() must hold) until now + ns; its
  // owner calls end_alone at that time, unless interrupt() was called first.
  void start_alone(Alone* w, uint64_t ns);
  void end_alone(Alone* w);
  // In the thread of an interrupted work: what is left of it (to its end_ns), as an execution
  // (counted already).
  void execute_rest(const Alone& w);

  uint64_t fast_works() const { return fast_works_; }  // done on a core of their own, without sharing
  uint64_t shared_starts() const { return shared_starts_; }  // times waits were moved to executions

 private:
  void execute(uint64_t ns);

  simgrid::s4u::Host* host_;
  uint32_t cores_;
  std::vector<Alone*> alone_;  // works on a core of their own (timed waits, engine-timed works)
  uint32_t executing_ = 0;      // threads in a SimGrid execution on the host (or about to be)
  // Semaphores of waits that timed out, for the next waits: one created and destroyed per
  // work cost more than the wait itself.
  std::vector<simgrid::s4u::SemaphorePtr> spare_sems_;
  uint64_t fast_works_ = 0;
  uint64_t shared_starts_ = 0;
};

}  // namespace iopf
