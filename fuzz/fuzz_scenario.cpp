// libFuzzer target: the scenario loader and validator, in process (no SimGrid).
// Any bytes as scenario text must give a Scenario or an InputError; anything else (another
// exception, a crash, a sanitizer report, a hang) is a bug. Two passes per input:
//   1. load from text: parse_scenario_json (bounded depth, pointers in errors) + parse_scenario;
//   2. the input, if it is a JSON object, merged (RFC 7386) into a valid base scenario, so
//      mutations reach the checks behind the schema and reference checks.
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
  nlohmann::json doc;
  try {
    doc = iopf::parse_scenario_json(text, "fuzz.json");
    iopf_fuzz::check_invariants(iopf::parse_scenario(doc, "fuzz.json"));
  } catch (const iopf::InputError&) {
  }
  if (!doc.is_object()) return 0;
  nlohmann::json merged = iopf_fuzz::base_scenario();
  merged.merge_patch(doc);
  try {
    iopf_fuzz::check_invariants(iopf::parse_scenario(merged, "fuzz-merged.json"));
  } catch (const iopf::InputError&) {
  }
  return 0;
}
