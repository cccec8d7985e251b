// Dashboard formats, all from the one metric list of sim/metrics.hpp:
//
// - github-smaller: github-action-benchmark's "customSmallerIsBetter" array of
//   {name, unit, value, extra}: every metric in ns (latency statistics and times).
// - github-bigger: "customBiggerIsBetter": every throughput (ops/s, bytes/s).
// - bencher: Bencher Metric Format {benchmark: {measure: {value[, lower_value, upper_value]}}}.
//   The benchmark is the metric's object ("scenario/device/path"), the measure its key
//   ("dma.latency_ns.p99"), one measure per metric with its value. Each histogram also gets one
//   measure under its own key ("dma.latency_ns") with value = p50, lower_value = min,
//   upper_value = max: the median with the whole observed range, so lower <= value <= upper.
// - gbench: Google Benchmark JSON, {context, benchmarks[]}, one iteration entry per metric
//   (name = metric name). Metrics in ns carry real_time = cpu_time = value, time_unit "ns";
//   others carry real_time = cpu_time = 0 and the value as a counter: bytes_per_second,
//   items_per_second (ops/s) or value (counts, bytes). label = the unit.
// - csv: name,unit,value, every metric.
//
// The output depends on the report only (no date, no host), so exporting twice gives the
// same bytes.
#include "sim/export.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

#include "models/common/input_error.hpp"
#include "sim/metrics.hpp"

namespace iopf {
using nlohmann::json;
using ordered_json = nlohmann::ordered_json;

namespace {

json number(const Metric& m) { return json::parse(m.text); }

std::string extra_of(const json& report) {
  std::string extra = "seed " + report["seed"].dump();
  if (report["scenario"].contains("file") && report["scenario"]["file"].is_string())
    extra += "; scenario " + report["scenario"]["file"].get<std::string>();
  return extra;
}

std::string github(const json& report, const std::vector<Metric>& ms, bool smaller) {
  ordered_json out = ordered_json::array();
  const std::string extra = extra_of(report);
  for (const Metric& m : ms) {
    const bool take = smaller ? m.better == Better::kSmaller : m.better == Better::kBigger;
    if (!take) continue;
    out.push_back({{"name", m.name}, {"unit", m.unit}, {"value", number(m)}, {"extra", extra}});
  }
  return out.dump(2) + "\n";
}

std::string bencher(const std::vector<Metric>& ms) {
  ordered_json out = ordered_json::object();
  // Histogram ranges first gathered per (entity, hist).
  std::map<std::pair<std::string, std::string>, std::map<std::string, const Metric*>> hists;
  for (const Metric& m : ms)
    if (!m.hist.empty()) hists[{m.entity, m.hist}][m.stat] = &m;
  for (const Metric& m : ms) {
    ordered_json& bench = out[m.entity];
    if (!m.hist.empty() && m.stat == "count") {  // the histogram's own measure, once, before its stats
      const auto& h = hists[{m.entity, m.hist}];
      if (h.count("p50") && h.count("min") && h.count("max"))
        bench[m.hist] = {{"value", number(*h.at("p50"))},
                         {"lower_value", number(*h.at("min"))},
                         {"upper_value", number(*h.at("max"))}};
    }
    bench[m.key] = {{"value", number(m)}};
  }
  return out.dump(2) + "\n";
}

std::string gbench(const json& report, const std::vector<Metric>& ms) {
  ordered_json ctx;
  ctx["executable"] = "iopfsim export";
  ctx["num_cpus"] = 1;
  ctx["mhz_per_cpu"] = 0;
  ctx["cpu_scaling_enabled"] = false;
  ctx["caches"] = ordered_json::array();
  ctx["library_build_type"] = "release";
  ctx["iopfsim_scenario"] = report["scenario"]["name"];
  ctx["iopfsim_seed"] = report["seed"];
  ordered_json benches = ordered_json::array();
  int64_t index = 0;
  for (const Metric& m : ms) {
    ordered_json b;
    b["name"] = m.name;
    b["family_index"] = index++;
    b["per_family_instance_index"] = 0;
    b["run_name"] = m.name;
    b["run_type"] = "iteration";
    b["repetitions"] = 1;
    b["repetition_index"] = 0;
    b["threads"] = 1;
    b["iterations"] = 1;
    const bool time = m.unit == "ns";
    b["real_time"] = time ? m.value : 0.0;
    b["cpu_time"] = time ? m.value : 0.0;
    b["time_unit"] = "ns";
    if (!time) {
      const char* counter = m.unit == "bytes/s" ? "bytes_per_second" : m.unit == "ops/s" ? "items_per_second" : "value";
      b[counter] = number(m);
    }
    b["label"] = m.unit;
    benches.push_back(std::move(b));
  }
  ordered_json out;
  out["context"] = ctx;
  out["benchmarks"] = benches;
  return out.dump(2) + "\n";
}

std::string csv(const std::vector<Metric>& ms) {
  std::ostringstream os;
  os << "name,unit,value\n";
  for (const Metric& m : ms) os << csv_field(m.name) << "," << m.unit << "," << m.text << "\n";
  return os.str();
}

}  // namespace

const std::vector<std::string>& export_formats() {
  static const std::vector<std::string> f{"github-smaller", "github-bigger", "bencher", "gbench", "csv"};
  return f;
}

std::string export_report(const json& report, const std::string& file, const std::string& format) {
  const std::vector<Metric> ms = report_metrics(report, file);
  if (format == "github-smaller") return github(report, ms, true);
  if (format == "github-bigger") return github(report, ms, false);
  if (format == "bencher") return bencher(ms);
  if (format == "gbench") return gbench(report, ms);
  if (format == "csv") return csv(ms);
  std::string all;
  for (const std::string& f : export_formats()) all += (all.empty() ? "" : ", ") + f;
  throw InputError(file, "", "unknown export format \"" + format + "\"; expected one of: " + all);
}

}  // namespace iopf
