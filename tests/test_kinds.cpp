// Domain kinds as plug-ins: the list, the lookup, and the pin plans the policies make
// (read through the real loader, in process: no SimGrid here).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "models/common/input_error.hpp"
#include "models/common/params.hpp"
#include "models/domain/kinds.hpp"
#include "sim/scenario.hpp"

using nlohmann::json;
using namespace iopf;

namespace {

// A domain of 1 GiB with a NIC: a ring path that cannot fault at [0, 64 KiB) and a payload
// path that can at [1 MiB, 2 MiB), plus a second device's path at [32 KiB, 96 KiB).
json scenario_with(const json& domain_extra, bool second_device = true) {
  json dom = {{"name", "vm"}, {"memory", "1GiB"}};
  dom.update(domain_extra);
  json s = {{"schema", "iopfsim.scenario/1"},
            {"name", "kinds"},
            {"domains", json::array({dom})},
            {"devices", json::array()}};
  s["devices"].push_back({{"name", "nic"}, {"domain", "vm"}, {"ats", true}, {"pri", true},
                          {"paths", {{{"name", "ring"}, {"workload", {{"region_size", "64KiB"}, {"rate", "1Mpps"}}}},
                                     {{"name", "payload"}, {"fault_tolerant", true},
                                      {"workload", {{"region_base", "1MiB"}, {"region_size", "1MiB"}, {"rate", "1Mpps"}}}}}}});
  if (second_device)
    s["devices"].push_back({{"name", "nvme"}, {"domain", "vm"},
                            {"paths", {{{"name", "sq"},
                                        {"workload", {{"region_base", "32KiB"}, {"region_size", "64KiB"}, {"rate", "1Mpps"}}}}}}});
  return s;
}

PinPlan plan_of(const json& s) { return pin_plan(parse_scenario(s, "test.json"), 0); }

}  // namespace

TEST(DomainKinds, ListedOnceEachAndFoundByName) {
  std::set<std::string> names;
  for (const DomainKindInfo* k : domain_kinds()) {
    EXPECT_TRUE(names.insert(k->name).second) << k->name;
    EXPECT_EQ(find_domain_kind(k->name), k);
    ASSERT_NE(k->params, nullptr);
    EXPECT_NE(std::string(k->params->object).find(k->name), std::string::npos);
    EXPECT_GT(std::string(k->description).size(), 10u);
  }
  EXPECT_TRUE(names.count("pinned"));
  EXPECT_TRUE(names.count("shared_tdp"));
  EXPECT_EQ(find_domain_kind("wishful"), nullptr);
}

TEST(DomainKinds, UnknownKindListsTheKnownOnes) {
  try {
    parse_scenario(scenario_with({{"kind", "wishful"}}), "test.json");
    FAIL() << "accepted an unknown kind";
  } catch (const InputError& e) {
    EXPECT_EQ(e.pointer(), "/domains/0/kind");
    EXPECT_NE(std::string(e.what()).find("pinned|shared_tdp"), std::string::npos) << e.what();
  }
}

TEST(DomainKinds, KeysOfAnotherKindAreRefused) {
  try {
    parse_scenario(scenario_with({{"kind", "pinned"}, {"vcpus", 2}}), "test.json");
    FAIL() << "accepted a shared_tdp key on a pinned domain";
  } catch (const InputError& e) {
    EXPECT_EQ(e.pointer(), "/domains/0/vcpus");
  }
}

TEST(PinPlans, PinnedPinsEverything) {
  const PinPlan p = plan_of(scenario_with({{"kind", "pinned"}}));
  EXPECT_TRUE(p.all);
  EXPECT_EQ(p.bytes, 1ULL << 30);
}

TEST(PinPlans, FaultAllPinsNothing) {
  const PinPlan p = plan_of(scenario_with({{"kind", "shared_tdp"}, {"policy", "fault_all"}}));
  EXPECT_FALSE(p.all);
  EXPECT_TRUE(p.ranges.empty());
  EXPECT_EQ(p.bytes, 0u);
}

TEST(PinPlans, PinIntolerantPathsPinsMergedRegionsOfPathsThatCannotFault) {
  const PinPlan p = plan_of(scenario_with({{"kind", "shared_tdp"}, {"policy", "pin_intolerant_paths"}}));
  EXPECT_FALSE(p.all);
  // The ring [0, 64K) and the NVMe queue [32K, 96K) merge; the payload path faults.
  ASSERT_EQ(p.ranges.size(), 1u);
  EXPECT_EQ(p.ranges[0], std::make_pair(uint64_t{0}, uint64_t{96} << 10));
  EXPECT_EQ(p.bytes, uint64_t{96} << 10);
}

TEST(PinPlans, AllowListPinsAllUnlessEveryPathToleratesFaults) {
  EXPECT_TRUE(plan_of(scenario_with({{"kind", "shared_tdp"}, {"policy", "allow_list"}})).all);
  json s = scenario_with({{"kind", "shared_tdp"}, {"policy", "allow_list"}}, false);
  s["devices"][0]["paths"][0]["fault_tolerant"] = true;
  EXPECT_FALSE(plan_of(s).all);
}
