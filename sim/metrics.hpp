// The flat metric list of a report, built once from the report JSON and shared by
// `iopfsim export`, `iopfsim compare` and the sweep's CSV files.
//
// Names: "scenario/device/path/metric", "scenario/device/metric", "scenario/domain/<name>/metric",
// "scenario/iommu/metric" and "scenario/host/metric", where metric joins the report keys below
// that object with dots ("dma.latency_ns.p99", "dma.throughput.ops_per_s", "resident_bytes").
// The list is walked generically (every numeric leaf of devices[], devices[].paths[], domains[],
// iommu and host), so new report keys become metrics without a change here. A histogram (an
// object with count, p50 and p99) gives count, min, mean, p50, p90, p99, p999 and max; an empty
// one (count 0) only its count, since zeros there are not measurements. `sim` (wall-clock
// fields) and `checks` are not metrics.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace iopf {

// Whether a change up or down is a regression: latency and time smaller, throughput bigger;
// counts and sizes are informational.
enum class Better { kSmaller, kBigger, kNone };

struct Metric {
  std::string name;    // full stable name, see above
  std::string entity;  // the name without its last segment: "scenario/device/path"
  std::string key;     // the last segment: "dma.latency_ns.p99"
  std::string unit;    // "ns", "bytes", "bytes/s", "ops/s", "count"
  double value = 0;
  std::string text;      // the value as the report wrote it (integers stay exact)
  Better better = Better::kNone;
  std::string hist;    // for a histogram statistic, the histogram's key ("dma.latency_ns"); else ""
  std::string stat;    // and the statistic ("p99"); else ""
  bool headline = false;  // one of the few per object that the sweep tables carry
};

// Throws InputError(file, pointer, ...) when `report` is not an iopfsim report.
std::vector<Metric> report_metrics(const nlohmann::json& report, const std::string& file);

// Reads and parses a report file; InputError naming the file when missing or not a report.
nlohmann::json read_report(const std::string& file);

std::string format_double(double v);  // shortest text that reads back to the same double
std::string csv_field(const std::string& s);  // RFC 4180 quoting when needed

const char* better_name(Better b);  // "smaller", "bigger", "none"

// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half
// a file. Throws InputError when the file cannot be written.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace iopf
