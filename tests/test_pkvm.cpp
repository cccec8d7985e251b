// Issue 11, item 4: kind hyp_private (seed 002, pKVM with SMMUv3) through
// scenarios/pkvm-map-unmap.json and a small scenario of its own. Each simulation runs in its
// own process.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "cli_helpers.hpp"
#include "report_helpers.hpp"

using nlohmann::json;

namespace {

const json& pkvm_report() {
  static const json r = run_report(scenario("pkvm-map-unmap.json"));
  return r;
}

const json& domain(const json& r, const std::string& name) { return named(r["domains"], name); }
double mean(const json& h) { return h["mean"].get<double>(); }

}  // namespace

TEST(Pkvm, HypercallsSerialiseOnTheHypervisorLock) {
  const json& r = pkvm_report();
  for (const std::string buf : {"4k", "1m"}) {
    const json& one = domain(r, "pkvm-" + buf + "-1t")["hypercalls"];
    const json& four = domain(r, "pkvm-" + buf + "-4t")["hypercalls"];
    EXPECT_GT(u(one["by_kind"]["map_pages"]["count"]), 10u) << buf;
    EXPECT_EQ(u(one["lock_wait_ns"]["max"]), 0u) << buf;  // one thread: nobody holds the lock
    EXPECT_GT(u(four["lock_wait_ns"]["max"]), 0u) << buf;
    EXPECT_GT(mean(four["lock_wait_ns"]), 0.0) << buf;
    for (const char* k : {"alloc_domain", "attach_dev", "detach_dev", "free_domain"})
      EXPECT_EQ(u(one["by_kind"][k]["count"]), 1u) << k;
  }
}

TEST(Pkvm, OneMebibyteMapsCostMorePerCallButLessPerPage) {
  const json& r = pkvm_report();
  const json& small = domain(r, "pkvm-4k-1t")["hypercalls"]["by_kind"];
  const json& large = domain(r, "pkvm-1m-1t")["hypercalls"]["by_kind"];
  for (const char* k : {"map_pages", "unmap_pages"}) {
    EXPECT_GT(mean(large[k]["latency_ns"]), mean(small[k]["latency_ns"])) << k;
    EXPECT_LT(mean(large[k]["latency_ns"]) / 256.0, mean(small[k]["latency_ns"])) << k;
  }
}

TEST(Pkvm, PkvmMapsAndUnmapsAreSlowerThanNative) {
  const json& r = pkvm_report();
  // An unmap's own work, its wait for the IOTLB flush taken out (the flushes of all eight
  // domains share one invalidation queue: how long they wait depends on who else flushes).
  auto unmap_work = [](const json& d) {
    return mean(d["unmaps"]["latency_ns"]) -
           static_cast<double>(u(d["dma_api"]["flush_wait_ns"])) / static_cast<double>(u(d["unmaps"]["count"]));
  };
  for (const std::string c : {"4k-1t", "4k-4t", "1m-1t", "1m-4t"}) {
    const json& p = domain(r, "pkvm-" + c);
    const json& n = domain(r, "native-" + c);
    EXPECT_EQ(p["kind"], "hyp_private");
    EXPECT_GT(mean(p["maps"]["latency_ns"]), mean(n["maps"]["latency_ns"])) << c;
    EXPECT_GT(unmap_work(p), unmap_work(n)) << c;
    EXPECT_GT(mean(p["unmaps"]["latency_ns"]), mean(n["unmaps"]["latency_ns"])) << c;
  }
}

TEST(Pkvm, CheckerFindsNoStaleUse) {
  const json& r = pkvm_report();
  EXPECT_EQ(u(r["checks"]["stale_translation_uses"]), 0u);
  EXPECT_EQ(u(r["checks"]["stale_permission_uses"]), 0u);
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
  for (const json& d : r["devices"]) EXPECT_EQ(u(d["dma"]["failed"]), 0u) << d["name"];
}

TEST(Pkvm, HypPrivateNeedsAnArmFormat) {
  json s = json::parse(R"({
    "schema": "iopfsim.scenario/1", "name": "pkvm-x86", "duration": "1ms",
    "domains": [{"name": "vm", "kind": "hyp_private", "memory": "64MiB", "format": "x86_64_4level"}],
    "devices": [{"name": "nic", "domain": "vm",
      "paths": [{"name": "rx", "workload": {"region_size": "1MiB", "access_size": "4KiB", "op": "write",
                                             "rate": "50kpps", "dma_api": "per_io"}}]}]
  })");
  const std::string file = temp_path("pkvm-x86.json");
  std::ofstream(file) << s.dump();
  const CmdResult v = run_iopfsim("validate " + file);
  std::remove(file.c_str());
  EXPECT_EQ(v.status, 2);
  EXPECT_NE(v.err.find("/domains/0/format"), std::string::npos) << v.err;
}

TEST(Pkvm, ListKindsShowsHypPrivateFromOneFileAndOneLine) {
  const CmdResult r = run_iopfsim("list-kinds");
  EXPECT_TRUE(std::regex_search(r.out, std::regex("(^|\\n)hyp_private\\b"))) << r.out;
  const std::string dir = std::string(IOPFSIM_SOURCE_DIR) + "/models/domain/";
  const std::string list = slurp(dir + "kinds.cpp");
  EXPECT_TRUE(std::regex_search(slurp(dir + "hyp_private.cpp"),
                                std::regex("const DomainKindInfo kHypPrivateKind\\{\\s*\"hyp_private\"")));
  const std::regex line("KIND\\(kHypPrivateKind\\)");
  EXPECT_EQ(std::distance(std::sregex_iterator(list.begin(), list.end(), line), std::sregex_iterator()), 1);
}
