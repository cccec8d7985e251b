// Sweeps. A sweep file (schema "iopfsim.sweep/1", unknown keys are errors):
//
//   {"schema": "iopfsim.sweep/1", "name": "rate-x-resident", "comment": "...",
//    "scenario": "base.json",          // relative to the sweep file
//    "combine": "grid",                // or "zip" (all axes the same length)
//    "replicas": 3,                    // runs per point, each with its own seed
//    "checker": false,                 // pass --checker to every run
//    "axes": [
//      {"name": "rate", "pointer": "/devices/0/paths/0/workload/rate", "values": ["1Mpps", "2Mpps"]},
//      {"name": "resident", "pointer": "/domains/0/resident_fraction",
//       "range": {"from": 0.25, "to": 0.75, "step": 0.25}},
//      {"name": "memory", "pointer": "/host/memory",
//       "range": {"from": 1073741824, "to": 8589934592, "points": 4, "scale": "log", "integer": true}}]}
//
// A range has `step` (linear: from, from+step, ... up to to; log: a factor > 1) or `points`
// (evenly spaced, linearly or logarithmically, ends included). Integral values are written as
// JSON integers (sizes and times need them); `"integer": true` rounds every value.
//
// Grid points run first axis outermost. Replica r of a point runs with seed
// splitmix64(fnv1a64("name=value\n"... + "replica=r")) & (2^53 - 1): a function of that point's
// axis values only, so adding a value to an axis changes no other point's seed (the base
// scenario's seed is not used). Each run is `iopfsim run BASE --quiet --seed S --report
// DIR/points/ID.json --set POINTER=VALUE...`, ID = p<point>-r<replica>, in a child process: the
// forked child runs the command itself (SweepOptions::run_in_child) or executes /proc/self/exe; its scenario hash
// (FNV-1a of the base scenario's bytes, the overrides, the seed and the checker flag) goes to the
// sidecar DIR/points/ID.meta.json once it succeeded, and --resume skips a run whose report and
// sidecar exist with the same hash. Each point is first checked in this process
// (load_scenario): a point whose overrides make a bad scenario fails with exit status 2 and the
// message, without a child process.
//
// Backends: the runs execute here, at most -j at a time (run_local), or as a Slurm job array
// (sweep_slurm.cpp); both plan and merge through the same code (sweep_plan.hpp), so they
// write the same bytes.
//
// Output (deterministic: no wall clock, rows in point order):
// - points.csv: point, replica, the axis values, seed, exit_status, then the headline metrics
//   (sim/metrics.hpp) of every device, path, domain, iommu and host with the scenario name
//   dropped from the column name ("nic0/rx/dma.latency_ns.p99"); columns are the union over
//   all runs in order of first appearance, empty where a run lacks one (failed runs).
// - summary.csv: per point, the axis values, `replicas` (successful runs), and per metric
//   `M:mean`, `M:ci95_low`, `M:ci95_high`: a two-sided 95 % Student-t confidence interval over
//   the replicas that have the metric (empty with fewer than two).
// - failed.csv: point, replica, seed, exit_status, message of every failed run.
#include "sim/sweep.hpp"
#include "sim/sweep_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/math/distributions/students_t.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "models/common/input_error.hpp"
#include "models/common/stats.hpp"
#include "models/pagetable/table_memory.hpp"
#include "sim/metrics.hpp"
#include "models/common/params.hpp"
#include "sim/scenario.hpp"

namespace iopf::sweep {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const ParamTable kSweepTable{
    "sweep",
    {
        {"schema", ParamType::String, nullptr, "format tag; must be \"iopfsim.sweep/1\"", ""},
        {"name", ParamType::String, nullptr, "sweep name (default output directory sweep-<name>)", ""},
        {"scenario", ParamType::String, nullptr, "base scenario file, relative to the sweep file", ""},
        {"combine", ParamType::Enum, "\"grid\"", "grid: every combination; zip: the i-th value of every axis", "",
         "grid|zip"},
        {"replicas", ParamType::Int, "1", "runs per point, each with its own seed", "", "", 1, 10000},
        {"checker", ParamType::Bool, "false", "run every point with --checker", ""},
    }};
const ParamTable kAxisTable{
    "sweep axis",
    {
        {"name", ParamType::String, nullptr, "column name in points.csv and summary.csv", ""},
        {"pointer", ParamType::String, nullptr, "JSON pointer into the base scenario (as --set takes it)", ""},
    }};
const ParamTable kRangeTable{
    "sweep axis range",
    {
        {"from", ParamType::Double, nullptr, "first value", "", "", 0, -1},
        {"to", ParamType::Double, nullptr, "last value (included when the steps land on it)", "", "", 0, -1},
        {"step", ParamType::Double, "0", "linear: increment; log: factor > 1 (give step or points)", "", "", 0, -1},
        {"points", ParamType::Int, "0", "number of values, ends included (give step or points)", "", "", 0, 100000},
        {"scale", ParamType::Enum, "\"linear\"", "spacing of the values", "", "linear|log"},
        {"integer", ParamType::Bool, "false", "round every value to an integer", ""},
    }};

constexpr size_t kMaxRuns = 1000000;

uint64_t fnv1a(const std::string& s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
std::string hex16(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

json range_value(double v, bool integer) {
  if (integer) return json(static_cast<int64_t>(std::llround(v)));
  const double r = std::round(v);
  if (std::fabs(v - r) <= 1e-9 * std::max(1.0, std::fabs(v)) && std::fabs(r) < 9.0e15) return json(static_cast<int64_t>(r));
  return json(v);
}

std::vector<json> read_range(const json& j, const std::string& ptr, const std::string& file) {
  ObjReader r(j, ptr, file, kRangeTable);
  const double from = r.real("from"), to = r.real("to");
  const bool log = r.enumeration("scale") == "log", integer = r.boolean("integer");
  if (r.has("step") == r.has("points")) throw InputError(file, ptr, "expected exactly one of \"step\" and \"points\"");
  std::vector<double> v;
  if (log && (from <= 0 || to <= 0)) r.fail("from", "a log scale needs from and to greater than 0");
  if (r.has("points")) {
    const int64_t n = r.integer("points");
    if (n < 1 || (n == 1 && from != to)) r.fail("points", "expected at least 2 points (1 only when from equals to)");
    for (int64_t i = 0; i < n; ++i) {
      const double t = n == 1 ? 0 : static_cast<double>(i) / static_cast<double>(n - 1);
      v.push_back(i == n - 1 ? to : log ? from * std::pow(to / from, t) : from + (to - from) * t);
    }
  } else {
    const double step = r.real("step");
    if (log ? !(step > 1) : !(step > 0)) r.fail("step", log ? "expected a factor greater than 1" : "expected a step greater than 0");
    if (to < from) r.fail("to", "expected to >= from");
    const double eps = 1e-9 * std::max(1.0, std::fabs(to));
    for (int64_t i = 0;; ++i) {
      const double x = log ? from * std::pow(step, static_cast<double>(i)) : from + step * static_cast<double>(i);
      if (x > to + eps) break;
      if (v.size() >= 100000) r.fail("step", "more than 100000 values");
      v.push_back(x);
    }
  }
  std::vector<json> out;
  for (double x : v) out.push_back(range_value(x, integer));
  return out;
}

Sweep parse_sweep(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file, "", "cannot open the sweep file for reading");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(file, "", std::string("not valid JSON: ") + e.what());
  }
  ObjReader r(doc, "", file, kSweepTable, {"comment", "axes"});
  if (r.str("schema") != "iopfsim.sweep/1") r.fail("schema", "expected \"iopfsim.sweep/1\"");
  Sweep s;
  s.file = file;
  s.name = r.str("name");
  if (s.name.empty() || s.name.find('/') != std::string::npos) r.fail("name", "expected a non-empty name without '/'");
  s.zip = r.enumeration("combine") == "zip";
  s.replicas = r.integer("replicas");
  s.checker = r.boolean("checker");
  if (doc.contains("comment")) {
    const json& c = doc["comment"];
    bool ok = c.is_string() || c.is_array();
    if (c.is_array())
      for (const json& l : c) ok = ok && l.is_string();
    if (!ok) throw InputError(file, "/comment", "expected a string or an array of strings, found " + describe_json(c));
  }
  const fs::path rel = r.str("scenario");
  s.scenario = (rel.is_absolute() ? rel : (fs::path(file).parent_path() / rel)).lexically_normal().string();
  if (!doc.contains("axes") || !doc["axes"].is_array() || doc["axes"].empty())
    throw InputError(file, "/axes", "expected a non-empty array of axes");
  std::set<std::string> names;
  for (size_t i = 0; i < doc["axes"].size(); ++i) {
    const std::string ptr = "/axes/" + std::to_string(i);
    const json& a = doc["axes"][i];
    ObjReader ar(a, ptr, file, kAxisTable, {"values", "range"});
    Axis ax;
    ax.name = ar.str("name");
    bool name_ok = !ax.name.empty();
    for (char c : ax.name) name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
    if (!name_ok) ar.fail("name", "expected a name of letters, digits, '_', '-' and '.'");
    if (!names.insert(ax.name).second || ax.name == "point" || ax.name == "replica" || ax.name == "seed" ||
        ax.name == "exit_status" || ax.name == "replicas")
      ar.fail("name", "expected a name no other axis (nor a fixed column) has, found \"" + ax.name + "\"");
    ax.pointer = ar.str("pointer");
    try {
      if (ax.pointer.empty()) throw std::invalid_argument("empty");
      (void)json::json_pointer(ax.pointer);
    } catch (const std::exception&) {
      ar.fail("pointer", "expected a JSON pointer such as /devices/0/paths/0/workload/rate, found \"" + ax.pointer + "\"");
    }
    if (a.contains("values") == a.contains("range"))
      throw InputError(file, ptr, "expected exactly one of \"values\" and \"range\"");
    if (a.contains("values")) {
      const json& v = a["values"];
      if (!v.is_array() || v.empty()) throw InputError(file, ptr + "/values", "expected a non-empty array of values");
      for (const json& x : v) ax.values.push_back(x);
    } else {
      ax.values = read_range(a["range"], ptr + "/range", file);
    }
    s.axes.push_back(std::move(ax));
  }
  if (s.zip)
    for (size_t i = 1; i < s.axes.size(); ++i)
      if (s.axes[i].values.size() != s.axes[0].values.size())
        throw InputError(file, "/axes/" + std::to_string(i),
                         "zip expects every axis to have as many values as the first (" +
                             std::to_string(s.axes[0].values.size()) + "), found " +
                             std::to_string(s.axes[i].values.size()));
  return s;
}

// Each point: one value index per axis.
std::vector<std::vector<size_t>> make_points(const Sweep& s) {
  std::vector<std::vector<size_t>> pts;
  if (s.zip) {
    for (size_t i = 0; i < s.axes[0].values.size(); ++i) pts.emplace_back(s.axes.size(), i);
    return pts;
  }
  size_t total = 1;
  for (const Axis& a : s.axes) {
    total *= a.values.size();
    if (total * static_cast<size_t>(s.replicas) > kMaxRuns)
      throw InputError(s.file, "/axes", "more than " + std::to_string(kMaxRuns) + " runs");
  }
  for (size_t k = 0; k < total; ++k) {
    std::vector<size_t> idx(s.axes.size());
    size_t rest = k;
    for (size_t a = s.axes.size(); a-- > 0;) {
      idx[a] = rest % s.axes[a].values.size();
      rest /= s.axes[a].values.size();
    }
    pts.push_back(idx);
  }
  return pts;
}

std::string axis_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// Nothing of a simulation exists in this process yet (no page table, no histogram; the sweep
// never starts SimGrid's engine): a forked child that runs the command starts as a new
// process would, and writes the same report.
bool pristine() { return TableMemory::instance().used_bytes() == 0 && Histogram::live() == 0; }

pid_t spawn(const Run& run, const Sweep& s, int (*run_in_child)(int, char**)) {
  std::vector<std::string> args = run_args(run, s);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    const int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    const int log = open(run.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (nul >= 0) {
      dup2(nul, STDIN_FILENO);
      dup2(nul, STDOUT_FILENO);
    }
    if (log >= 0) dup2(log, STDERR_FILENO);
    for (const int fd : {nul, log})  // the run keeps only its standard streams
      if (fd > STDERR_FILENO) close(fd);
    if (run_in_child && pristine()) {
      const int status = run_in_child(static_cast<int>(args.size()), argv.data());
      std::exit(status);  // as the program's main returning: stdio flushed, static destructors run
    }
    execv("/proc/self/exe", argv.data());
    std::fprintf(stderr, "iopfsim sweep: cannot execute /proc/self/exe: %s\n", std::strerror(errno));
    _exit(127);
  }
  return pid;
}

double t_quantile_975(double df) {
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), 0.975);
}

// Every run of the sweep: points x replicas, each with its seed, overrides and files.
std::vector<Run> plan_runs(const Sweep& s, const std::vector<std::vector<size_t>>& points, const std::string& base_bytes,
                           const fs::path& dir) {
  const size_t width = std::max<size_t>(4, std::to_string(points.size() - 1).size());
  std::vector<Run> runs;
  for (size_t p = 0; p < points.size(); ++p) {
    std::string key;
    std::vector<std::string> sets;
    for (size_t a = 0; a < s.axes.size(); ++a) {
      const json& v = s.axes[a].values[points[p][a]];
      key += s.axes[a].name + "=" + v.dump() + "\n";
      sets.push_back(s.axes[a].pointer + "=" + v.dump());
    }
    std::string pid = std::to_string(p);
    pid = "p" + std::string(width - pid.size(), '0') + pid;
    for (int64_t r = 0; r < s.replicas; ++r) {
      Run run;
      run.point = p;
      run.replica = r;
      run.id = pid + "-r" + std::to_string(r);
      run.seed = mix(fnv1a(key + "replica=" + std::to_string(r))) & ((uint64_t{1} << 53) - 1);
      run.sets = sets;
      std::string h = base_bytes + '\0' + std::to_string(run.seed) + '\0' + (s.checker ? "checker" : "") + '\0';
      for (const std::string& x : sets) h += x + '\0';
      run.hash = hex16(fnv1a(h));
      run.report = (dir / "points" / (run.id + ".json")).string();
      run.meta = (dir / "points" / (run.id + ".meta.json")).string();
      run.log = (dir / "points" / (run.id + ".stderr")).string();
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

// True when run's report exists for the same scenario hash (--resume).
bool resumable(const Run& run) {
  if (!fs::exists(run.report) || !fs::exists(run.meta)) return false;
  try {
    return json::parse(read_text(run.meta)).value("scenario_hash", "") == run.hash;
  } catch (const json::exception&) {
    return false;
  }
}

// Checks each point in this process first (a bad point fails with its message, exit status
// 2, without a child) and marks what --resume can keep.
void prepare(Plan* plan, bool resume, bool keep_files) {
  const Sweep& s = plan->sweep;
  const size_t n_points = plan->points.size();
  std::vector<Run>* runs = &plan->runs;
  std::map<size_t, std::string> invalid;
  for (size_t p = 0; p < n_points; ++p) {
    try {
      load_scenario(s.scenario, (*runs)[p * static_cast<size_t>(s.replicas)].sets);
    } catch (const InputError& e) {
      invalid[p] = e.what();
    }
  }
  plan->invalid_points = invalid.size();
  std::error_code ec;
  for (size_t i = 0; i < runs->size(); ++i) {
    Run& run = (*runs)[i];
    if (invalid.count(run.point)) {
      run.status = 2;
      run.message = invalid[run.point];
    } else if (resume && resumable(run)) {
      run.status = 0;
      run.resumed = true;
      ++plan->resumed;
    } else {
      if (!keep_files) {
        fs::remove(run.meta, ec);
        fs::remove(run.report, ec);
      }
      plan->todo.push_back(i);
    }
  }
}

// Runs todo, at most jobs at a time, each in its own process; a progress line on a terminal.
void run_local(const Sweep& s, std::vector<Run>* runs, const std::vector<size_t>& todo, unsigned jobs,
               int (*run_in_child)(int, char**)) {
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0, failed = 0;
  auto progress = [&]() {
    if (!tty) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string eta = done ? format_eta(el / static_cast<double>(done) * static_cast<double>(todo.size() - done)) : "?";
    std::fprintf(stderr, "\rsweep %s: %zu/%zu runs done, %zu failed, ETA %s   ", s.name.c_str(), done, todo.size(),
                 failed, eta.c_str());
    std::fflush(stderr);
  };
  progress();
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && running.size() < std::max(1u, jobs)) {
      const size_t i = todo[next++];
      running[spawn((*runs)[i], s, run_in_child)] = i;
    }
    int st = 0;
    const pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    Run& run = (*runs)[it->second];
    running.erase(it);
    ++done;
    finish_run(&run, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
    if (run.status != 0) ++failed;
    progress();
  }
  if (tty) std::fprintf(stderr, "\n");
}

// Mean and 95 % confidence interval (Student t) of xs, as CSV fields (empty when undefined).
std::string mean_ci_fields(const std::vector<double>& xs) {
  std::string mean, lo, hi;
  if (!xs.empty()) {
    double sum = 0;
    for (double x : xs) sum += x;
    const double m = sum / static_cast<double>(xs.size());
    mean = format_double(m);
    if (xs.size() >= 2) {
      double ss = 0;
      for (double x : xs) ss += (x - m) * (x - m);
      const double n = static_cast<double>(xs.size());
      const double half = t_quantile_975(n - 1) * std::sqrt(ss / (n - 1)) / std::sqrt(n);
      lo = format_double(m - half);
      hi = format_double(m + half);
    }
  }
  return "," + mean + "," + lo + "," + hi;
}

// The headline metrics of every successful run: values[run][column] = {number, text}.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::map<std::string, std::pair<double, std::string>>> values;
};

Table collect(const std::vector<Run>& runs) {
  Table t;
  std::set<std::string> seen;
  t.values.resize(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].status != 0) continue;
    for (const Metric& m : report_metrics(read_report(runs[i].report), runs[i].report)) {
      if (!m.headline) continue;
      const std::string col = m.name.substr(m.name.find('/') + 1);
      if (seen.insert(col).second) t.columns.push_back(col);
      t.values[i][col] = {m.value, m.text};
    }
  }
  return t;
}

// points.csv, summary.csv and failed.csv; returns the number of failed runs.
size_t merge(const Sweep& s, const std::vector<std::vector<size_t>>& points, const std::vector<Run>& runs,
             const fs::path& dir) {
  const Table t = collect(runs);
  std::ostringstream pc, sc, fc;
  pc << "point,replica";
  sc << "point";
  for (const Axis& a : s.axes) pc << "," << a.name, sc << "," << a.name;
  pc << ",seed,exit_status";
  sc << ",replicas";
  for (const std::string& c : t.columns) {
    pc << "," << csv_field(c);
    sc << "," << csv_field(c + ":mean") << "," << csv_field(c + ":ci95_low") << "," << csv_field(c + ":ci95_high");
  }
  pc << "\n";
  sc << "\n";
  fc << "point,replica,seed,exit_status,message\n";
  size_t nfailed = 0;
  const size_t reps = static_cast<size_t>(s.replicas);
  for (size_t p = 0; p < points.size(); ++p) {
    std::string axes;
    for (size_t a = 0; a < s.axes.size(); ++a) axes += "," + csv_field(axis_text(s.axes[a].values[points[p][a]]));
    size_t ok = 0;
    for (size_t r = 0; r < reps; ++r) {
      const size_t i = p * reps + r;
      const Run& run = runs[i];
      pc << p << "," << r << axes << "," << run.seed << "," << run.status;
      for (const std::string& c : t.columns) {
        auto it = t.values[i].find(c);
        pc << "," << (it == t.values[i].end() ? "" : it->second.second);
      }
      pc << "\n";
      if (run.status == 0) {
        ++ok;
        continue;
      }
      ++nfailed;
      fc << p << "," << r << "," << run.seed << "," << run.status << "," << csv_field(run.message) << "\n";
      std::cerr << "iopfsim sweep: run " << run.id << " (" << axes.substr(1) << ", seed " << run.seed
                << ") failed with exit status " << run.status << ": " << run.message << "\n";
    }
    sc << p << axes << "," << ok;
    for (const std::string& c : t.columns) {
      std::vector<double> xs;
      for (size_t r = 0; r < reps; ++r) {
        auto it = t.values[p * reps + r].find(c);
        if (it != t.values[p * reps + r].end()) xs.push_back(it->second.first);
      }
      sc << mean_ci_fields(xs);
    }
    sc << "\n";
  }
  write_file_atomically((dir / "points.csv").string(), pc.str());
  write_file_atomically((dir / "summary.csv").string(), sc.str());
  write_file_atomically((dir / "failed.csv").string(), fc.str());
  return nfailed;
}

}  // namespace

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string format_eta(double s) {
  char b[32];
  const long t = static_cast<long>(std::lround(s));
  std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return b;
}


void finish_run(Run* run, int exit_status) {
  std::error_code ec;
  run->status = exit_status;
  if (run->status == 0 && fs::exists(run->report)) {
    json meta = {{"scenario_hash", run->hash}, {"seed", run->seed}, {"sets", run->sets}};
    write_file_atomically(run->meta, meta.dump(1) + "\n");
    fs::remove(run->log, ec);
    return;
  }
  if (run->status == 0) run->status = 1;
  run->message = last_line(read_text(run->log));
  if (run->message.empty()) run->message = "no message (see " + run->log + ")";
}

std::vector<std::string> run_args(const Run& run, const Sweep& s) {
  std::vector<std::string> args{"iopfsim", "run", s.scenario, "--quiet", "--seed", std::to_string(run.seed),
                                "--report", run.report};
  if (s.checker) args.push_back("--checker");
  for (const std::string& set : run.sets) {
    args.push_back("--set");
    args.push_back(set);
  }
  return args;
}

Plan plan_sweep(const std::string& file, const std::string& out_dir, bool resume, bool keep_files) {
  Plan plan;
  plan.sweep = parse_sweep(file);
  const Sweep& s = plan.sweep;
  // The base must be a scenario; its bytes go into every run's hash.
  load_scenario(s.scenario);
  const std::string base_bytes = read_text(s.scenario);
  plan.dir = out_dir.empty() ? fs::path("sweep-" + s.name) : fs::path(out_dir);
  std::error_code ec;
  fs::create_directories(plan.dir / "points", ec);
  if (ec) throw InputError(plan.dir.string(), "", "cannot create the output directory: " + ec.message());
  plan.points = make_points(s);
  plan.runs = plan_runs(s, plan.points, base_bytes, plan.dir);
  prepare(&plan, resume, keep_files);
  return plan;
}

int merge_sweep(const Plan& plan) {
  const Sweep& s = plan.sweep;
  const size_t nfailed = merge(s, plan.points, plan.runs, plan.dir);
  std::cerr << "iopfsim sweep " << s.name << ": " << plan.runs.size() << " runs (" << plan.points.size()
            << " points x " << s.replicas << " replicas): " << plan.todo.size() << " run, " << plan.resumed
            << " resumed, " << nfailed << " failed; results in " << plan.dir.string() << "\n";
  if (nfailed == 0) return 0;
  return plan.invalid_points == plan.points.size() ? 2 : 1;
}

}  // namespace iopf::sweep

namespace iopf {

int run_sweep(const SweepOptions& opt) {
  if (!opt.merge_dir.empty()) return merge_slurm_sweep(opt.merge_dir);
  sweep::Plan plan = sweep::plan_sweep(opt.file, opt.out_dir, opt.resume);
  if (opt.backend == "slurm") return submit_slurm_sweep(&plan, opt);
  sweep::run_local(plan.sweep, &plan.runs, plan.todo, opt.jobs, opt.run_in_child);
  return sweep::merge_sweep(plan);
}

}  // namespace iopf
