// Random streams are named by their owners: distinct owners get distinct streams, in any
// scenario the loader accepts, and the loader refuses a scenario where two would collide.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "models/common/rng.hpp"
#include "models/common/streams.hpp"
#include "sim/scenario.hpp"

using nlohmann::json;
using namespace iopf;

TEST(Streams, FieldsAreSeparatedAndTagsKeepKindsApart) {
  EXPECT_NE(streams::path("ab", "c"), streams::path("a", "bc"));
  EXPECT_NE(streams::migration("vm"), streams::collapse("vm"));
  EXPECT_NE(streams::domain_setup("vm"), streams::scripted_source("vm"));
  EXPECT_NE(streams::vcpu("vm", 1), streams::vcpu("vm1", 0));
  EXPECT_EQ(streams::path("nic", "rx"), streams::path("nic", "rx"));  // a function of identity only
}

TEST(Streams, FirstCollisionFindsEqualIds) {
  EXPECT_EQ(streams::first_collision({1, 2, 3}), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(streams::first_collision({5, 2, 9, 2}), std::make_pair(size_t{1}, size_t{3}));
}

// The old numbering gave device 40's first path stream 1000 + 100 x 40 = 5000, the first
// scripted source's. A scenario at the loader's limits (64 domains, each with up to 4096
// vCPUs, many devices, paths and sources) loads, which means check_streams_distinct found
// every one of its streams distinct, and those two streams differ.
TEST(Streams, EveryStreamOfALargeScenarioIsDistinct) {
  json s = {{"schema", "iopfsim.scenario/1"}, {"name", "many"}, {"domains", json::array()},
            {"devices", json::array()}, {"invalidations", json::array()}};
  for (int d = 0; d < 64; ++d)
    s["domains"].push_back({{"name", "vm" + std::to_string(d)}, {"kind", "shared_tdp"}, {"memory", "1GiB"},
                            {"vcpus", 4096}});
  for (int i = 0; i < 64; ++i) {
    json paths = json::array();
    for (int p = 0; p < 8; ++p)
      paths.push_back({{"name", "p" + std::to_string(p)}, {"fault_tolerant", true},
                       {"workload", {{"region_size", "4KiB"}, {"rate", "1Mpps"}}}});
    s["devices"].push_back({{"name", "dev" + std::to_string(i)}, {"domain", "vm" + std::to_string(i % 64)},
                            {"ats", true}, {"pri", true}, {"paths", paths}});
    s["invalidations"].push_back({{"name", "src" + std::to_string(i)}, {"domain", "vm0"}, {"rate", 1000}});
  }
  const Scenario sc = parse_scenario(s, "many.json");
  EXPECT_EQ(sc.devices.size(), 64u);
  EXPECT_NE(streams::path("dev40", "p0"), streams::scripted_source("src0"));
  Rng a(1, streams::path("dev40", "p0")), b(1, streams::scripted_source("src0"));
  EXPECT_NE(a.next(), b.next());
}
