// iopfsim command line (CLI11 lives in this translation unit only).
// Exit status: 0 success, 2 bad input or usage, 1 internal failure.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "models/domain/kinds.hpp"
#include "models/pagetable/page_table.hpp"
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

#ifndef IOPFSIM_VERSION
#define IOPFSIM_VERSION "0.0.0"
#endif

namespace {

int cmd_run(const std::string& file, const std::string& report_path, const std::vector<std::string>& sets,
            const std::optional<uint64_t>& seed, bool checker, bool quiet) {
  iopf::Scenario sc = iopf::load_scenario(file, sets);
  if (seed) sc.seed = *seed;
  if (checker) sc.engine.checker = true;
  iopf::System sys(sc);
  const iopf::EngineStats st = iopf::run_engine(sys);
  const nlohmann::json report = iopf::make_report(sys, st);
  if (!report_path.empty()) {
    // Written whole or not at all: a failed run leaves no report that looks like a result.
    const std::string tmp = report_path + ".tmp";
    {
      std::ofstream out(tmp);
      if (!out) throw iopf::InputError(report_path, "", "cannot open the report file for writing");
      out << report.dump(2) << "\n";
      if (!out) throw std::runtime_error("writing " + tmp + " failed");
    }
    if (std::rename(tmp.c_str(), report_path.c_str()) != 0) throw std::runtime_error("renaming " + tmp + " failed");
  }
  if (!quiet) std::cout << iopf::format_summary(report);
  const nlohmann::json& checks = report["checks"];
  const bool ok = checks["conservation_ok"].get<bool>() &&
                  (!checks.contains("stale_translation_uses") || checks["stale_translation_uses"].get<uint64_t>() == 0);
  if (!ok) std::cerr << "iopfsim: a correctness check failed (see checks in the report)\n";
  return ok ? 0 : 1;
}

// A subcommand and what it does once the command line is parsed.
struct Command {
  CLI::App* app;
  std::function<int()> action;
};

// Every option value, kept alive for the actions.
struct Options {
  std::string run_file, report_path;
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;
  bool checker = false, quiet = false;
  std::vector<std::string> validate_files;
  std::string export_file, export_format, export_out;
  std::string cmp_base, cmp_new, cmp_threshold = "5%";
  iopf::SweepOptions sweep;
};

void add_run_commands(CLI::App& app, Options& o, std::vector<Command>* cmds) {
  CLI::App* run = app.add_subcommand("run", "run one scenario, print a summary, optionally write the JSON report");
  run->add_option("scenario", o.run_file, "scenario JSON file")->required();
  run->add_option("--report", o.report_path, "write the JSON report to this file");
  run->add_option("--seed", o.seed, "seed of every random stream (overrides the scenario's)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--set", o.sets, "override a scenario value: /json/pointer=value (repeatable)");
  run->add_flag("--checker", o.checker, "turn on the correctness checker (engine.checker)");
  run->add_flag("--quiet", o.quiet, "print no summary");
  cmds->push_back({run, [&o] { return cmd_run(o.run_file, o.report_path, o.sets, o.seed, o.checker, o.quiet); }});

  CLI::App* validate = app.add_subcommand("validate", "check scenario files without running them");
  validate->add_option("scenarios", o.validate_files, "scenario JSON files")->required();
  cmds->push_back({validate, [&o] {
                     for (const std::string& f : o.validate_files) {
                       iopf::load_scenario(f);
                       std::cout << f << ": ok\n";
                     }
                     return 0;
                   }});

}

void add_sweep_commands(CLI::App& app, Options& o, std::vector<Command>* cmds) {
  o.sweep.jobs = std::max(1u, std::thread::hardware_concurrency());
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"iopfsim: discrete-event simulator of I/O page faults (PCIe PRI) and IOTLB/ATS translation"};
  app.set_version_flag("--version", std::string("iopfsim ") + IOPFSIM_VERSION);
  app.require_subcommand(1);
  Options opts;
  std::vector<Command> cmds;
  add_run_commands(app, opts, &cmds);
  add_sweep_commands(app, opts, &cmds);
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
  } catch (const std::exception& e) {
    std::cerr << "iopfsim: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
