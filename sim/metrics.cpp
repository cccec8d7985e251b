#include "sim/metrics.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <unistd.h>

#include "models/common/input_error.hpp"

namespace iopf {
using nlohmann::json;

namespace {

constexpr const char* kHistStats[] = {"count", "min", "mean", "p50", "p90", "p99", "p999", "max"};

// The leaves the sweep tables carry (a choice of columns, not of metrics: export and compare
// see every leaf).
const std::set<std::string>& headline_keys() {
  static const std::set<std::string> k{
      "dma.latency_ns.p50", "dma.latency_ns.p99", "dma.latency_ns.mean", "dma.throughput.ops_per_s",
      "dma.throughput.bytes_per_s", "dma.completed", "dma.failed", "page_requests", "pri.requests",
      "pri.fault_latency_ns.p50", "pri.fault_latency_ns.p99", "resident_bytes", "swapped_bytes", "pinned_bytes",
      "pt_bytes", "setup_ns", "faults_resolved", "major_faults", "prq.max_depth", "prq.overflows",
      "max_used_bytes", "swap_in_bytes", "fault_cpu_ns"};
  return k;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Unit of a leaf from its key, by the report's naming rule (units in names).
std::string unit_of(const std::string& leaf) {
  if (ends_with(leaf, "bytes_per_s")) return "bytes/s";
  if (ends_with(leaf, "ops_per_s")) return "ops/s";
  if (ends_with(leaf, "_ns")) return "ns";
  if (leaf == "bytes" || ends_with(leaf, "_bytes")) return "bytes";
  return "count";
}

Better better_of(const std::string& unit) {
  if (unit == "ns") return Better::kSmaller;
  if (unit == "bytes/s" || unit == "ops/s") return Better::kBigger;
  return Better::kNone;
}

bool is_histogram(const json& j) {
  return j.is_object() && j.contains("count") && j.contains("p50") && j.contains("p99");
}

struct Walker {
  std::vector<Metric>* out;

  void leaf(const std::string& entity, const std::string& key, const std::string& unit, const json& v,
            const std::string& hist = "", const std::string& stat = "") {
    Metric m;
    m.entity = entity;
    m.key = key;
    m.name = entity + "/" + key;
    m.unit = unit;
    m.value = v.get<double>();
    m.text = v.dump();
    // The offered rate is the workload's, not a result: informational.
    m.better = ends_with(key, "offered_ops_per_s") ? Better::kNone : better_of(unit);
    m.hist = hist;
    m.stat = stat;
    m.headline = headline_keys().count(key) > 0;
    out->push_back(std::move(m));
  }

  // Every numeric leaf below `j`; `skip` names keys the caller walks itself (paths[]).
  void walk(const std::string& entity, const std::string& prefix, const std::string& last_key, const json& j,
            const std::set<std::string>& skip = {}) {
    if (j.is_number()) {
      leaf(entity, prefix, unit_of(last_key), j);
    } else if (is_histogram(j)) {
      const bool empty = j["count"].is_number() && j["count"].get<double>() == 0;
      for (const char* s : kHistStats) {
        if (!j.contains(s) || !j[s].is_number()) continue;
        if (empty && std::string(s) != "count") continue;
        leaf(entity, prefix + "." + s, std::string(s) == "count" ? "count" : unit_of(last_key), j[s], prefix, s);
      }
    } else if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (skip.count(it.key())) continue;
        walk(entity, prefix.empty() ? it.key() : prefix + "." + it.key(), it.key(), it.value());
      }
    }
    // strings, booleans, nulls and other arrays are not metrics
  }
};

std::string name_of(const json& obj, const std::string& file, const std::string& ptr) {
  if (!obj.is_object() || !obj.contains("name") || !obj["name"].is_string())
    throw InputError(file, ptr + "/name", "expected a name (string) in the report");
  return obj["name"].get<std::string>();
}

}  // namespace

std::vector<Metric> report_metrics(const json& r, const std::string& file) {
  if (!r.is_object() || !r.contains("schema") || r["schema"] != "iopfsim.report/1")
    throw InputError(file, "/schema", "not an iopfsim report (expected \"schema\": \"iopfsim.report/1\")");
  if (!r.contains("scenario") || !r["scenario"].is_object() || !r["scenario"].contains("name") ||
      !r["scenario"]["name"].is_string())
    throw InputError(file, "/scenario/name", "expected the scenario's name (string) in the report");
  const std::string sc = r["scenario"]["name"].get<std::string>();
  std::vector<Metric> out;
  Walker w{&out};
  const json empty = json::array();
  const json& devs = r.contains("devices") ? r["devices"] : empty;
  if (!devs.is_array()) throw InputError(file, "/devices", "expected an array in the report");
  for (size_t i = 0; i < devs.size(); ++i) {
    const std::string dptr = "/devices/" + std::to_string(i);
    const std::string dev = sc + "/" + name_of(devs[i], file, dptr);
    w.walk(dev, "", "", devs[i], {"paths"});
    if (!devs[i].contains("paths")) continue;
    const json& paths = devs[i]["paths"];
    if (!paths.is_array()) throw InputError(file, dptr + "/paths", "expected an array in the report");
    for (size_t p = 0; p < paths.size(); ++p)
      w.walk(dev + "/" + name_of(paths[p], file, dptr + "/paths/" + std::to_string(p)), "", "", paths[p]);
  }
  if (r.contains("domains")) {
    const json& doms = r["domains"];
    if (!doms.is_array()) throw InputError(file, "/domains", "expected an array in the report");
    for (size_t i = 0; i < doms.size(); ++i)
      w.walk(sc + "/domain/" + name_of(doms[i], file, "/domains/" + std::to_string(i)), "", "", doms[i]);
  }
  for (const char* top : {"iommu", "host"})
    if (r.contains(top)) w.walk(sc + "/" + top, "", "", r[top]);
  // Names must identify one metric (two devices of one name, or a device called "domain",
  // "iommu" or "host" with a matching path, would not).
  std::set<std::string> names;
  for (const Metric& m : out)
    if (!names.insert(m.name).second)
      throw InputError(file, "", "two metrics would have the name \"" + m.name +
                                     "\"; give devices, paths and domains distinct names");
  return out;
}

json read_report(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file, "", "cannot open the report for reading");
  json r;
  try {
    r = json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(file, "", std::string("not valid JSON, so not an iopfsim report: ") + e.what());
  }
  report_metrics(r, file);  // validates
  return r;
}

std::string format_double(double v) { return json(v).dump(); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

const char* better_name(Better b) {
  switch (b) {
    case Better::kSmaller: return "smaller";
    case Better::kBigger: return "bigger";
    case Better::kNone: return "none";
  }
  return "none";
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw InputError(path, "", "cannot open the file for writing");
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw InputError(path, "", "writing the file failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError(path, "", "cannot rename the temporary file into place");
  }
}

}  // namespace iopf
