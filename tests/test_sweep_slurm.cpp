// `iopfsim sweep --backend slurm` against stand-ins for sbatch and squeue (shell scripts first
// in PATH): the stand-in sbatch records its arguments and runs every array task of the batch
// script one after the other, as Slurm would on one node (or none, to test --no-wait and
// --merge); squeue reports the job gone. The outputs must be the bytes of a local sweep.
// scripts/slurm-test.sh does the same against a real slurmctld and slurmd (ctest label slurm).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_helpers.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kSmall = std::string(IOPFSIM_SOURCE_DIR) + "/tests/data/sweep-small.json";

const char* const kFakeSbatch = R"SH(#!/bin/bash
# Stand-in for sbatch: records its arguments; runs every array task unless FAKE_SBATCH_DEFER is
# set; fails like sbatch when FAKE_SBATCH_FAIL is set.
script="${@: -1}"
echo "$@" >"$FAKE_DIR/sbatch.args"
if [ -n "${FAKE_SBATCH_FAIL:-}" ]; then echo "sbatch: error: invalid partition specified: nope" >&2; exit 1; fi
last=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\).*/\1/p' "$script")
dir=$(sed -n 's/^#SBATCH --chdir="\(.*\)"$/\1/p' "$script")
if [ -z "${FAKE_SBATCH_DEFER:-}" ]; then
  for i in $(seq 0 "$last"); do (cd "$dir" && SLURM_ARRAY_TASK_ID=$i bash "$script") || exit 1; done
fi
echo 4242
)SH";

class SweepSlurm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_path("slurm");
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/bin");
    write_exe(dir_ + "/bin/sbatch", kFakeSbatch);
    write_exe(dir_ + "/bin/squeue", "#!/bin/sh\nexit 0\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  static void write_exe(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    fs::permissions(path, fs::perms::owner_all);
  }
  // iopfsim with the stand-ins first in PATH; env: more VAR=value words.
  CmdResult run(const std::string& args, const std::string& env = "") {
    return run_iopfsim_in("", args, "PATH='" + dir_ + "/bin':\"$PATH\" FAKE_DIR='" + dir_ + "' " + env + " ");
  }
  // Runs array task i of a submitted sweep's batch script, as Slurm would.
  void run_task(const std::string& out, int i) {
    const std::string cmd = "SLURM_ARRAY_TASK_ID=" + std::to_string(i) + " bash " + out + "/slurm/sweep.sbatch";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void expect_same_as_local(const std::string& out) {
    const std::string local = dir_ + "/local";
    if (!fs::exists(local + "/points.csv")) {
      ASSERT_EQ(run_iopfsim("sweep " + kSmall + " -j 2 --out " + local).status, 0);
    }
    for (const char* f : {"points.csv", "summary.csv", "failed.csv"})
      EXPECT_EQ(slurp(local + "/" + f), slurp(out + "/" + f)) << f;
  }
  std::string dir_;
};

TEST_F(SweepSlurm, JobArrayGivesTheLocalBytes) {
  const std::string out = dir_ + "/s";
  const CmdResult r = run("sweep " + kSmall + " --out " + out +
                          " --backend slurm --partition debug --account proj1 --time-limit 10:00 --throttle 2"
                          " --runs-per-task 3");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("Slurm job 4242, 8 runs in 3 array tasks"), std::string::npos) << r.err;
  expect_same_as_local(out);
  const std::string script = slurp(out + "/slurm/sweep.sbatch");
  for (const char* line : {"#SBATCH --array=0-2%2\n", "#SBATCH --partition=debug\n", "#SBATCH --account=proj1\n",
                           "#SBATCH --time=10:00\n", "runs_per_task=3\n"})
    EXPECT_NE(script.find(line), std::string::npos) << line << " not in\n" << script;
  EXPECT_EQ(slurp(dir_ + "/sbatch.args"), "--parsable " + out + "/slurm/sweep.sbatch\n");
  std::ifstream tasks(out + "/slurm/tasks.txt");
  size_t n = 0;
  for (std::string l; std::getline(tasks, l); ++n) EXPECT_EQ(l.rfind("run_one '", 0), 0u) << l;
  EXPECT_EQ(n, 8u);

  // --resume after a complete sweep submits nothing.
  fs::remove(dir_ + "/sbatch.args");
  const CmdResult again = run("sweep " + kSmall + " --out " + out + " --backend slurm --resume");
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("0 run, 8 resumed"), std::string::npos) << again.err;
  EXPECT_FALSE(fs::exists(dir_ + "/sbatch.args"));
  expect_same_as_local(out);
}

TEST_F(SweepSlurm, NoWaitThenMergeListsRunsWithoutStatus) {
  const std::string out = dir_ + "/d";
  const CmdResult r = run("sweep " + kSmall + " --out " + out + " --backend slurm --runs-per-task 4 --no-wait",
                          "FAKE_SBATCH_DEFER=1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("--merge " + out), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out + "/points.csv"));
  run_task(out, 0);  // task 1 (runs 5 to 8) has not run yet
  CmdResult m = run("sweep --merge " + out);
  EXPECT_EQ(m.status, 1) << m.err;
  const std::string failed = slurp(out + "/failed.csv");
  EXPECT_EQ(std::count(failed.begin(), failed.end(), '\n'), 5) << failed;  // header + 4 runs
  EXPECT_NE(failed.find("no exit status from its Slurm array task 1 (cancelled, timed out or not started; see " + out +
                        "/slurm/task-1.out)"),
            std::string::npos)
      << failed;
  run_task(out, 1);
  m = run("sweep --merge " + out);
  ASSERT_EQ(m.status, 0) << m.err;
  expect_same_as_local(out);
  m = run("sweep --merge " + out);  // merging again changes nothing
  ASSERT_EQ(m.status, 0) << m.err;
  expect_same_as_local(out);
}

TEST_F(SweepSlurm, BadOptionsExit2AndSbatchFailureExits1) {
  const std::string out = dir_ + "/b";
  CmdResult r = run("sweep " + kSmall + " --out " + out + " --throttle 2");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--throttle needs --backend slurm"), std::string::npos) << r.err;
  r = run("sweep " + kSmall + " --out " + out + " --backend slurm --time-limit soon");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--time-limit"), std::string::npos) << r.err;
  r = run("sweep " + kSmall + " --out " + out + " --backend lsf");
  EXPECT_EQ(r.status, 2) << r.err;
  r = run("sweep " + kSmall + " --merge " + out);
  EXPECT_EQ(r.status, 2) << r.err;
  r = run("sweep --merge " + dir_ + "/never-submitted");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("never-submitted/slurm/plan.json"), std::string::npos) << r.err;
  r = run("sweep " + kSmall + " --out " + out + " --backend slurm --runs-per-task 0");
  EXPECT_EQ(r.status, 2) << r.err;
  r = run("sweep " + kSmall + " --out " + out + " --backend slurm --partition nope", "FAKE_SBATCH_FAIL=1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("invalid partition specified: nope"), std::string::npos) << r.err;
}

}  // namespace
