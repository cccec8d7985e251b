// iopfsim command line (CLI11 lives in this translation unit only).
// Exit status: 0 success, 2 bad input or usage, 1 internal failure.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "models/domain/kinds.hpp"
#include "models/pagetable/page_table.hpp"
#include "sim/analytic_report.hpp"
#include "sim/compare.hpp"
#include "sim/engine.hpp"
#include "sim/export.hpp"
#include "models/common/input_error.hpp"
#include "models/common/params.hpp"
#include "sim/metrics.hpp"
#include "sim/report.hpp"
#include "sim/scenario.hpp"
#include "sim/sweep.hpp"
#include "sim/system.hpp"
#include "sim/progress.hpp"
#include "sim/timeseries.hpp"
#include "sim/trace.hpp"
#include "models/common/units.hpp"

#ifndef IOPFSIM_VERSION
#define IOPFSIM_VERSION "0.0.0"
#endif

namespace {

int iopfsim_main(int argc, char** argv);

// A command-line value that makes no sense (exit status 2, like bad input).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --seed: digits only, inside the scenario's own seed range (so --seed N and "seed": N agree).
uint64_t parse_seed(const std::string& text) {
  double max = 0;
  for (const iopf::ParamTable* t : iopf::all_param_tables())
    if (std::string(t->object) == "scenario")
      for (const iopf::ParamSpec& s : t->specs)
        if (std::string(s.name) == "seed") max = s.max;
  const std::string expected = "--seed: expected an integer in [0, " + iopf::units::format_exact(max) + "], found \"" +
                               text + "\"";
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(expected);
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v > static_cast<unsigned long long>(max)) throw UsageError(expected);
  return v;
}

// Where the report goes. Checked before the run, so a run is never wasted on a report that
// cannot be written, and a scenario is never overwritten by its own report.
void check_report_path(const std::string& report, const std::string& scenario, const std::string& option = "--report") {
  namespace fs = std::filesystem;
  if (report.empty()) throw UsageError(option + ": expected a file path, found \"\"");
  std::error_code ec;
  const fs::path p(report);
  const fs::file_status st = fs::status(p, ec);
  if (fs::is_directory(st)) throw UsageError(option + " " + report + ": expected a file path, found a directory");
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st))
      throw UsageError(option + " " + report + ": expected a regular file (it is replaced whole), found another kind of file");
    if (fs::equivalent(p, fs::path(scenario), ec))
      throw UsageError(option + " " + report + ": expected a file other than the scenario it reports on");
  }
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(fs::status(dir, ec)))
    throw UsageError(option + " " + report + ": expected an existing directory " + dir.string() + " to hold it");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw UsageError(option + " " + report + ": cannot create files in " + dir.string() + ": " + std::strerror(errno));
}

// Written whole or not at all: to a temporary file in the same directory, then renamed over
// the target. A failure (disk full, file size limit, I/O error) leaves nothing behind.
void write_report(const std::string& path, const std::string& text, const std::string& option = "--report") {
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw UsageError(option + " " + path + ": cannot create a temporary file: " + std::strerror(errno));
  const std::string tmp(name.data());
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw UsageError(option + " " + path + ": " + std::string(what) + ": " + std::strerror(err) + " (nothing written)");
  };
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("writing the report failed");
    done += static_cast<size_t>(n);
  }
  const mode_t mask = ::umask(0);  // mkstemp makes the file 0600; a report is 0666 less the umask
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) fail("setting the report's permissions failed");
  if (::fsync(fd) != 0) fail("writing the report failed");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw UsageError(option + " " + path + ": writing the report failed: " + std::strerror(err) + " (nothing written)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw UsageError(option + " " + path + ": renaming the report into place failed: " + std::strerror(err) + " (nothing written)");
  }
}

// What `run` writes besides its report: observation only, the report stays the same.
struct Observation {
  std::optional<std::string> timeseries_path;
  std::string sample_interval = "100us";
  std::optional<std::string> trace_path;
  std::string trace_window;  // START:END, empty: the whole run
  uint64_t trace_max_events = iopf::ChromeTrace::kDefaultMaxEvents;
};

// --trace-window START:END (times as the scenario writes them; either side may be empty).
std::pair<uint64_t, uint64_t> parse_trace_window(const std::string& text) {
  const std::string expected = "--trace-window: expected START:END with START < END (\"1ms:2ms\", \":500us\"), found \"" +
                               text + "\"";
  const size_t colon = text.find(':');
  if (text.empty()) return {0, ~0ULL};
  if (colon == std::string::npos) throw UsageError(expected);
  const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
  const std::optional<uint64_t> lo = a.empty() ? std::optional<uint64_t>(0) : iopf::units::parse_ns(a);
  const std::optional<uint64_t> hi = b.empty() ? std::optional<uint64_t>(~0ULL) : iopf::units::parse_ns(b);
  if (!lo || !hi || *lo >= *hi) throw UsageError(expected);
  return {*lo, *hi};
}

uint64_t parse_sample_interval(const std::string& text) {
  const std::optional<uint64_t> ns = iopf::units::parse_ns(text);
  if (!ns || *ns == 0)
    throw UsageError("--sample-interval: expected a positive time (\"100us\", or ns), found \"" + text + "\"");
  return *ns;
}

int cmd_run(const std::string& file, const std::optional<std::string>& report_path, const std::vector<std::string>& sets,
            const std::optional<std::string>& seed_text, bool checker, bool quiet, const Observation& obs) {
  const uint64_t seed = seed_text ? parse_seed(*seed_text) : 0;  // checked before the scenario is read
  if (report_path) check_report_path(*report_path, file);
  if (obs.timeseries_path) check_report_path(*obs.timeseries_path, file, "--timeseries");
  if (obs.trace_path) check_report_path(*obs.trace_path, file, "--trace");
  if (obs.timeseries_path && report_path && *obs.timeseries_path == *report_path)
    throw UsageError("--timeseries " + *report_path + ": expected a file other than the report");
  if (obs.trace_path && ((report_path && *obs.trace_path == *report_path) || obs.trace_path == obs.timeseries_path))
    throw UsageError("--trace " + *obs.trace_path + ": expected a file other than the report and the time series");
  if (!obs.trace_path && !obs.trace_window.empty()) throw UsageError("--trace-window needs --trace");
  const std::pair<uint64_t, uint64_t> trace_window = parse_trace_window(obs.trace_window);
  std::vector<std::unique_ptr<iopf::Observer>> owned;
  iopf::Timeseries* timeseries = nullptr;
  if (obs.timeseries_path) {
    owned.push_back(std::make_unique<iopf::Timeseries>(parse_sample_interval(obs.sample_interval)));
    timeseries = static_cast<iopf::Timeseries*>(owned.back().get());
  }
  if (!quiet && ::isatty(STDERR_FILENO)) owned.push_back(std::make_unique<iopf::Progress>(stderr));
  std::vector<iopf::Observer*> observers;
  for (auto& o : owned) observers.push_back(o.get());
  iopf::Scenario sc = iopf::load_scenario(file, sets);
  if (seed_text) sc.seed = seed;
  if (checker) sc.engine.checker = true;
  iopf::System sys(sc);
  std::unique_ptr<iopf::ChromeTrace> trace;
  if (obs.trace_path)
    trace = std::make_unique<iopf::ChromeTrace>(sys, trace_window.first, trace_window.second, obs.trace_max_events);
#ifdef IOPFSIM_SANITIZE
  // SimGrid's raw contexts switch stacks behind ASan's back (false positives): use threads.
  const iopf::EngineStats st = iopf::run_engine(sys, {"--cfg=contexts/factory:thread"}, observers, trace.get());
#else
  const iopf::EngineStats st = iopf::run_engine(sys, {}, observers, trace.get());
#endif
  const nlohmann::json report = iopf::make_report(sys, st);
  if (report_path) write_report(*report_path, report.dump(2) + "\n");
  if (timeseries) write_report(*obs.timeseries_path, timeseries->csv(), "--timeseries");
  if (trace) {
    write_report(*obs.trace_path, trace->finish(st.simulated_ns), "--trace");
    if (trace->truncated())
      std::cerr << "iopfsim: --trace " << *obs.trace_path << ": stopped recording at " << trace->events()
                << " events (--trace-max-events); narrow it with --trace-window\n";
  }
  if (!quiet) std::cout << iopf::format_summary(report);
  const nlohmann::json& checks = report["checks"];
  const bool ok = checks["conservation_ok"].get<bool>() &&
                  (!checks.contains("stale_translation_uses") || checks["stale_translation_uses"].get<uint64_t>() == 0) &&
                  (!checks.contains("stale_permission_uses") || checks["stale_permission_uses"].get<uint64_t>() == 0);
  if (!ok) std::cerr << "iopfsim: a correctness check failed (see checks in the report)\n";
  return ok ? 0 : 1;
}

// Checks every file, reports each one's result, and fails if any failed.
int cmd_validate(const std::vector<std::string>& files) {
  int rc = 0;
  for (const std::string& f : files) {
    try {
      iopf::load_scenario(f);
      std::cout << f << ": ok\n";
    } catch (const iopf::InputError& e) {
      std::cerr << "iopfsim: error: " << e.what() << "\n";
      rc = 2;
    }
  }
  if (rc != 0 && files.size() > 1) std::cerr << "iopfsim: some scenario files are not valid\n";
  return rc;
}

// Runs the scenario in this process and prints the analytic predictions beside the simulated
// figures; bad input (exit 2) when no part of it is expressible as a queueing model.
int cmd_analyze(const std::string& file, const std::vector<std::string>& sets, const std::optional<std::string>& seed_text) {
  const std::optional<uint64_t> seed = seed_text ? std::optional<uint64_t>(parse_seed(*seed_text)) : std::nullopt;
  iopf::Scenario sc = iopf::load_scenario(file, sets);
  if (seed) sc.seed = *seed;
  iopf::System sys(sc);
  const iopf::EngineStats st = iopf::run_engine(sys);
  const nlohmann::json report = iopf::make_report(sys, st);
  if (!report.contains("analytic"))
    throw iopf::InputError(file, "", "expected a scenario with a Poisson page-request path on a shared_tdp domain "
                                     "with an exponential fault_cost, or a single random path over a pinned 4KiB "
                                     "domain without ATS (README: the analytic section)");
  std::cout << iopf::format_analytic(report["analytic"]);
  return 0;
}

// A subcommand and what it does once the command line is parsed.
struct Command {
  CLI::App* app;
  std::function<int()> action;
};

// Every option value, kept alive for the actions.
struct Options {
  std::string run_file;
  std::optional<std::string> report_path, seed;
  std::vector<std::string> sets;
  bool checker = false, quiet = false;
  Observation obs;
  std::vector<std::string> validate_files;
  std::string analyze_file;
  std::string export_file, export_format, export_out;
  std::string cmp_base, cmp_new, cmp_threshold = "5%";
  iopf::SweepOptions sweep;
};

void add_run_commands(CLI::App& app, Options& o, std::vector<Command>* cmds) {
  CLI::App* run = app.add_subcommand("run", "run one scenario, print a summary, optionally write the JSON report");
  run->add_option("scenario", o.run_file, "scenario JSON file")->required();
  run->add_option("--report", o.report_path, "write the JSON report to this file");
  run->add_option("--seed", o.seed, "seed of every random stream (overrides the scenario's)");
  run->add_option("--set", o.sets, "override a scenario value: /json/pointer=value (repeatable)");
  run->add_flag("--checker", o.checker, "turn on the correctness checker (engine.checker)");
  run->add_flag("--quiet", o.quiet, "print no summary");
  run->add_option("--timeseries", o.obs.timeseries_path, "write a CSV time series (one row per sample interval)");
  run->add_option("--sample-interval", o.obs.sample_interval, "the time series' interval of simulated time (default 100us)");
  run->add_option("--trace", o.obs.trace_path, "write the slow path's timeline as Chrome trace-event JSON (Perfetto)");
  run->add_option("--trace-window", o.obs.trace_window, "keep trace events starting in START:END of simulated time");
  run->add_option("--trace-max-events", o.obs.trace_max_events, "stop recording the trace after N events (default 1e6)")
      ->check(CLI::PositiveNumber);
  cmds->push_back({run, [&o] { return cmd_run(o.run_file, o.report_path, o.sets, o.seed, o.checker, o.quiet, o.obs); }});

  CLI::App* validate = app.add_subcommand("validate", "check scenario files without running them");
  validate->add_option("scenarios", o.validate_files, "scenario JSON files")->required();
  cmds->push_back({validate, [&o] { return cmd_validate(o.validate_files); }});

}

void add_analyze_command(CLI::App& app, Options& o, std::vector<Command>* cmds) {
  CLI::App* an = app.add_subcommand("analyze", "run a scenario and print the analytic (M/M/c/K, LRU) predictions "
                                               "beside the simulated figures");
  an->add_option("scenario", o.analyze_file, "scenario JSON file")->required();
  an->add_option("--seed", o.seed, "seed of every random stream (overrides the scenario's)");
  an->add_option("--set", o.sets, "override a scenario value: /json/pointer=value (repeatable)");
  cmds->push_back({an, [&o] { return cmd_analyze(o.analyze_file, o.sets, o.seed); }});
}

void add_sweep_commands(CLI::App& app, Options& o, std::vector<Command>* cmds) {
  o.sweep.jobs = std::max(1u, std::thread::hardware_concurrency());
  o.sweep.run_in_child = &iopfsim_main;
  CLI::App* sweep = app.add_subcommand("sweep", "run a grid of scenario variations, each in its own process");
  CLI::Option* file = sweep->add_option("sweep", o.sweep.file, "sweep JSON file (schema iopfsim.sweep/1)");
  sweep->add_option("-j,--jobs", o.sweep.jobs, "runs at once (default: the number of cores)")->check(CLI::PositiveNumber);
  sweep->add_option("--out", o.sweep.out_dir, "output directory (default sweep-<name>)");
  sweep->add_flag("--resume", o.sweep.resume, "skip runs whose report exists for the same scenario hash");
  sweep->add_option("--backend", o.sweep.backend, "local (child processes here, default) or slurm (a job array)")
      ->check(CLI::IsMember({"local", "slurm"}));
  const std::vector<CLI::Option*> slurm_opts{
      sweep->add_option("--partition", o.sweep.partition, "Slurm: sbatch --partition"),
      sweep->add_option("--account", o.sweep.account, "Slurm: sbatch --account"),
      sweep->add_option("--time-limit", o.sweep.time_limit, "Slurm: sbatch --time per array task (e.g. 30:00)"),
      sweep->add_option("--throttle", o.sweep.throttle, "Slurm: at most K array tasks at once (--array=...%K)"),
      sweep->add_option("--runs-per-task", o.sweep.runs_per_task, "Slurm: runs packed in one array task (default 10)")
          ->check(CLI::PositiveNumber),
      sweep->add_flag("--no-wait", o.sweep.no_wait, "Slurm: submit and exit; merge later with --merge DIR")};
  sweep->add_option("--merge", o.sweep.merge_dir, "merge DIR of a Slurm sweep submitted with --no-wait")
      ->excludes(file);
  cmds->push_back({sweep, [&o, file, slurm_opts] {
                     if (o.sweep.merge_dir.empty() == file->empty()) {
                       std::cerr << "iopfsim sweep: expected a sweep file or --merge DIR\n";
                       return 2;
                     }
                     for (const CLI::Option* opt : slurm_opts)
                       if (opt->count() && o.sweep.backend != "slurm") {
                         std::cerr << "iopfsim sweep: " << opt->get_name() << " needs --backend slurm\n";
                         return 2;
                       }
                     return iopf::run_sweep(o.sweep);
                   }});
}

void add_list_commands(CLI::App& app, std::vector<Command>* cmds) {
  cmds->push_back({app.add_subcommand("list-params", "print every scenario parameter, its default and source"), [] {
                     std::cout << iopf::describe_param_tables();
                     return 0;
                   }});
  cmds->push_back({app.add_subcommand("list-formats", "print the page-table formats"), [] {
                     for (const std::string& n : iopf::page_table_format_names()) std::cout << n << "\n";
                     return 0;
                   }});
  cmds->push_back({app.add_subcommand("list-kinds", "print the domain kinds, each with a one-line description"), [] {
                     for (const iopf::DomainKindInfo* k : iopf::domain_kinds())
                       std::cout << k->name << "  " << k->description << "\n";
                     return 0;
                   }});
}

void add_dashboard_commands(CLI::App& app, Options& o, std::vector<Command>* cmds) {
  CLI::App* exp = app.add_subcommand("export", "write a report's metrics in a CI dashboard format");
  exp->add_option("report", o.export_file, "JSON report (iopfsim run --report)")->required();
  exp->add_option("--format", o.export_format, "github-smaller, github-bigger, bencher, gbench or csv")
      ->required()
      ->check(CLI::IsMember(iopf::export_formats()));
  exp->add_option("--out", o.export_out, "write to this file (through a temporary file) instead of standard output");
  cmds->push_back({exp, [&o] {
                     const std::string text =
                         iopf::export_report(iopf::read_report(o.export_file), o.export_file, o.export_format);
                     if (o.export_out.empty()) std::cout << text;
                     else iopf::write_file_atomically(o.export_out, text);
                     return 0;
                   }});

  CLI::App* cmp = app.add_subcommand("compare", "compare two reports; exit 1 when a metric regressed past the threshold");
  cmp->add_option("base", o.cmp_base, "baseline report")->required();
  cmp->add_option("new", o.cmp_new, "new report")->required();
  cmp->add_option("--threshold", o.cmp_threshold, "regression threshold in percent (default 5%)");
  cmds->push_back({cmp, [&o] {
                     return iopf::compare_reports(o.cmp_base, o.cmp_new, iopf::parse_threshold_percent(o.cmp_threshold),
                                                  std::cout);
                   }});
}

// The whole command line; also what a local sweep's child process runs (SweepOptions::run_in_child).
int iopfsim_main(int argc, char** argv) {
  CLI::App app{"iopfsim: discrete-event simulator of I/O page faults (PCIe PRI) and IOTLB/ATS translation"};
  app.set_version_flag("--version", std::string("iopfsim ") + IOPFSIM_VERSION);
  app.require_subcommand(1);
  Options opts;
  std::vector<Command> cmds;
  add_run_commands(app, opts, &cmds);
  add_sweep_commands(app, opts, &cmds);
  add_analyze_command(app, opts, &cmds);
  add_list_commands(app, &cmds);
  add_dashboard_commands(app, opts, &cmds);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (const Command& c : cmds)
      if (*c.app) return c.action();
  } catch (const iopf::InputError& e) {
    std::cerr << "iopfsim: error: " << e.what() << "\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "iopfsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "iopfsim: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) { return iopfsim_main(argc, argv); }
