// The scenario side of arrivals.hpp: reads and validates an arrival process (see
// read_arrival there for the accepted forms).
#include <nlohmann/json.hpp>

#include <cmath>

#include "models/common/input_error.hpp"
#include "models/common/params.hpp"
#include "models/common/units.hpp"
#include "models/device/arrivals.hpp"

namespace iopf {
using nlohmann::json;

namespace {

constexpr size_t kMaxStates = 64;

const ParamTable& on_off_table() {
  static const ParamTable t{
      "arrival.on_off",
      {{"rate", ParamType::Rate, nullptr, "arrival rate inside a burst (default: the path's rate)", "", "", 1e-9, 1e15},
       {"burst", ParamType::Ns, nullptr, "mean burst length (exponential)", "", "", 1, 1.8e19},
       {"gap", ParamType::Ns, nullptr, "mean gap length (exponential)", "", "", 1, 1.8e19},
       {"inside", ParamType::Enum, "\"poisson\"", "arrivals inside a burst", "", enum_choices(kBurstFillNames)}}};
  return t;
}
const ParamTable kMmppTable{"arrival.mmpp", {}};  // every key is an array, read below

OnOffSpec read_on_off(const json& v, const std::string& ptr, const std::string& file, double path_rate_per_s) {
  const ObjReader r(v, ptr, file, on_off_table());
  OnOffSpec s;
  if (r.has("rate")) s.rate_per_s = r.rate_per_s("rate");
  else if (path_rate_per_s > 0) s.rate_per_s = path_rate_per_s;
  else throw InputError(file, ptr, "missing key \"rate\": expected the rate inside a burst (the path has none)");
  s.mean_burst_ns = r.ns("burst");
  s.mean_gap_ns = r.ns("gap");
  s.inside = r.choice("inside", kBurstFillNames);
  return s;
}

const json& array_at(const json& v, const std::string& ptr, const std::string& file, size_t n, const char* what) {
  if (!v.is_array() || v.empty() || v.size() > kMaxStates || (n && v.size() != n))
    throw InputError(file, ptr, std::string("expected an array of ") +
                                    (n ? std::to_string(n) : std::string("1 to 64")) + " " + what + ", found " +
                                    (v.is_array() ? std::to_string(v.size()) + " elements" : describe_json(v)));
  return v;
}

double number_at(const json& v, const std::string& ptr, const std::string& file, bool nonneg, const char* what) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || (nonneg && v.get<double>() < 0))
    throw InputError(file, ptr, std::string("expected ") + what + ", found " + describe_json(v));
  return v.get<double>();
}

std::vector<double> read_rates(const json& v, const std::string& ptr, const std::string& file) {
  std::vector<double> out;
  bool any = false;
  for (size_t i = 0; i < array_at(v, ptr, file, 0, "rates").size(); ++i) {
    const json& e = v[i];
    const std::string p = ptr + "/" + std::to_string(i);
    std::optional<double> r;
    if (e.is_string()) r = units::parse_rate_per_s(e.get<std::string>());
    else if (e.is_number() && e.get<double>() >= 0 && std::isfinite(e.get<double>())) r = e.get<double>();
    if (!r) throw InputError(file, p, "expected a rate (\"2Mpps\" or a number per second >= 0), found " + describe_json(e));
    out.push_back(*r);
    any = any || *r > 0;
  }
  if (!any) throw InputError(file, ptr, "expected at least one state with a rate above 0");
  return out;
}

// An n x n matrix: a generator (off-diagonal rates >= 0, diagonal = -their sum) or next-state
// probabilities (diagonal 0, rows summing to 1); sums within 1e-9.
std::vector<std::vector<double>> read_matrix(const json& v, const std::string& ptr, const std::string& file, size_t n,
                                             bool generator) {
  std::vector<std::vector<double>> m;
  array_at(v, ptr, file, n, "rows");
  for (size_t i = 0; i < n; ++i) {
    const std::string rp = ptr + "/" + std::to_string(i);
    array_at(v[i], rp, file, n, "numbers");
    std::vector<double> row;
    double off = 0;
    for (size_t j = 0; j < n; ++j) {
      const std::string p = rp + "/" + std::to_string(j);
      const bool diag = i == j;
      const double x = number_at(v[i][j], p, file, !(generator && diag),
                                 generator ? (diag ? "a number (minus the row's other rates)" : "a rate >= 0 (1/s)")
                                           : "a probability in [0, 1]");
      if (!generator && (x > 1 || (diag && x != 0)))
        throw InputError(file, p, diag ? "expected 0 (a sojourn ends by leaving the state)" : "expected a probability in [0, 1]");
      if (!diag) off += x;
      row.push_back(x);
    }
    const double want = generator ? -row[i] : 1.0;
    if (std::fabs(off - want) > 1e-9 * std::max(1.0, std::fabs(want)))
      throw InputError(file, rp, generator ? "expected a generator row summing to 0 (diagonal = -sum of the others)"
                                           : "expected next-state probabilities summing to 1");
    m.push_back(std::move(row));
  }
  return m;
}

bool irreducible(const std::vector<std::vector<double>>& q) {
  const size_t n = q.size();
  for (int dir = 0; dir < 2; ++dir) {  // every state reachable from 0, and 0 from every state
    std::vector<bool> seen(n, false);
    std::vector<size_t> stack{0};
    seen[0] = true;
    while (!stack.empty()) {
      const size_t i = stack.back();
      stack.pop_back();
      for (size_t j = 0; j < n; ++j)
        if (!seen[j] && (dir ? q[j][i] : q[i][j]) > 0) { seen[j] = true; stack.push_back(j); }
    }
    for (bool s : seen)
      if (!s) return false;
  }
  return true;
}

MmppSpec read_mmpp(const json& v, const std::string& ptr, const std::string& file) {
  const ObjReader r(v, ptr, file, kMmppTable, {"rates", "generator", "sojourn", "next"});
  if (!v.contains("rates")) throw InputError(file, ptr, "missing key \"rates\": expected one rate per state");
  MmppSpec m;
  m.rate_per_s = read_rates(v["rates"], ptr + "/rates", file);
  const size_t n = m.rate_per_s.size();
  const bool by_q = v.contains("generator"), by_sojourn = v.contains("sojourn") || v.contains("next");
  if (by_q && by_sojourn)
    throw InputError(file, ptr + "/generator", "expected either generator, or sojourn and next, not both");
  std::string chain_ptr = ptr + "/generator";
  if (by_q) {
    m.generator_per_s = read_matrix(v["generator"], chain_ptr, file, n, true);
  } else if (n == 1 && !by_sojourn) {
    m.generator_per_s = {{0.0}};
  } else {
    if (!v.contains("sojourn") || !v.contains("next"))
      throw InputError(file, ptr, "missing key \"" + std::string(v.contains("next") ? "sojourn" : "next") +
                                      "\": expected a generator, or mean sojourn times with next-state probabilities");
    array_at(v["sojourn"], ptr + "/sojourn", file, n, "mean sojourn times");
    chain_ptr = ptr + "/next";
    m.generator_per_s = read_matrix(v["next"], chain_ptr, file, n, false);
    for (size_t i = 0; i < n; ++i) {
      const json& s = v["sojourn"][i];
      std::optional<uint64_t> ns = s.is_string() ? units::parse_ns(s.get<std::string>())
                                   : s.is_number_integer() && s.get<int64_t>() > 0 ? std::optional<uint64_t>(s.get<uint64_t>())
                                                                                    : std::nullopt;
      if (!ns || *ns == 0)
        throw InputError(file, ptr + "/sojourn/" + std::to_string(i), "expected a time above 0, found " + describe_json(s));
      const double exit_per_s = 1e9 / static_cast<double>(*ns);
      for (size_t j = 0; j < n; ++j) m.generator_per_s[i][j] = i == j ? -exit_per_s : m.generator_per_s[i][j] * exit_per_s;
    }
  }
  if (!irreducible(m.generator_per_s))
    throw InputError(file, chain_ptr, "expected an irreducible chain (every state reachable from every other)");
  return m;
}

}  // namespace

ArrivalSpec read_arrival(const json& value, const std::string& pointer, const std::string& file,
                         double path_rate_per_s) {
  ArrivalSpec s;
  const std::string forms = "\"periodic\", \"poisson\", {\"on_off\": {...}} or {\"mmpp\": {...}}";
  if (value.is_string()) {
    const auto k = enum_parse(kArrivalKindNames, value.get<std::string>());
    if (!k || *k == ArrivalKind::kOnOff || *k == ArrivalKind::kMmpp)
      throw InputError(file, pointer, "expected " + forms + ", found " + describe_json(value));
    if (!(path_rate_per_s > 0))
      throw InputError(file, pointer, "expected a path with a rate for " + value.get<std::string>() + " arrivals");
    s.kind = *k;
    s.rate_per_s = path_rate_per_s;
    return s;
  }
  if (!value.is_object() || value.size() != 1)
    throw InputError(file, pointer, "expected " + forms + " (an object with one key), found " + describe_json(value));
  const std::string key = value.begin().key();
  std::string token;  // RFC 6901 escaping of the key
  for (char c : key) token += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  const std::string p = pointer + "/" + token;
  if (key == "on_off") {
    s.kind = ArrivalKind::kOnOff;
    s.on_off = read_on_off(value.begin().value(), p, file, path_rate_per_s);
  } else if (key == "mmpp") {
    s.kind = ArrivalKind::kMmpp;
    s.mmpp = read_mmpp(value.begin().value(), p, file);
  } else {
    throw InputError(file, p, "unknown key \"" + key + "\"; expected on_off or mmpp");
  }
  return s;
}

}  // namespace iopf
