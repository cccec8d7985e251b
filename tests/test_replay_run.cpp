// A replayed workload end to end: tests/data/replay.json replays tests/data/replay-iommu.txt
// (trace-cmd report text) on a guest that starts absent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "cli_helpers.hpp"

using nlohmann::json;

namespace {

const std::string kData = std::string(IOPFSIM_SOURCE_DIR) + "/tests/data";

TEST(ReplayRun, MapsAndFaultsBecomeDmasUnmapsBecomeZaps) {
  const std::string report = temp_path("replay.json");
  const CmdResult r = run_iopfsim("run " + kData + "/replay.json --checker --quiet --report " + report);
  ASSERT_EQ(r.status, 0) << r.err;
  const json rep = json::parse(slurp(report));
  std::remove(report.c_str());
  const json& path = rep["devices"][0]["paths"][0];
  EXPECT_EQ(path["dma"]["issued"], 7);  // 3 maps and 4 io_page_faults
  EXPECT_EQ(path["dma"]["completed"], 7);
  // 0x100000, 0x101000, 0x200000 (0x200040 joins it), 0x201000; then 0x100000 and 0x101000
  // again after their unmaps zapped them.
  EXPECT_EQ(path["page_requests"], 6);
  EXPECT_EQ(rep["domains"][0]["invalidations_by_reason"]["scripted"]["count"], 3);  // 1 + 2 pages unmapped
  EXPECT_TRUE(rep["checks"]["conservation_ok"].get<bool>());
  EXPECT_EQ(rep["checks"]["stale_translation_uses"], 0);
}

TEST(ReplayRun, MalformedTraceIsBadInputNamingFileAndLine) {
  const std::string dir = temp_path("replay-bad");
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(dir + "/bad.txt") << "cpus=2\n a-1 [0] 1.000001: map: IOMMU: iova=0x1000 - 0x2000 size=4096\n";
  std::string sc = slurp(kData + "/replay.json");
  sc.replace(sc.rfind("replay-iommu.txt"), 16, "bad.txt");  // the workload's, not the comment's
  std::ofstream(dir + "/s.json") << sc;
  const CmdResult r = run_iopfsim("run " + dir + "/s.json --quiet");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("/devices/0/paths/0/workload/replay"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.txt:2: map: expected"), std::string::npos) << r.err;
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
