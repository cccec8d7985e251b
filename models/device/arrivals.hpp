// Arrival processes of an open-loop DMA path (or of any request source): when the next
// request is due, deterministic for a seed.
//
// Models:
//   periodic  every 1/rate, the first at the start time; the period is kept in integer
//             picoseconds and accumulated, arrival k at start + floor(k * period_ps / 1000)
//             ns, so a long run does not drift (the rate is exact to 0.5 ps per period).
//   poisson   exponential gaps of mean 1/rate (inverse CDF on Rng::unit), the first one gap
//             after the start time.
//   on_off    alternating bursts and gaps with exponential durations (means `burst`, `gap`),
//             starting with a burst at the start time; inside bursts the arrivals are
//             `inside` = "poisson" (default) or "periodic" at `rate`, counted in burst time
//             only: a periodic train carries its phase across gaps, so the long-run rate is
//             exactly rate * burst / (burst + gap) with no per-burst rounding.
//   mmpp      a Markov-modulated Poisson process: states i with Poisson rates rate_i, the
//             state moving as a continuous-time Markov chain (a generator matrix in 1/s, or
//             mean sojourn times and next-state probabilities); the first state is drawn from
//             the chain's stationary distribution pi, so the process is stationary from the
//             start and its long-run rate is sum_i pi_i * rate_i.
// Time runs in integer picoseconds from the start time (exponential draws are rounded to the
// nearest ps); next_ns() returns start + floor(t_ps / 1000): non-decreasing, and two arrivals
// may share a nanosecond at rates near 1/ns.
// Does not model: correlation with the path's own completions (closed loop is the device's
// `outstanding`), heavy-tailed (Pareto) on/off periods, diurnal variation.
// Platform dependency: std::log (exponential draws) from libm; see distribution.hpp.
// Figures: none by default; the scenario gives every rate and duration.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/enum_table.hpp"
#include "models/common/rng.hpp"

namespace iopf {

enum class ArrivalKind : uint8_t { kPeriodic, kPoisson, kOnOff, kMmpp };
inline constexpr EnumTable<ArrivalKind, 4> kArrivalKindNames{{{ArrivalKind::kPeriodic, "periodic"},
                                                              {ArrivalKind::kPoisson, "poisson"},
                                                              {ArrivalKind::kOnOff, "on_off"},
                                                              {ArrivalKind::kMmpp, "mmpp"}}};

enum class BurstFill : uint8_t { kPoisson, kPeriodic };
inline constexpr EnumTable<BurstFill, 2> kBurstFillNames{
    {{BurstFill::kPoisson, "poisson"}, {BurstFill::kPeriodic, "periodic"}}};

struct OnOffSpec {
  double rate_per_s = 0;  // inside a burst
  uint64_t mean_burst_ns = 0;
  uint64_t mean_gap_ns = 0;
  BurstFill inside = BurstFill::kPoisson;
};

struct MmppSpec {
  std::vector<double> rate_per_s;                    // per state, >= 0, at least one > 0
  std::vector<std::vector<double>> generator_per_s;  // Q: off-diagonal >= 0, rows sum to 0, irreducible
};

struct ArrivalSpec {
  ArrivalKind kind = ArrivalKind::kPeriodic;
  double rate_per_s = 0;  // periodic and poisson
  OnOffSpec on_off;
  MmppSpec mmpp;

  // Arrivals per second over a long run (periodic: of the rounded period).
  double long_run_rate_per_s() const;
};

// The MMPP's stationary state distribution pi (Eigen; throws std::runtime_error when the
// chain is reducible).
std::vector<double> mmpp_stationary(const MmppSpec& m);

class Arrivals {
 public:
  // Throws std::invalid_argument on a spec the reader would reject.
  Arrivals(const ArrivalSpec& spec, uint64_t start_ns, Rng rng);

  // The next arrival time (periodic inline: a path asks once per DMA).
  uint64_t next_ns() {
    if (spec_.kind != ArrivalKind::kPeriodic) return next_drawn_ns();
    const uint64_t due = start_ns_ + t_ps_ / 1000;
    t_ps_ += period_ps_;
    return due;
  }

 private:
  uint64_t next_drawn_ns();         // next_ns of the kinds that draw their gaps
  uint64_t exp_ps(double mean_ps);  // exponential draw, rounded to the nearest ps
  uint64_t inter_ps();              // a gap of the current within-burst / per-state process
  uint64_t next_on_off_ps();
  uint64_t next_mmpp_ps();
  void enter_mmpp_state(size_t s);

  static constexpr uint64_t kNever = ~0ULL;

  ArrivalSpec spec_;
  uint64_t start_ns_;
  Rng rng_;
  uint64_t t_ps_ = 0;       // from the start: the last arrival (periodic: the next one)
  uint64_t period_ps_ = 0;  // periodic, and periodic inside bursts
  bool on_ = true;          // on_off: in a burst
  uint64_t phase_left_ps_ = 0;  // on_off: of this burst or gap; mmpp: of this state's sojourn
  uint64_t residual_ps_ = 0;    // burst / state time until the next arrival
  size_t state_ = 0;            // mmpp
  std::vector<double> exit_per_s_;  // mmpp: -Q_ii
};

// An arrival process as the scenario writes it at JSON pointer `pointer` of `file`:
//   "periodic" | "poisson"                        at the path's rate (path_rate_per_s > 0)
//   {"on_off": {"rate": "10Mpps", "burst": "10us", "gap": "90us", "inside": "poisson"}}
//                                                 rate defaults to the path's rate
//   {"mmpp": {"rates": ["1Mpps", "20Mpps"], "generator": [[-1e4, 1e4], [1e5, -1e5]]}}
//   {"mmpp": {"rates": [...], "sojourn": ["100us", "10us"], "next": [[0, 1], [1, 0]]}}
// (generator entries in 1/s; rates as rate strings or numbers per second, 0 allowed as a
// number). Throws InputError(file, pointer of the offending key, "expected ...").
ArrivalSpec read_arrival(const nlohmann::json& value, const std::string& pointer, const std::string& file,
                         double path_rate_per_s);

}  // namespace iopf
