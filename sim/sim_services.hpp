// The SimGrid side of the models' HostServices, and what every SimGrid-facing part shares:
// the clock in integer ns, the count of engine events the model started, and the guard that
// turns an exception inside an actor into a failed run (SimGrid aborts on one).
#pragma once
#include <simgrid/forward.h>

#include <cstdint>
#include <functional>
#include <string>

#include "models/host/services.hpp"
#include "sim/cpu_cores.hpp"

namespace iopf {

class SimServices final : public HostServices {
 public:
  SimServices(simgrid::s4u::Host* cpu, simgrid::s4u::Disk* swap) : cpu_(cpu), swap_(swap), cores_(cpu) {}

  static uint64_t clock_ns();
  uint64_t now_ns() const override { return clock_ns(); }
  void sleep_until(uint64_t t_ns) override;
  void cpu_work(uint64_t ns) override;
  void swap_read(uint64_t bytes) override;
  void swap_write(uint64_t bytes) override;
  std::unique_ptr<Wakeup> make_wakeup(const std::string& name) override;
  std::unique_ptr<Condition> make_condition() override;
  void spawn_daemon(const std::string& name, std::function<void()> body) override;
  void spawn(const std::string& name, std::function<void()> body) override;

  // An actor on `host` whose body runs guarded; a daemon does not keep the run going.
  void start_actor(const std::string& name, simgrid::s4u::Host* host, std::function<void()> body, bool daemon);

  CpuCores& cores() { return cores_; }  // the host's cores (cpu_work's)
  // SimGrid activities the model started (sleeps, waits, messages, executions, I/O).
  void count_event() { ++events_; }
  uint64_t events() const { return events_; }
  // The first exception thrown inside an actor or engine callback ("who: what"), or empty.
  const std::string& failure() const { return failure_; }
  // Runs body; an exception ends the run as a failure of `who` (SimGrid aborts on one). For
  // actors' bodies and for work the engine runs itself (sim/alarm.hpp's EngineTimer).
  void guarded(const std::string& who, const std::function<void()>& body);

 private:
  simgrid::s4u::Host* cpu_;
  simgrid::s4u::Disk* swap_;
  CpuCores cores_;  // the host's cores, for cpu_work
  uint64_t events_ = 0;
  std::string failure_;
};

}  // namespace iopf
