// The Slurm backend of `iopfsim sweep`: the same planned runs as the local backend (same ids,
// seeds, overrides, scenario hashes and file names: sim/sweep_plan.hpp), executed as a Slurm
// job array, merged by the same code, so points.csv, summary.csv and failed.csv are the same
// bytes as a local sweep's.
//
// In DIR/slurm/ it writes:
// - tasks.txt: one line per run to execute, a shell command
//   `run_one STATUS_FILE HASH LOG_FILE /path/to/iopfsim run BASE --quiet --seed S --report R
//   --set P=V...` with every word single-quoted;
// - sweep.sbatch: the batch script. Array task i runs lines i*N+1 .. i*N+N of tasks.txt one
//   after the other (N = --runs-per-task: a Slurm task costs about a second to start, so several
//   runs share one), each run's stderr to DIR/points/ID.stderr as locally, and its exit status to
//   DIR/points/ID.status as "HASH STATUS" (HASH: the run's scenario hash, so a status left by an
//   older submission is never taken for this one's). #SBATCH lines carry --array=0-(T-1)[%K],
//   --chdir (the submitting directory: the runs see the same relative paths as local runs),
//   --output DIR/slurm/task-%a.out, and --partition, --account, --time when given;
// - plan.json: what `--merge DIR` needs to plan the same runs again (the sweep file as given,
//   its hash, the working directory, the output directory as given) and the job id.
//
// Then `sbatch --parsable sweep.sbatch`, and, unless --no-wait, `squeue -h -j JOB` every poll
// (0.5 s growing by half up to 10 s, chosen) until the job has left the queue (or every run
// has its status), then the merge. A run without a status (its task was cancelled, timed out,
// or never started) is failed with exit status 1 and a message naming its task's output file.
// The executable, the base scenario and DIR must be visible at the same paths on the compute
// nodes (a shared file system), as with any Slurm job.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "models/common/input_error.hpp"
#include "sim/metrics.hpp"
#include "sim/sweep.hpp"
#include "sim/sweep_plan.hpp"

namespace iopf {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxArrayTasks = 1001;  // Slurm's default MaxArraySize (slurm.conf(5))
const char* const kCommandLine = "command line";

std::string shell_quote(const std::string& s) {
  if (s.find('\n') != std::string::npos) throw InputError(kCommandLine, "", "a path or value with a newline: " + s);
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A value of an #SBATCH line: sbatch reads double quotes and backslash escapes there (not a shell).
std::string sbatch_quote(const std::string& s) {
  if (s.find('\n') != std::string::npos) throw InputError(kCommandLine, "", "a path or value with a newline: " + s);
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

std::string status_path(const sweep::Plan& plan, const sweep::Run& run) {
  return (plan.dir / "points" / (run.id + ".status")).string();
}

struct Captured {
  int status = -1;   // exit status (127 when the program cannot be executed)
  std::string text;  // standard output and standard error together
};

// Runs argv[0] (looked up in PATH) with argv, standard output and error captured.
Captured capture(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    const int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) dup2(nul, STDIN_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "cannot execute %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  Captured c;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    c.text.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return c;
}

void check_options(const SweepOptions& opt) {
  static const std::regex time_re(R"(^(\d+|\d+:\d+|\d+:\d+:\d+|\d+-\d+|\d+-\d+:\d+|\d+-\d+:\d+:\d+|UNLIMITED|INFINITE)$)");
  static const std::regex name_re(R"(^[A-Za-z0-9_.,+-]*$)");
  if (!std::regex_match(opt.time_limit, time_re) && !opt.time_limit.empty())
    throw InputError(kCommandLine, "--time-limit",
                     "expected a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS), found \"" +
                         opt.time_limit + "\"");
  if (!std::regex_match(opt.partition, name_re))
    throw InputError(kCommandLine, "--partition", "expected a partition name, found \"" + opt.partition + "\"");
  if (!std::regex_match(opt.account, name_re))
    throw InputError(kCommandLine, "--account", "expected an account name, found \"" + opt.account + "\"");
  if (opt.runs_per_task < 1) throw InputError(kCommandLine, "--runs-per-task", "expected at least 1");
}

// DIR/slurm/tasks.txt: one shell command per run to execute.
std::string task_lines(const sweep::Plan& plan) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string text;
  for (size_t i : plan.todo) {
    const sweep::Run& run = plan.runs[i];
    std::vector<std::string> args = sweep::run_args(run, plan.sweep);
    args[0] = exe;
    text += "run_one " + shell_quote(status_path(plan, run)) + " " + shell_quote(run.hash) + " " + shell_quote(run.log);
    for (const std::string& a : args) text += " " + shell_quote(a);
    text += "\n";
  }
  return text;
}

std::string sbatch_script(const sweep::Plan& plan, const SweepOptions& opt, size_t tasks, const fs::path& sdir) {
  std::ostringstream o;
  o << "#!/bin/bash\n"
    << "#SBATCH --job-name=" << sbatch_quote("iopfsim-" + plan.sweep.name) << "\n"
    << "#SBATCH --array=0-" << tasks - 1 << (opt.throttle ? "%" + std::to_string(opt.throttle) : "") << "\n"
    << "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n"
    << "#SBATCH --chdir=" << sbatch_quote(fs::current_path().string()) << "\n"
    << "#SBATCH --output=" << sbatch_quote((sdir / "task-%a.out").string()) << "\n";
  if (!opt.partition.empty()) o << "#SBATCH --partition=" << opt.partition << "\n";
  if (!opt.account.empty()) o << "#SBATCH --account=" << opt.account << "\n";
  if (!opt.time_limit.empty()) o << "#SBATCH --time=" << opt.time_limit << "\n";
  o << "# Written by iopfsim sweep --backend slurm (see sim/sweep_slurm.cpp): array task i runs lines\n"
    << "# i*N+1 .. i*N+N of tasks.txt, each one `iopfsim run`, and writes \"HASH STATUS\" to its status file.\n"
    << "set -u\n"
    << "runs_per_task=" << opt.runs_per_task << "\n"
    << "tasks=" << shell_quote((sdir / "tasks.txt").string()) << "\n"
    << "run_one() {  # run_one STATUS_FILE HASH LOG_FILE COMMAND...\n"
    << "  local status_file=$1 hash=$2 log=$3\n"
    << "  shift 3\n"
    << "  \"$@\" </dev/null >/dev/null 2>\"$log\"\n"
    << "  local st=$?\n"
    << "  printf '%s %d\\n' \"$hash\" \"$st\" >\"$status_file.tmp\" && mv -f \"$status_file.tmp\" \"$status_file\"\n"
    << "}\n"
    << "first=$(( SLURM_ARRAY_TASK_ID * runs_per_task + 1 ))\n"
    << "last=$(( first + runs_per_task - 1 ))\n"
    << "while IFS= read -r line; do eval \"$line\"; done < <(sed -n \"${first},${last}p\" \"$tasks\")\n";
  return o.str();
}

// How many of plan's todo runs have a status from this submission, and how many failed.
std::pair<size_t, size_t> count_statuses(const sweep::Plan& plan) {
  size_t done = 0, failed = 0;
  for (size_t i : plan.todo) {
    std::istringstream in(sweep::read_text(status_path(plan, plan.runs[i])));
    std::string hash;
    int st = -1;
    if (in >> hash >> st && hash == plan.runs[i].hash) ++done, failed += st != 0;
  }
  return {done, failed};
}

// Polls squeue until the job has left the queue or every run has its status.
void wait_for_job(const sweep::Plan& plan, const std::string& job) {
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  auto last_ok = t0;
  double poll_s = 0.5;  // chosen: fast for small sweeps, growing by half up to 10 s
  for (;;) {
    const auto [done, failed] = count_statuses(plan);
    const auto now = std::chrono::steady_clock::now();
    if (tty) {
      const double el = std::chrono::duration<double>(now - t0).count();
      const double left = static_cast<double>(plan.todo.size() - done);
      const std::string eta = done ? sweep::format_eta(el / static_cast<double>(done) * left) : "?";
      std::fprintf(stderr, "\rsweep %s (Slurm job %s): %zu/%zu runs done, %zu failed, ETA %s   ",
                   plan.sweep.name.c_str(), job.c_str(), done, plan.todo.size(), failed, eta.c_str());
    }
    if (done == plan.todo.size()) break;
    const Captured q = capture({"squeue", "-h", "-j", job, "-o", "%i"});
    if (q.status == 0 && q.text.find_first_not_of(" \n") == std::string::npos) break;
    if (q.status != 0 && q.text.find("Invalid job id") != std::string::npos) break;
    if (q.status == 0) last_ok = now;
    else if (std::chrono::duration<double>(now - last_ok).count() > 300)  // chosen: 5 minutes of failures
      throw std::runtime_error("squeue kept failing (" + q.text + "); Slurm job " + job +
                               " may still run: merge later with iopfsim sweep --merge " + plan.dir.string());
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
    poll_s = std::min(10.0, poll_s * 1.5);
  }
  if (tty) std::fprintf(stderr, "\n");
}

// Every submitted run takes its status from its status file, or fails as not run; task_of:
// run id -> its array task.
void collect(sweep::Plan* plan, const std::map<std::string, size_t>& task_of) {
  for (size_t i : plan->todo) {
    sweep::Run& run = plan->runs[i];
    std::istringstream in(sweep::read_text(status_path(*plan, run)));
    std::string hash;
    int st = -1;
    if (in >> hash >> st && hash == run.hash) {
      sweep::finish_run(&run, st);
      continue;
    }
    run.status = 1;
    const auto t = task_of.find(run.id);
    if (t == task_of.end()) {
      run.message = "not submitted to Slurm (submit the sweep again with --resume)";
      continue;
    }
    const std::string task = std::to_string(t->second);
    run.message = "no exit status from its Slurm array task " + task + " (cancelled, timed out or not started; see " +
                  (plan->dir / "slurm" / ("task-" + task + ".out")).string() + ")";
  }
}

std::string sweep_file_hash(const std::string& file) {
  return std::to_string(std::hash<std::string>{}(sweep::read_text(file)));
}

}  // namespace

int submit_slurm_sweep(sweep::Plan* plan, const SweepOptions& opt) {
  check_options(opt);
  const size_t tasks = (plan->todo.size() + opt.runs_per_task - 1) / opt.runs_per_task;
  if (tasks > kMaxArrayTasks)
    throw InputError(kCommandLine, "--runs-per-task",
                     std::to_string(tasks) + " array tasks exceed Slurm's default MaxArraySize (1001, slurm.conf(5)); "
                     "raise --runs-per-task");
  const fs::path sdir = fs::absolute(plan->dir / "slurm");
  fs::create_directories(sdir);
  std::error_code ec;
  for (size_t i : plan->todo) fs::remove(status_path(*plan, plan->runs[i]), ec);
  json meta = {{"sweep_file", plan->sweep.file},     {"sweep_hash", sweep_file_hash(plan->sweep.file)},
               {"cwd", fs::current_path().string()}, {"out_dir", plan->dir.string()},
               {"runs_per_task", opt.runs_per_task},
               {"submitted", json::array()}, {"job", ""}};
  std::map<std::string, size_t> task_of;
  for (size_t k = 0; k < plan->todo.size(); ++k) {
    meta["submitted"].push_back(plan->runs[plan->todo[k]].id);
    task_of[plan->runs[plan->todo[k]].id] = k / opt.runs_per_task;
  }
  std::string job;
  if (tasks > 0) {
    write_file_atomically((sdir / "tasks.txt").string(), task_lines(*plan));
    write_file_atomically((sdir / "sweep.sbatch").string(), sbatch_script(*plan, opt, tasks, sdir));
    const Captured c = capture({"sbatch", "--parsable", (sdir / "sweep.sbatch").string()});
    std::istringstream lines(c.text);
    for (std::string l; std::getline(lines, l);)
      if (!l.empty()) job = l.substr(0, l.find(';'));
    if (c.status != 0 || job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
      throw std::runtime_error("sbatch failed (exit status " + std::to_string(c.status) + "): " + c.text);
    meta["job"] = job;
    std::cerr << "iopfsim sweep " << plan->sweep.name << ": Slurm job " << job << ", " << plan->todo.size()
              << " runs in " << tasks << " array tasks\n";
  }
  write_file_atomically((sdir / "plan.json").string(), meta.dump(1) + "\n");
  if (opt.no_wait && tasks > 0) {
    std::cerr << "iopfsim sweep: submitted; merge when it is done with: iopfsim sweep --merge " << plan->dir.string()
              << "\n";
    return 0;
  }
  if (tasks > 0) wait_for_job(*plan, job);
  collect(plan, task_of);
  return sweep::merge_sweep(*plan);
}

int merge_slurm_sweep(const std::string& dir) {
  const std::string plan_file = (fs::path(dir) / "slurm" / "plan.json").string();
  json meta;
  try {
    meta = json::parse(sweep::read_text(plan_file));
  } catch (const json::exception&) {
    throw InputError(plan_file, "", "expected the plan.json of a sweep submitted with --backend slurm");
  }
  const fs::path abs_dir = fs::absolute(dir);
  const std::string cwd = meta.value("cwd", ""), out_dir = meta.value("out_dir", "");
  // Plan again exactly as at submission: the same relative paths, hence the same messages.
  if (chdir(cwd.c_str()) != 0) throw InputError(plan_file, "/cwd", "cannot enter " + cwd + ": " + std::strerror(errno));
  std::error_code ec;
  if (!fs::equivalent(abs_dir, fs::path(out_dir), ec))
    throw InputError(plan_file, "/out_dir", "the sweep was written to " + out_dir + " from " + cwd + ", not to " + dir);
  const std::string file = meta.value("sweep_file", "");
  if (sweep_file_hash(file) != meta.value("sweep_hash", ""))
    throw InputError(file, "", "the sweep file changed since it was submitted; submit it again");
  sweep::Plan plan = sweep::plan_sweep(file, out_dir, true, true);
  std::map<std::string, size_t> task_of;
  const size_t per = std::max<size_t>(1, meta.value("runs_per_task", size_t{1}));
  const json ids = meta.value("submitted", json::array());
  for (size_t k = 0; k < ids.size(); ++k) task_of[ids[k].get<std::string>()] = k / per;
  collect(&plan, task_of);
  return sweep::merge_sweep(plan);
}

}  // namespace iopf
