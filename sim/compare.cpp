#include "sim/compare.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>
#include <vector>

#include "models/common/input_error.hpp"
#include "sim/metrics.hpp"

namespace iopf {

double parse_threshold_percent(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '%') t.pop_back();
  char* end = nullptr;
  const double v = t.empty() ? NAN : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v) || v < 0)
    throw InputError("--threshold", "", "expected a non-negative percentage such as \"5%\", found \"" + text + "\"");
  return v;
}

int compare_reports(const std::string& base_file, const std::string& new_file, double threshold, std::ostream& out) {
  const std::vector<Metric> base = report_metrics(read_report(base_file), base_file);
  const std::vector<Metric> neu = report_metrics(read_report(new_file), new_file);
  std::map<std::string, const Metric*> new_by_name;
  for (const Metric& m : neu) new_by_name[m.name] = &m;
  std::map<std::string, bool> in_base;

  struct Row {
    std::string name, unit, base, neu, change, verdict;
  };
  std::vector<Row> rows;
  size_t common = 0, regressed = 0, improved = 0;
  char buf[64];
  for (const Metric& b : base) {
    in_base[b.name] = true;
    auto it = new_by_name.find(b.name);
    if (it == new_by_name.end()) {
      rows.push_back({b.name, b.unit, b.text, "-", "", "removed"});
      continue;
    }
    ++common;
    const Metric& n = *it->second;
    if (b.value == n.value) continue;
    double change = 0;  // percent, signed
    if (b.value != 0) {
      change = (n.value - b.value) / std::fabs(b.value) * 100.0;
      std::snprintf(buf, sizeof buf, "%+.2f%%", change);
    } else {
      change = n.value > 0 ? INFINITY : -INFINITY;
      std::snprintf(buf, sizeof buf, "%s", n.value > 0 ? "+inf" : "-inf");
    }
    std::string verdict;
    const double worse = b.better == Better::kSmaller ? change : b.better == Better::kBigger ? -change : 0;
    if (b.better == Better::kNone) verdict = "";
    else if (worse > threshold) verdict = "REGRESSED", ++regressed;
    else if (-worse > threshold) verdict = "improved", ++improved;
    else verdict = "within threshold";
    rows.push_back({b.name, b.unit, b.text, n.text, buf, verdict});
  }
  for (const Metric& n : neu)
    if (!in_base.count(n.name)) rows.push_back({n.name, n.unit, "-", n.text, "", "added"});
  if (common == 0)
    throw InputError(new_file, "", "shares no metric with " + base_file + " (reports of different scenarios?)");

  size_t w = 6;
  for (const Row& r : rows) w = std::max(w, r.name.size());
  auto line = [&](const Row& r) {
    char l[64];
    out << r.name << std::string(w - r.name.size() + 2, ' ');
    std::snprintf(l, sizeof l, "%-8s %16s %16s %10s  ", r.unit.c_str(), r.base.c_str(), r.neu.c_str(), r.change.c_str());
    out << l << r.verdict << "\n";
  };
  line({"metric", "unit", "base", "new", "change", "verdict"});
  for (const Row& r : rows) line(r);
  std::snprintf(buf, sizeof buf, "%g%%", threshold);
  out << common << " metrics compared, " << rows.size() << " changed or added/removed, " << improved
      << " improved, " << regressed << " regressed past " << buf << "\n";
  return regressed > 0 ? 1 : 0;
}

}  // namespace iopf
