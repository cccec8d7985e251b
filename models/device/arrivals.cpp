#include "models/device/arrivals.hpp"

#include <cmath>
#include <stdexcept>

#include "models/analytic/ctmc.hpp"

namespace iopf {
namespace {

constexpr size_t kMaxMmppStates = 64;

uint64_t period_ps_of(double rate_per_s) {
  const auto p = static_cast<uint64_t>(std::llround(1e12 / rate_per_s));
  return p ? p : 1;
}

// Throws std::invalid_argument unless m is a usable MMPP (the reader reports the same with
// pointers before this runs).
void check_mmpp(const MmppSpec& m) {
  const size_t n = m.rate_per_s.size();
  if (n == 0 || n > kMaxMmppStates || m.generator_per_s.size() != n)
    throw std::invalid_argument("mmpp: 1 to 64 states, one generator row each");
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    if (!(m.rate_per_s[i] >= 0) || !std::isfinite(m.rate_per_s[i])) throw std::invalid_argument("mmpp: rate < 0");
    any = any || m.rate_per_s[i] > 0;
    if (m.generator_per_s[i].size() != n) throw std::invalid_argument("mmpp: generator not square");
    double sum = 0, scale = 0;
    for (size_t j = 0; j < n; ++j) {
      const double q = m.generator_per_s[i][j];
      if (i != j && !(q >= 0)) throw std::invalid_argument("mmpp: negative transition rate");
      sum += q;
      scale = std::max(scale, std::fabs(q));
    }
    if (std::fabs(sum) > 1e-9 * scale) throw std::invalid_argument("mmpp: generator row does not sum to 0");
  }
  if (!any) throw std::invalid_argument("mmpp: every rate is 0");
}

}  // namespace

std::vector<double> mmpp_stationary(const MmppSpec& m) {
  const size_t n = m.rate_per_s.size();
  Eigen::MatrixXd q(n, n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) q(i, j) = m.generator_per_s[i][j];
  const Eigen::VectorXd pi = analytic::ctmc_stationary(q);
  return std::vector<double>(pi.data(), pi.data() + n);
}

double ArrivalSpec::long_run_rate_per_s() const {
  switch (kind) {
    case ArrivalKind::kPeriodic: return 1e12 / static_cast<double>(period_ps_of(rate_per_s));
    case ArrivalKind::kPoisson: return rate_per_s;
    case ArrivalKind::kOnOff: {
      const double b = static_cast<double>(on_off.mean_burst_ns), g = static_cast<double>(on_off.mean_gap_ns);
      return on_off.rate_per_s * b / (b + g);
    }
    case ArrivalKind::kMmpp: break;
  }
  const std::vector<double> pi = mmpp_stationary(mmpp);
  double r = 0;
  for (size_t i = 0; i < pi.size(); ++i) r += pi[i] * mmpp.rate_per_s[i];
  return r;
}

Arrivals::Arrivals(const ArrivalSpec& spec, uint64_t start_ns, Rng rng) : spec_(spec), start_ns_(start_ns), rng_(rng) {
  switch (spec_.kind) {
    case ArrivalKind::kPeriodic:
    case ArrivalKind::kPoisson:
      if (!(spec_.rate_per_s > 0)) throw std::invalid_argument("arrivals: rate must be > 0");
      period_ps_ = period_ps_of(spec_.rate_per_s);
      break;
    case ArrivalKind::kOnOff:
      if (!(spec_.on_off.rate_per_s > 0) || spec_.on_off.mean_burst_ns == 0 || spec_.on_off.mean_gap_ns == 0)
        throw std::invalid_argument("arrivals: on_off needs rate, burst and gap > 0");
      period_ps_ = period_ps_of(spec_.on_off.rate_per_s);
      phase_left_ps_ = exp_ps(1e3 * static_cast<double>(spec_.on_off.mean_burst_ns));
      residual_ps_ = spec_.on_off.inside == BurstFill::kPeriodic ? 0 : inter_ps();
      break;
    case ArrivalKind::kMmpp: {
      check_mmpp(spec_.mmpp);
      const size_t n = spec_.mmpp.rate_per_s.size();
      for (size_t i = 0; i < n; ++i) exit_per_s_.push_back(-spec_.mmpp.generator_per_s[i][i]);
      const std::vector<double> pi = mmpp_stationary(spec_.mmpp);
      double u = rng_.unit(), acc = 0;
      size_t s = n - 1;
      for (size_t i = 0; i < n; ++i) {
        acc += pi[i];
        if (u < acc) { s = i; break; }
      }
      enter_mmpp_state(s);
      break;
    }
  }
}

uint64_t Arrivals::exp_ps(double mean_ps) {
  const double x = -mean_ps * std::log(1.0 - rng_.unit());
  return x >= 1e18 ? static_cast<uint64_t>(1e18) : static_cast<uint64_t>(x + 0.5);
}

uint64_t Arrivals::inter_ps() {
  if (spec_.kind == ArrivalKind::kOnOff) {
    return spec_.on_off.inside == BurstFill::kPeriodic ? period_ps_ : exp_ps(1e12 / spec_.on_off.rate_per_s);
  }
  const double r = spec_.mmpp.rate_per_s[state_];
  return r > 0 ? exp_ps(1e12 / r) : kNever;
}

void Arrivals::enter_mmpp_state(size_t s) {
  state_ = s;
  phase_left_ps_ = exit_per_s_[s] > 0 ? exp_ps(1e12 / exit_per_s_[s]) : kNever;
  residual_ps_ = inter_ps();  // memoryless: a fresh draw at the new state's rate
}

// Burst time runs only inside bursts; the residual to the next arrival carries across gaps
// (for poisson that is the memoryless property, for periodic it keeps the phase).
uint64_t Arrivals::next_on_off_ps() {
  for (;;) {
    if (on_ && residual_ps_ <= phase_left_ps_) {
      t_ps_ += residual_ps_;
      phase_left_ps_ -= residual_ps_;
      residual_ps_ = inter_ps();
      return t_ps_;
    }
    t_ps_ += phase_left_ps_;
    if (on_) residual_ps_ -= phase_left_ps_;
    on_ = !on_;
    phase_left_ps_ = exp_ps(1e3 * static_cast<double>(on_ ? spec_.on_off.mean_burst_ns : spec_.on_off.mean_gap_ns));
  }
}

uint64_t Arrivals::next_mmpp_ps() {
  for (;;) {
    if (residual_ps_ <= phase_left_ps_) {
      t_ps_ += residual_ps_;
      if (phase_left_ps_ != kNever) phase_left_ps_ -= residual_ps_;
      residual_ps_ = inter_ps();
      return t_ps_;
    }
    t_ps_ += phase_left_ps_;
    const auto& row = spec_.mmpp.generator_per_s[state_];
    const double u = rng_.unit() * exit_per_s_[state_];
    double acc = 0;
    size_t next = state_;
    for (size_t j = 0; j < row.size(); ++j) {
      if (j == state_ || row[j] <= 0) continue;
      next = j;  // the last state with a positive rate takes any rounding remainder
      acc += row[j];
      if (u < acc) break;
    }
    enter_mmpp_state(next);
  }
}

uint64_t Arrivals::next_drawn_ns() {
  switch (spec_.kind) {
    case ArrivalKind::kPeriodic: return next_ns();
    case ArrivalKind::kPoisson: t_ps_ += exp_ps(1e12 / spec_.rate_per_s); break;
    case ArrivalKind::kOnOff: next_on_off_ps(); break;
    case ArrivalKind::kMmpp: next_mmpp_ps(); break;
  }
  return start_ns_ + t_ps_ / 1000;
}

}  // namespace iopf
