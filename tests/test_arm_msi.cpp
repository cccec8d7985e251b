// Issue 11, item 7: the Arm MSI doorbell (seed 000) in a faultable shared_tdp domain, through
// scenarios/arm-msi-doorbell.json. Each simulation runs in its own process.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "cli_helpers.hpp"
#include "report_helpers.hpp"

using nlohmann::json;

namespace {

const json& msi_report() {
  static const json r = run_report(scenario("arm-msi-doorbell.json"));
  return r;
}

}  // namespace

TEST(ArmMsi, MappedDoorbellTakesEveryMsiWhileTheHostTakesPagesAway) {
  const json& r = msi_report();
  EXPECT_GT(u(r["host"]["reclaimed_pages"]), 0u);  // the host took guest pages away meanwhile
  const json& dom = named(r["domains"], "doorbell-mapped");
  EXPECT_GT(u(dom["thp_splits"]), 0u);
  EXPECT_EQ(dom["msi_doorbell"]["state"], "mapped");
  EXPECT_GE(u(dom["msi_doorbell"]["iova"]), u(dom["memory_bytes"]));  // outside guest memory
  const json& msi = named(r["devices"], "nic-mapped")["msi"];
  EXPECT_GT(u(msi["writes"]), 100u);
  EXPECT_EQ(u(msi["faults"]), 0u);
  EXPECT_GT(u(msi["latency_ns"]["count"]), 0u);
  // The checker saw every MSI's translation and never a stale one: the slot was never zapped.
  EXPECT_EQ(u(r["checks"]["stale_translation_uses"]), 0u);
  EXPECT_EQ(u(r["checks"]["stale_permission_uses"]), 0u);
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
}

TEST(ArmMsi, UnmappedDoorbellMakesEveryMsiFault) {
  const json& r = msi_report();
  const json& msi = named(r["devices"], "nic-unmapped")["msi"];
  EXPECT_GT(u(msi["faults"]), 100u);
  EXPECT_EQ(u(msi["writes"]), 0u);
  // One MSI per 64 DMAs completed, either way.
  const json& dev = named(r["devices"], "nic-mapped");
  EXPECT_EQ(u(dev["msi"]["writes"]), u(dev["dma"]["completed"]) / 64);
}

TEST(ArmMsi, MsisNeedAnArmSharedTdpDomain) {
  json s = json::parse(R"({
    "schema": "iopfsim.scenario/1", "name": "msi-x86", "duration": "1ms",
    "domains": [{"name": "vm", "kind": "shared_tdp", "memory": "64MiB"}],
    "devices": [{"name": "nic", "domain": "vm", "msi_every_dmas": 8,
      "paths": [{"name": "rx", "workload": {"region_size": "1MiB", "rate": "50kpps"}}]}]
  })");
  const std::string file = temp_path("msi-x86.json");
  std::ofstream(file) << s.dump();
  const CmdResult v = run_iopfsim("validate " + file);
  std::remove(file.c_str());
  EXPECT_EQ(v.status, 2);
  EXPECT_NE(v.err.find("/devices/0/msi_every_dmas"), std::string::npos) << v.err;
}
