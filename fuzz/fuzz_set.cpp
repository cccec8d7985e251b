// libFuzzer target: --set overrides applied to a valid base scenario, then validated, in
// process (no SimGrid). Each input line is one "/json/pointer=value" as given on the command
// line. Only a Scenario or an InputError may come out.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_common.hpp"
#include "models/common/input_error.hpp"
#include "models/common/params.hpp"
#include "sim/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc = iopf_fuzz::base_scenario();
  try {
    size_t start = 0;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      const std::string line = text.substr(start, nl - start);
      if (!line.empty()) iopf::apply_override(doc, "fuzz.json", line);
      start = nl + 1;
    }
    iopf_fuzz::check_invariants(iopf::parse_scenario(doc, "fuzz.json"));
  } catch (const iopf::InputError&) {
  }
  return 0;
}
