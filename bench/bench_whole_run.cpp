// Whole scenario runs of the built iopfsim binary, timed from outside: each iteration is one
// `iopfsim run SCENARIO --quiet --report FILE` in a child process (fork/exec: SimGrid's engine
// is one per process), wall time measured around it (manual time), so start-up, platform
// building, the simulation and the report are all included. Counters, from the run's report:
//   dma_per_wall_s     sim.dmas / measured wall seconds of the whole process
//   events_per_wall_s  sim.events (SimGrid events) / measured wall seconds
//   sim_wall_s         sim.wall_s: the report's own wall time of the simulation loop alone
//   faults_per_wall_s  page faults resolved (every domain's faults_resolved) / measured wall seconds
//   wall_ns_per_dma    measured wall nanoseconds / sim.dmas (the linearity runs compare it)
// startup: the fixed cost every run pays (see below).
// nic_hits_x1/x10/x100: nic-hits at 1, 10 and 100 times its 100 ms duration (--set
// /duration=...), to show a run's cost is linear in its DMAs (the fixed start-up and report
// cost aside): wall_ns_per_dma should fall towards the loop's own cost, not grow.
// sweep_*: a whole `iopfsim sweep` of a shipped sweep file, -j 1 (chosen: the work of every
// run, not how well this machine's cores overlap them), into a fresh directory each iteration;
// counter runs_per_wall_s = the runs that completed (a report and its sidecar .meta.json) /
// measured wall seconds. overcommit.json exits 1 by design: its pin_all points below the
// guest's size are bad input, rejected before any run.
// Not a test (ctest does not run it); run it as
//   ./build/bench/bench_whole_run --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

// Runs argv to its end with stdout and stderr to /dev/null; returns its exit status.
int run_child(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// One timed iteration: runs args, sets its wall time as the iteration's and returns it; -1
// (the benchmark skipped with an error naming what) when it did not exit with expected_status.
double timed_iteration(benchmark::State& state, const std::vector<std::string>& args, int expected_status,
                       const std::string& what) {
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = run_child(args);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rc != expected_status) {
    state.SkipWithError((what + " exited with " + std::to_string(rc)).c_str());
    return -1;
  }
  state.SetIterationTime(s);
  return s;
}

void BM_WholeRun(benchmark::State& state, const std::string& scenario, const std::string& set = "") {
  const std::string report = "/tmp/iopfsim-bench-" + std::to_string(getpid()) + ".json";
  const std::string file = std::string(IOPFSIM_SOURCE_DIR) + "/scenarios/" + scenario;
  double wall_s = 0, dmas = 0, events = 0, sim_wall_s = 0, faults = 0;
  for (auto _ : state) {
    std::vector<std::string> args{IOPFSIM_BIN, "run", file, "--quiet", "--report", report};
    if (!set.empty()) args.insert(args.end(), {"--set", set});
    const double s = timed_iteration(state, args, 0, "iopfsim run " + scenario);
    if (s < 0) break;
    const nlohmann::json r = nlohmann::json::parse(std::ifstream(report));
    wall_s += s;
    dmas += r["sim"]["dmas"].get<double>();
    events += r["sim"]["events"].get<double>();
    sim_wall_s += r["sim"]["wall_s"].get<double>();
    for (const auto& d : r["domains"]) faults += d["faults_resolved"].get<double>();
  }
  std::remove(report.c_str());
  if (wall_s <= 0) return;
  state.counters["dma_per_wall_s"] = dmas / wall_s;
  state.counters["events_per_wall_s"] = events / wall_s;
  state.counters["faults_per_wall_s"] = faults / wall_s;
  state.counters["wall_ns_per_dma"] = dmas > 0 ? wall_s * 1e9 / dmas : 0;
  state.counters["sim_wall_s"] = benchmark::Counter(sim_wall_s, benchmark::Counter::kAvgIterations);
}

void BM_WholeSweep(benchmark::State& state, const std::string& sweep, int expected_status) {
  const std::string out = "/tmp/iopfsim-bench-sweep-" + std::to_string(getpid());
  const std::string file = std::string(IOPFSIM_SOURCE_DIR) + "/scenarios/sweeps/" + sweep;
  double wall_s = 0, runs = 0;
  for (auto _ : state) {
    std::filesystem::remove_all(out);
    const std::vector<std::string> args{IOPFSIM_BIN, "sweep", file, "-j", "1", "--out", out};
    const double s = timed_iteration(state, args, expected_status, "iopfsim sweep " + sweep);
    if (s < 0) break;
    wall_s += s;
    for (const auto& e : std::filesystem::directory_iterator(out + "/points")) {
      const std::string name = e.path().filename().string();
      runs += name.size() > 10 && name.compare(name.size() - 10, 10, ".meta.json") == 0;
    }
  }
  std::filesystem::remove_all(out);
  if (wall_s > 0) state.counters["runs_per_wall_s"] = runs / wall_s;
}

}  // namespace

// One second or more per run: a few iterations are enough (chosen), repetitions give the spread.
BENCHMARK_CAPTURE(BM_WholeRun, nic_hits, std::string("nic-hits.json"))
    ->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
// The fixed cost of a run: nic-hits for 1 us simulates nothing worth timing, so this is the
// process's start-up (loading libsimgrid and the ns-3 libraries it links, their static
// initialisers), platform building and the report. The runs above include it once each.
BENCHMARK_CAPTURE(BM_WholeRun, startup, std::string("nic-hits.json"), std::string("/duration=1us"))
    ->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);
// Linearity: the same scenario at 1x, 10x and 100x its duration (100x is ~30 s a run: one iteration).
BENCHMARK_CAPTURE(BM_WholeRun, nic_hits_x1, std::string("nic-hits.json"), std::string("/duration=100ms"))
    ->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WholeRun, nic_hits_x10, std::string("nic-hits.json"), std::string("/duration=1s"))
    ->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WholeRun, nic_hits_x100, std::string("nic-hits.json"), std::string("/duration=10s"))
    ->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WholeRun, quickstart, std::string("quickstart.json"))
    ->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WholeRun, sva_accelerator, std::string("sva-accelerator.json"))
    ->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(BM_WholeRun, fault_storm, std::string("fault-storm.json"))
    ->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(BM_WholeSweep, sweep_iotlb_reach, std::string("iotlb-reach.json"), 0)
    ->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WholeSweep, sweep_overcommit, std::string("overcommit.json"), 1)
    ->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
