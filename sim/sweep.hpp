// `iopfsim sweep SWEEP.json [-j N] [--out DIR] [--resume] [--backend local|slurm ...]` and
// `iopfsim sweep --merge DIR`: a grid (or zip) of scenario variations, each point and replica
// run by `iopfsim run` in its own process (SimGrid's engine is one per process), locally or as
// a Slurm job array, merged into points.csv and summary.csv. See sweep.cpp for the sweep file
// format and the output files, sweep_slurm.cpp for the Slurm backend.
#pragma once
#include <string>

namespace iopf {

struct SweepOptions {
  std::string file;     // the sweep file
  unsigned jobs = 1;    // child processes at once
  std::string out_dir;  // "" = sweep-<name> in the working directory
  bool resume = false;  // skip runs whose report exists for the same scenario hash
  std::string backend = "local";  // "local" (child processes here) or "slurm" (a job array)
  // Slurm backend only ("" / 0: the cluster's default).
  std::string partition, account, time_limit;  // sbatch --partition, --account, --time
  unsigned throttle = 0;         // at most this many array tasks at once (sbatch --array=...%K)
  unsigned runs_per_task = 10;   // chosen: a task costs about a second to start (issue 12),
                                 // 10 runs of about a second each keep that near 10 %
  bool no_wait = false;          // submit and return; merge later with merge_dir
  std::string merge_dir;         // `--merge DIR`: merge a submitted Slurm sweep, run nothing
  // Local backend: the program's own command line (main's body). When set, each run's child
  // process calls it with the run's arguments instead of executing the binary again, so a run
  // does not load and initialise SimGrid's libraries anew (about 25 ms a run); when null, or
  // when this process already holds simulation state, the child executes /proc/self/exe.
  int (*run_in_child)(int argc, char** argv) = nullptr;
};

// Returns 0 when every run succeeded, 1 when some failed (listed on stderr and in
// DIR/failed.csv), 2 when every run was rejected as bad input; throws InputError (exit 2) for
// a bad sweep file, naming the file and the JSON pointer.
int run_sweep(const SweepOptions& opt);

}  // namespace iopf
