#include "models/common/distribution.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "models/common/input_error.hpp"
#include "models/common/params.hpp"
#include "models/common/units.hpp"

namespace iopf {
using nlohmann::json;

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

uint64_t round_ns(double x) {
  if (!(x > 0)) return 0;
  if (x >= 1.8e19) return ~0ULL;
  return static_cast<uint64_t>(x + 0.5);
}

// Standard normal by Box-Muller: 1 - unit() is in (0, 1], so the log is finite.
double std_normal(Rng& rng) {
  const double u1 = 1.0 - rng.unit();
  const double u2 = rng.unit();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

std::string fmt_ns(double ns) { return units::format_ns(round_ns(ns)); }

}  // namespace

Distribution Distribution::constant(uint64_t value_ns) {
  Distribution d;
  d.kind_ = DistKind::kConstant;
  d.value_ns_ = value_ns;
  d.a_ = static_cast<double>(value_ns);
  return d;
}

Distribution Distribution::exponential(double mean_ns) {
  if (!(mean_ns > 0) || !std::isfinite(mean_ns)) throw std::invalid_argument("exponential mean must be > 0");
  Distribution d;
  d.kind_ = DistKind::kExponential;
  d.a_ = mean_ns;
  return d;
}

Distribution Distribution::lognormal_mu_sigma(double mu, double sigma) {
  if (!std::isfinite(mu) || !(sigma > 0) || !std::isfinite(sigma))
    throw std::invalid_argument("lognormal needs a finite mu and sigma > 0");
  Distribution d;
  d.kind_ = DistKind::kLognormal;
  d.mu_ = mu;
  d.sigma_ = sigma;
  d.a_ = std::exp(mu + sigma * sigma / 2);
  return d;
}

Distribution Distribution::lognormal_mean_p99(double mean_ns, double p99_ns) {
  if (!(mean_ns > 0) || !(p99_ns > mean_ns)) throw std::invalid_argument("lognormal needs 0 < mean < p99");
  const double d = std::log(p99_ns / mean_ns);
  const double disc = kZ99 * kZ99 - 2 * d;
  if (disc < 0) throw std::invalid_argument("lognormal p99 above 14.97 x the mean");
  const double sigma = kZ99 - std::sqrt(disc);
  return lognormal_mu_sigma(std::log(mean_ns) - sigma * sigma / 2, sigma);
}

Distribution Distribution::empirical(std::vector<uint64_t> samples_ns, std::string label) {
  if (samples_ns.empty()) throw std::invalid_argument("empirical distribution needs samples");
  Distribution d;
  d.kind_ = DistKind::kEmpirical;
  long double sum = 0;
  for (uint64_t s : samples_ns) sum += s;
  d.a_ = static_cast<double>(sum / samples_ns.size());
  d.samples_ = std::make_shared<const std::vector<uint64_t>>(std::move(samples_ns));
  d.label_ = std::move(label);
  return d;
}

uint64_t Distribution::sample_ns(Rng& rng) const {
  switch (kind_) {
    case DistKind::kConstant: return value_ns_;
    case DistKind::kExponential: return round_ns(-a_ * std::log(1.0 - rng.unit()));
    case DistKind::kLognormal: return round_ns(std::exp(mu_ + sigma_ * std_normal(rng)));
    case DistKind::kEmpirical: return (*samples_)[rng.below(samples_->size())];
  }
  return 0;
}

double Distribution::mean_ns() const { return a_; }

double Distribution::p99_ns() const {
  if (kind_ != DistKind::kLognormal) throw std::logic_error("p99_ns: not a lognormal");
  return std::exp(mu_ + kZ99 * sigma_);
}

const std::vector<uint64_t>& Distribution::samples_ns() const {
  if (kind_ != DistKind::kEmpirical) throw std::logic_error("samples_ns: not an empirical distribution");
  return *samples_;
}

std::string Distribution::describe() const {
  std::ostringstream os;
  os.precision(6);
  switch (kind_) {
    case DistKind::kConstant: os << "constant " << units::format_ns(value_ns_); break;
    case DistKind::kExponential: os << "exponential mean " << fmt_ns(a_); break;
    case DistKind::kLognormal:
      os << "lognormal mu " << mu_ << " sigma " << sigma_ << " (mean " << fmt_ns(a_) << ", p99 " << fmt_ns(p99_ns())
         << ")";
      break;
    case DistKind::kEmpirical:
      os << "empirical " << samples_->size() << " samples" << (label_.empty() ? "" : " from " + label_) << " (mean "
         << fmt_ns(a_) << ")";
      break;
  }
  return os.str();
}

// ---- reading --------------------------------------------------------------------------

namespace {

const std::string& dist_choices() {
  static const std::string s = enum_choices(kDistKindNames);
  return s;
}

ParamSpec dist_key() { return {"dist", ParamType::Enum, nullptr, "distribution kind", "", dist_choices()}; }

// Optional keys are declared without a default and read only when present.
const ParamTable& table_for(DistKind k) {
  static const ParamTable constant{"distribution (constant)",
                                   {dist_key(), {"value", ParamType::Ns, nullptr, "the value", "", "", 0, 1.8e19}}};
  static const ParamTable exponential{"distribution (exponential)",
                                      {dist_key(), {"mean", ParamType::Ns, nullptr, "mean", "", "", 1, 1.8e19}}};
  static const ParamTable lognormal{"distribution (lognormal)",
                                    {dist_key(),
                                     {"mean", ParamType::Ns, nullptr, "mean, with p99", "", "", 1, 1.8e19},
                                     {"p99", ParamType::Ns, nullptr, "99th percentile, with mean", "", "", 1, 1.8e19},
                                     {"mu", ParamType::Double, nullptr, "mean of ln(ns), with sigma", ""},
                                     {"sigma", ParamType::Double, nullptr, "std deviation of ln(ns), with mu", ""}}};
  static const ParamTable empirical{
      "distribution (empirical)",
      {dist_key(), {"file", ParamType::String, nullptr, "CSV of samples in ns, relative to the scenario", ""}}};
  switch (k) {
    case DistKind::kConstant: return constant;
    case DistKind::kExponential: return exponential;
    case DistKind::kLognormal: return lognormal;
    case DistKind::kEmpirical: break;
  }
  return empirical;
}

Distribution read_lognormal(const ObjReader& r) {
  const bool by_moments = r.has("mean") || r.has("p99");
  const bool by_params = r.has("mu") || r.has("sigma");
  if (by_moments && by_params)
    r.fail(r.has("mu") ? "mu" : "sigma", "expected either mean and p99, or mu and sigma, not both");
  if (by_params) {
    if (!r.has("mu") || !r.has("sigma"))
      throw InputError(r.file(), r.base_pointer(), std::string("missing key \"") + (r.has("mu") ? "sigma" : "mu") +
                                                       "\": expected mu and sigma together");
    const double mu = r.real("mu");
    const double sigma = r.real("sigma");
    if (!std::isfinite(mu) || std::fabs(mu) > 60) r.fail("mu", "expected mu (of ln(ns)) in [-60, 60]");
    if (!(sigma > 0) || sigma > 10) r.fail("sigma", "expected sigma (of ln(ns)) in (0, 10]");
    return Distribution::lognormal_mu_sigma(mu, sigma);
  }
  if (!r.has("mean") || !r.has("p99"))
    throw InputError(r.file(), r.base_pointer(),
                     std::string("missing key \"") + (r.has("mean") ? "p99" : "mean") +
                         "\": a lognormal needs mean and p99, or mu and sigma");
  const double mean = static_cast<double>(r.ns("mean"));
  const double p99 = static_cast<double>(r.ns("p99"));
  if (!(p99 > mean)) r.fail("p99", "expected p99 above the mean");
  if (std::log(p99 / mean) > Distribution::kZ99 * Distribution::kZ99 / 2)
    r.fail("p99", "expected p99 at most 14.97 x the mean (no lognormal has a larger p99 / mean with sigma <= z99)");
  return Distribution::lognormal_mean_p99(mean, p99);
}

std::string resolve_beside(const std::string& scenario_file, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(scenario_file).parent_path() / p).string();
}

}  // namespace

std::vector<uint64_t> read_samples_csv(const std::string& path, const std::string& file, const std::string& pointer) {
  std::ifstream in(path);
  if (!in) throw InputError(file, pointer, "expected a readable CSV file of samples in ns, cannot open " + path);
  std::vector<uint64_t> out;
  std::string line;
  for (size_t no = 1; std::getline(in, line); ++no) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;  // blank line
    line = line.substr(b);
    const bool digits = line.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) {
      if (no == 1 && !std::isdigit(static_cast<unsigned char>(line[0]))) continue;  // header
      throw InputError(file, pointer, path + " line " + std::to_string(no) +
                                          ": expected a whole number of ns, found \"" + line.substr(0, 40) + "\"");
    }
    if (line.size() > 19) throw InputError(file, pointer, path + " line " + std::to_string(no) + ": value too large");
    out.push_back(std::stoull(line));
  }
  if (out.empty()) throw InputError(file, pointer, "expected at least one sample in " + path + ", found none");
  return out;
}

Distribution read_distribution(const json& value, const std::string& pointer, const std::string& file) {
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return Distribution::constant(value.get<uint64_t>());
  if (value.is_string()) {
    if (auto ns = units::parse_ns(value.get<std::string>())) return Distribution::constant(*ns);
  }
  if (!value.is_object())
    throw InputError(file, pointer, "expected a time (\"50us\" or integer ns) or a distribution object {\"dist\": " +
                                        dist_choices() + ", ...}, found " + describe_json(value));
  auto it = value.find("dist");
  if (it == value.end()) throw InputError(file, pointer, "missing key \"dist\": expected one of " + dist_choices());
  const auto kind = it->is_string() ? enum_parse(kDistKindNames, it->get<std::string>()) : std::nullopt;
  if (!kind)
    throw InputError(file, pointer + "/dist", "expected one of " + dist_choices() + ", found " + describe_json(*it));
  const ObjReader r(value, pointer, file, table_for(*kind));
  switch (*kind) {
    case DistKind::kConstant: return Distribution::constant(r.ns("value"));
    case DistKind::kExponential: return Distribution::exponential(static_cast<double>(r.ns("mean")));
    case DistKind::kLognormal: return read_lognormal(r);
    case DistKind::kEmpirical: break;
  }
  const std::string rel = r.str("file");
  if (rel.empty()) r.fail("file", "expected a file name, found an empty string");
  return Distribution::empirical(read_samples_csv(resolve_beside(file, rel), file, r.pointer("file")), rel);
}

}  // namespace iopf
