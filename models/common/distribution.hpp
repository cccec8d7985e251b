// Service-time distributions for software costs (fault handling, invalidation work, ...):
// constant, exponential, lognormal and empirical, each sampled to integer nanoseconds from
// the project's own Rng so a seed gives the same samples bit for bit.
//
// Models: constant(value); exponential(mean) by the inverse CDF, -mean * ln(1 - u);
// lognormal exp(mu + sigma * z) with z standard normal by Box-Muller (one pair of uniforms per
// sample, the sine half discarded so sample_ns stays const), given either mu and sigma of
// ln(ns) or the mean and the 99th percentile (then sigma is the smaller root of
// sigma^2 / 2 - z99 * sigma + ln(p99 / mean) = 0, which exists while p99 <= e^(z99^2 / 2) =
// 14.97 x the mean, and mu = ln(mean) - sigma^2 / 2); empirical: one of the listed samples,
// each equally likely (Rng::below).
// Continuous samples are rounded to the nearest whole ns (a mean below a few ns is therefore
// biased by the rounding; software costs are far above that).
// Does not model: correlation between successive samples, truncation, mixtures.
// Platform dependency: std::log, std::sqrt, std::cos and std::exp from libm are the only
// functions outside this file whose results a sample depends on (IEEE basic operations are
// exact; these are correctly rounded on glibc for almost every argument, so samples may differ
// in the last ns between C libraries).
// Figures: z99 = 2.3263478740408408 (the standard normal's 0.99 quantile). No default figures.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/common/enum_table.hpp"
#include "models/common/rng.hpp"

namespace iopf {

enum class DistKind : uint8_t { kConstant, kExponential, kLognormal, kEmpirical };
inline constexpr EnumTable<DistKind, 4> kDistKindNames{{{DistKind::kConstant, "constant"},
                                                        {DistKind::kExponential, "exponential"},
                                                        {DistKind::kLognormal, "lognormal"},
                                                        {DistKind::kEmpirical, "empirical"}}};

class Distribution {
 public:
  static constexpr double kZ99 = 2.3263478740408408;  // standard normal 0.99 quantile

  // Constant 0 ns.
  Distribution() = default;
  // The factories throw std::invalid_argument on values the reader would reject.
  static Distribution constant(uint64_t value_ns);
  static Distribution exponential(double mean_ns);                 // mean > 0
  static Distribution lognormal_mu_sigma(double mu, double sigma);  // of ln(ns); sigma > 0
  static Distribution lognormal_mean_p99(double mean_ns, double p99_ns);  // mean < p99 <= 14.97 mean
  // samples non-empty; label (a file name) only for describe().
  static Distribution empirical(std::vector<uint64_t> samples_ns, std::string label = "");

  uint64_t sample_ns(Rng& rng) const;
  double mean_ns() const;  // of the distribution (before rounding); empirical: of the samples
  std::string describe() const;  // "exponential mean 50us", for reports and messages

  DistKind kind() const { return kind_; }
  // Lognormal only: parameters of ln(ns) and the analytic 99th percentile.
  double mu() const { return mu_; }
  double sigma() const { return sigma_; }
  double p99_ns() const;
  // Empirical only.
  const std::vector<uint64_t>& samples_ns() const;

 private:
  DistKind kind_ = DistKind::kConstant;
  uint64_t value_ns_ = 0;  // constant
  double a_ = 0;      // constant: value; exponential: mean; empirical: mean of samples
  double mu_ = 0;
  double sigma_ = 0;
  std::shared_ptr<const std::vector<uint64_t>> samples_;  // shared: copies stay cheap
  std::string label_;
};

// A distribution as the scenario writes it, at JSON pointer `pointer` of scenario `file`:
//   "50us" or 50000 (integer ns)                       constant
//   {"dist": "constant", "value": "50us"}
//   {"dist": "exponential", "mean": "50us"}
//   {"dist": "lognormal", "mean": "9us", "p99": "40us"}
//   {"dist": "lognormal", "mu": 9.0, "sigma": 0.5}     (of ln(ns))
//   {"dist": "empirical", "file": "samples.csv"}       path relative to the scenario file's
//                                                      directory; integer ns, one per line,
//                                                      an optional non-numeric header line
// Throws InputError(file, pointer of the offending key, "expected ...") on anything else.
Distribution read_distribution(const nlohmann::json& value, const std::string& pointer, const std::string& file);

// The CSV reader alone (path as given); errors name `file` and `pointer` (the "file" key).
std::vector<uint64_t> read_samples_csv(const std::string& path, const std::string& file, const std::string& pointer);

}  // namespace iopf
