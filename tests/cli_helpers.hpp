// Runs the iopfsim binary in a child process (one simulation per process) and captures
// its exit status, stdout and stderr.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

struct CmdResult {
  int status = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string temp_path(const std::string& stem) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/iopfsim-test-" + std::to_string(getpid()) + "-" + stem;
}

// args are passed through the shell: quote what needs it. dir: working directory, or "".
// env: "VAR=value " words put before the command, or "".
inline CmdResult run_iopfsim_in(const std::string& dir, const std::string& args, const std::string& env = "") {
  const std::string out = temp_path("stdout"), err = temp_path("stderr");
  const std::string cd = dir.empty() ? "" : "cd '" + dir + "' && ";
  const std::string cmd = cd + env + std::string(IOPFSIM_BIN) + " " + args + " >" + out + " 2>" + err;
  const int rc = std::system(cmd.c_str());
  CmdResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

inline CmdResult run_iopfsim(const std::string& args) { return run_iopfsim_in("", args); }

inline std::string scenario(const std::string& name) {
  return std::string(IOPFSIM_SOURCE_DIR) + "/scenarios/" + name;
}
