// Errors in user input (scenario files, --set overrides, command-line values).
// Every one names the file, the JSON pointer and what was expected; the CLI maps
// them to exit status 2.
#pragma once
#include <stdexcept>
#include <string>

namespace iopf {

class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, const std::string& pointer, const std::string& detail)
      : std::runtime_error(file + ": at " + (pointer.empty() ? std::string("/") : printable(pointer)) + ": " +
                           detail),
        file_(file), pointer_(pointer), detail_(detail) {}
  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  // What was expected and found, without the "file: at pointer: " prefix.
  const std::string& detail() const { return detail_; }

  // A key may hold any character JSON allows, NUL included ("\u0000"); the message shows
  // control characters as \u00XX so that it stays one readable C string.
  static std::string printable(const std::string& s) {
    std::string out;
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7f) {
        out += c;
        continue;
      }
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
    return out;
  }

 private:
  std::string file_;
  std::string pointer_;
  std::string detail_;
};

}  // namespace iopf
