// `iopfsim run` progress on a terminal: one line on stderr, rewritten in place, with the
// simulated time against the expected end, the wall time, an ETA and DMAs per wall-second.
//
// Does: an observer (sim/observer.hpp) waking every interval_ns of simulated time that reads
// the wall clock and prints at the first sample, then at most once per print_every_s of wall
// time. The expected end is
// the latest domain's ready time (0 until it is known) + warmup + duration; the ETA assumes
// the simulated time keeps advancing at the rate it has so far. The caller starts it only
// when stderr is a terminal and --quiet is not given.
// Does not: change the run (no event the models see; the report is the same).
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "sim/observer.hpp"

namespace iopf {

class Progress final : public Observer {
 public:
  explicit Progress(std::FILE* out, uint64_t interval_ns = 100'000, double print_every_s = 0.25)
      : out_(out), interval_ns_(interval_ns), print_every_s_(print_every_s) {}
  uint64_t interval_ns() const override { return interval_ns_; }
  void begin(RunView& view) override;
  void sample(RunView& view, uint64_t now_ns) override;
  void end(RunView& view, uint64_t end_ns) override;

 private:
  void print(RunView& view, uint64_t now_ns, double wall_s);

  std::FILE* out_;
  uint64_t interval_ns_;
  double print_every_s_;
  std::chrono::steady_clock::time_point start_;
  double last_print_s_ = -1e9;  // the first sample prints
  bool printed_ = false;
};

}  // namespace iopf
