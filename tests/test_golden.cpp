// Golden reports: every scenario in scenarios/ is run (its own process, seed as in the file,
// --checker) and its report compared key by key with tests/golden/<scenario>.json, the
// wall-clock fields aside. They guard refactorings: a change of behaviour shows here as the
// JSON pointer of the first difference. scripts/update-golden.sh regenerates them on purpose.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "cli_helpers.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = IOPFSIM_SOURCE_DIR;

std::vector<std::string> stems(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

void strip_wall_clock(json* r) {
  (*r)["sim"].erase("wall_s");
  (*r)["sim"].erase("dma_per_wall_s");
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, ReportMatchesGoldenFile) {
  const std::string name = GetParam();
  const std::string report = temp_path("golden-" + name + ".json");
  // Run from the source tree with the relative path, as update-golden.sh does, so that the
  // report's scenario.file is the same.
  const CmdResult r = run_iopfsim_in(kSource.string(), "run scenarios/" + name + ".json --checker --quiet --report " + report);
  ASSERT_EQ(r.status, 0) << r.err;
  json got = json::parse(slurp(report));
  std::remove(report.c_str());
  strip_wall_clock(&got);
  const json want = json::parse(slurp((kSource / "tests/golden" / (name + ".json")).string()));
  const json patch = json::diff(want, got);
  if (patch.empty()) return;
  const json& first = patch[0];
  const std::string ptr = first["path"].get<std::string>();
  const json::json_pointer jp(ptr);
  ADD_FAILURE() << name << ": report differs from tests/golden/" << name << ".json in " << patch.size()
                << " place(s); first at " << ptr << ": golden " << (want.contains(jp) ? want[jp].dump() : "(absent)")
                << ", now " << (got.contains(jp) ? got[jp].dump() : "(absent)")
                << "\n(regenerate on purpose with scripts/update-golden.sh and say why in the commit message)";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, Golden, ::testing::ValuesIn(stems(kSource / "scenarios")),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string s = i.param;
                           std::replace_if(s.begin(), s.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
                           return s;
                         });

TEST(GoldenFiles, OnePerScenarioAndNoOrphans) {
  EXPECT_EQ(stems(kSource / "scenarios"), stems(kSource / "tests/golden"));
}

}  // namespace
