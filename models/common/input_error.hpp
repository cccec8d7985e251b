// Errors in user input (scenario files, --set overrides, command-line values).
// Every one names the file, the JSON pointer and what was expected; the CLI maps
// them to exit status 2.
#pragma once
#include <stdexcept>
#include <string>

namespace iopf {

class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, const std::string& pointer, const std::string& what)
      : std::runtime_error(file + ": at " + (pointer.empty() ? std::string("/") : pointer) + ": " + what),
        file_(file), pointer_(pointer) {}
  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }

 private:
  std::string file_;
  std::string pointer_;
};

}  // namespace iopf
