// A SimGrid engine for a test of the SimGrid side (sim/): the program's configuration that
// matters to it (surf/precision), quiet logs, and, under the sanitizer build, thread contexts
// (raw contexts switch stacks behind ASan's back). One per process: ctest runs each TEST in
// its own.
#pragma once
#include <simgrid/s4u.hpp>

#include <string>
#include <vector>

namespace iopf::test {

class SimTestEngine {
 public:
  SimTestEngine() : args_(make_args()), argv_(make_argv(&args_)), argc_(static_cast<int>(args_.size())), e_(&argc_, argv_.data()) {}
  simgrid::s4u::Engine& engine() { return e_; }

 private:
  static std::vector<std::string> make_args() {
    std::vector<std::string> a{"sim_unit_tests", "--cfg=surf/precision:1e-12", "--log=root.thresh:warning"};
#ifdef IOPFSIM_SANITIZE
    a.push_back("--cfg=contexts/factory:thread");
#endif
    return a;
  }
  static std::vector<char*> make_argv(std::vector<std::string>* args) {
    std::vector<char*> v;
    for (std::string& s : *args) v.push_back(s.data());
    v.push_back(nullptr);
    return v;
  }
  std::vector<std::string> args_;
  std::vector<char*> argv_;
  int argc_;
  simgrid::s4u::Engine e_;
};

}  // namespace iopf::test
