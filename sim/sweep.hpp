// `iopfsim sweep SWEEP.json [-j N] [--out DIR] [--resume]`: a grid (or zip) of scenario
// variations, each point and replica run by `iopfsim run` in its own child process (SimGrid's
// engine is one per process), merged into points.csv and summary.csv. See sweep.cpp for the
// sweep file format and the output files.
#pragma once
#include <string>

namespace iopf {

struct SweepOptions {
  std::string file;     // the sweep file
  unsigned jobs = 1;    // child processes at once
  std::string out_dir;  // "" = sweep-<name> in the working directory
  bool resume = false;  // skip runs whose report exists for the same scenario hash
};

// Returns 0 when every run succeeded, 1 when some failed (listed on stderr and in
// DIR/failed.csv), 2 when every run was rejected as bad input; throws InputError (exit 2) for
// a bad sweep file, naming the file and the JSON pointer.
int run_sweep(const SweepOptions& opt);

}  // namespace iopf
