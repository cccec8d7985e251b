// The parts of a sweep that every backend shares (sim/sweep.cpp): the parsed sweep file, the
// planned runs (ids, seeds, overrides, scenario hashes, file names), the check of each point,
// what a finished run leaves behind, and the merge into points.csv, summary.csv and
// failed.csv. The local backend (sweep.cpp) and the Slurm backend (sweep_slurm.cpp) differ
// only in how the planned runs get executed. Included by those two files only.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace iopf::sweep {

struct Axis {
  std::string name, pointer;
  std::vector<nlohmann::json> values;
};

struct Sweep {
  std::string file, name, scenario;  // scenario: path usable from the working directory
  bool zip = false, checker = false;
  int64_t replicas = 1;
  std::vector<Axis> axes;
};

struct Run {
  size_t point = 0;
  int64_t replica = 0;
  std::string id;
  uint64_t seed = 0;
  std::vector<std::string> sets;
  std::string hash;
  std::string report, meta, log;
  int status = -1;  // exit status; -1 not run yet
  bool resumed = false;
  std::string message;
};

// A sweep ready to run: runs in point order (replicas innermost); todo = indices of the runs
// to execute (neither bad input nor kept by --resume).
struct Plan {
  Sweep sweep;
  std::filesystem::path dir;
  std::vector<std::vector<size_t>> points;  // one value index per axis
  std::vector<Run> runs;
  std::vector<size_t> todo;
  size_t resumed = 0, invalid_points = 0;
};

// Parses the sweep file (InputError, exit 2, when bad), creates DIR/points and plans every
// run; resume keeps runs whose report exists for the same scenario hash. Unless keep_files
// (a merge), the report and sidecar of every run to execute are removed first.
Plan plan_sweep(const std::string& file, const std::string& out_dir, bool resume, bool keep_files = false);

// The argument vector of one run (argv[0] = "iopfsim"; the caller picks the executable).
std::vector<std::string> run_args(const Run& run, const Sweep& s);

// A run ended with exit_status: writes its sidecar when it succeeded, else keeps its message.
void finish_run(Run* run, int exit_status);

// Writes points.csv, summary.csv and failed.csv, prints the closing line; returns the sweep's
// exit status (0 all ran, 1 some failed, 2 every point was bad input).
int merge_sweep(const Plan& plan);

std::string read_text(const std::string& path);
std::string format_eta(double seconds);

}  // namespace iopf::sweep

namespace iopf {
struct SweepOptions;
// sweep_slurm.cpp: submits plan's todo runs as a job array, waits (unless no_wait) and merges.
int submit_slurm_sweep(sweep::Plan* plan, const SweepOptions& opt);
// Merges DIR of a submitted Slurm sweep (iopfsim sweep --merge DIR).
int merge_slurm_sweep(const std::string& dir);
}  // namespace iopf
