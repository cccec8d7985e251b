// What host-side models ask of the simulation engine: the clock, sleeping, CPU work on a
// host core, the swap device, wake-ups between host threads, and new host threads.
// sim/sim_services.cpp implements it on SimGrid; models that use it (host memory, host
// activity, domain kinds) stay free of SimGrid. Every call is made from inside an actor,
// and blocks that actor only.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace iopf {

// One thread waits, others wake it (a wake-up sent while nobody waits is kept).
class Wakeup {
 public:
  virtual ~Wakeup() = default;
  virtual void notify() = 0;
  virtual void wait() = 0;
};

// Threads wait until another wakes them all; a waiter checks its own condition first and
// again after waking (a notify with nobody waiting is lost).
class Condition {
 public:
  virtual ~Condition() = default;
  virtual void wait() = 0;
  virtual void notify_all() = 0;
};

class HostServices {
 public:
  virtual ~HostServices() = default;
  virtual uint64_t now_ns() const = 0;
  virtual void sleep_until(uint64_t t_ns) = 0;
  virtual void cpu_work(uint64_t ns) = 0;  // on the calling thread's host core
  virtual void swap_read(uint64_t bytes) = 0;   // a transfer on the swap device (its latency
  virtual void swap_write(uint64_t bytes) = 0;  // is the caller's to sleep)
  virtual std::unique_ptr<Wakeup> make_wakeup(const std::string& name) = 0;
  virtual std::unique_ptr<Condition> make_condition() = 0;
  // A host thread on the host CPU that runs as long as the devices do (a daemon: the run does
  // not wait for it to end).
  virtual void spawn_daemon(const std::string& name, std::function<void()> body) = 0;
  // A host thread the run waits for (a scripted source that must finish its work).
  virtual void spawn(const std::string& name, std::function<void()> body) = 0;
};

}  // namespace iopf
