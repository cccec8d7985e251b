// iopfsim command line (CLI11 lives in this translation unit only).
// Exit status: 0 success, 2 bad input or usage, 1 internal failure.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "models/pagetable/page_table.hpp"
#include "sim/compare.hpp"
#include "sim/engine.hpp"
#include "sim/export.hpp"
#include "sim/input_error.hpp"
#include "sim/metrics.hpp"
#include "sim/params.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"iopfsim: discrete-event simulator of I/O page faults (PCIe PRI) and IOTLB/ATS translation"};
  app.set_version_flag("--version", std::string("iopfsim ") + IOPFSIM_VERSION);
  app.require_subcommand(1);

  std::string run_file, report_path;
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;
  bool checker = false, quiet = false;
  CLI::App* run = app.add_subcommand("run", "run one scenario, print a summary, optionally write the JSON report");
  run->add_option("scenario", run_file, "scenario JSON file")->required();
  run->add_option("--report", report_path, "write the JSON report to this file");
  run->add_option("--seed", seed, "seed of every random stream (overrides the scenario's)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--set", sets, "override a scenario value: /json/pointer=value (repeatable)");
  run->add_flag("--checker", checker, "turn on the correctness checker (engine.checker)");
  run->add_flag("--quiet", quiet, "print no summary");

  std::vector<std::string> validate_files;
  CLI::App* validate = app.add_subcommand("validate", "check scenario files without running them");
  validate->add_option("scenarios", validate_files, "scenario JSON files")->required();

  CLI::App* params = app.add_subcommand("list-params", "print every scenario parameter, its default and source");
  CLI::App* formats = app.add_subcommand("list-formats", "print the page-table formats");

  std::string export_file, export_format, export_out;
  CLI::App* exp = app.add_subcommand("export", "write a report's metrics in a CI dashboard format");
  exp->add_option("report", export_file, "JSON report (iopfsim run --report)")->required();
  exp->add_option("--format", export_format, "github-smaller, github-bigger, bencher, gbench or csv")
      ->required()
      ->check(CLI::IsMember(iopf::export_formats()));
  exp->add_option("--out", export_out, "write to this file (through a temporary file) instead of standard output");

  std::string cmp_base, cmp_new, cmp_threshold = "5%";
  CLI::App* cmp = app.add_subcommand("compare", "compare two reports; exit 1 when a metric regressed past the threshold");
  cmp->add_option("base", cmp_base, "baseline report")->required();
  cmp->add_option("new", cmp_new, "new report")->required();
  cmp->add_option("--threshold", cmp_threshold, "regression threshold in percent (default 5%)");

  iopf::SweepOptions sweep_opt;
  sweep_opt.jobs = std::max(1u, std::thread::hardware_concurrency());
  CLI::App* sweep = app.add_subcommand("sweep", "run a grid of scenario variations, each in its own process");
  sweep->add_option("sweep", sweep_opt.file, "sweep JSON file (schema iopfsim.sweep/1)")->required();
  sweep->add_option("-j,--jobs", sweep_opt.jobs, "runs at once (default: the number of cores)")->check(CLI::PositiveNumber);
  sweep->add_option("--out", sweep_opt.out_dir, "output directory (default sweep-<name>)");
  sweep->add_flag("--resume", sweep_opt.resume, "skip runs whose report exists for the same scenario hash");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    if (*run) return cmd_run(run_file, report_path, sets, seed, checker, quiet);
    if (*validate) {
      for (const std::string& f : validate_files) {
        iopf::load_scenario(f);
        std::cout << f << ": ok\n";
      }
      return 0;
    }
    if (*exp) {
      const std::string text = iopf::export_report(iopf::read_report(export_file), export_file, export_format);
      if (export_out.empty()) std::cout << text;
      else iopf::write_file_atomically(export_out, text);
      return 0;
    }
    if (*cmp) return iopf::compare_reports(cmp_base, cmp_new, iopf::parse_threshold_percent(cmp_threshold), std::cout);
    if (*sweep) return iopf::run_sweep(sweep_opt);
    if (*params) {
      std::cout << iopf::describe_param_tables();
      return 0;
    }
    if (*formats) {
      for (const std::string& n : iopf::page_table_format_names()) std::cout << n << "\n";
      return 0;
    }
  } catch (const iopf::InputError& e) {
    std::cerr << "iopfsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "iopfsim: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
