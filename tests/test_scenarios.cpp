// Whole runs of the iopfsim binary on the shipped scenarios, each in its own process,
// with their results checked.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

using nlohmann::json;

namespace {

json run_report(const std::string& scenario_file, const std::string& extra = "") {
  const std::string report = temp_path("report.json");
  const CmdResult r = run_iopfsim("run " + scenario_file + " --checker --report " + report + " " + extra);
  EXPECT_EQ(r.status, 0) << r.err;
  json j = json::parse(slurp(report));
  std::remove(report.c_str());
  return j;
}

// Every run: conservation per path and per device, and the report's required keys.
void check_invariants(const json& r) {
  EXPECT_EQ(r["schema"], "iopfsim.report/1");
  EXPECT_TRUE(r.contains("seed"));
  for (const char* k : {"simulated_ns", "wall_s", "events", "dma_per_wall_s"}) EXPECT_TRUE(r["sim"].contains(k)) << k;
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
  for (const json& d : r["devices"]) {
    for (const char* k : {"issued", "completed", "failed", "bytes", "latency_ns", "throughput"})
      EXPECT_TRUE(d["dma"].contains(k)) << k;
    for (const char* k : {"count", "mean", "min", "p50", "p90", "p99", "p999", "max"})
      EXPECT_TRUE(d["dma"]["latency_ns"].contains(k)) << k;
    EXPECT_TRUE(d["pri"].contains("requests"));
    EXPECT_TRUE(d["pri"].contains("fault_latency_ns"));
    EXPECT_TRUE(d["atc"].contains("hits"));
    uint64_t issued = 0;
    for (const json& p : d["paths"]) {
      const json& m = p["dma"];
      EXPECT_EQ(m["issued"].get<uint64_t>(), m["completed"].get<uint64_t>() + m["failed"].get<uint64_t>())
          << d["name"] << "/" << p["name"];
      issued += m["issued"].get<uint64_t>();
    }
    EXPECT_EQ(issued, d["dma"]["issued"].get<uint64_t>());
    EXPECT_GT(issued, 0u);
  }
  for (const char* k : {"hits", "misses"}) EXPECT_TRUE(r["iommu"]["iotlb"].contains(k));
  for (const json& d : r["domains"])
    for (const char* k : {"name", "kind", "pinned_bytes", "setup_ns", "faults_resolved"}) EXPECT_TRUE(d.contains(k));
}

const json* path_named(const json& dev, const std::string& name) {
  for (const json& p : dev["paths"])
    if (p["name"] == name) return &p;
  return nullptr;
}

}  // namespace

TEST(Scenario, NicPinnedNeverFaults) {
  const json r = run_report(scenario("nic-pinned.json"));
  check_invariants(r);
  const json& nic = r["devices"][0];
  EXPECT_EQ(nic["pri"]["requests"].get<uint64_t>(), 0u);
  EXPECT_EQ(nic["dma"]["failed"].get<uint64_t>(), 0u);
  EXPECT_EQ(nic["dma"]["completed"].get<uint64_t>(), nic["dma"]["issued"].get<uint64_t>());
  const json& dom = r["domains"][0];
  EXPECT_GT(dom["setup_ns"].get<uint64_t>(), 0u);
  // 4 GiB pinned at 1030 ns per 4 KiB page.
  EXPECT_EQ(dom["setup_ns"].get<uint64_t>(), (4ull << 30) / 4096 * 1030);
  EXPECT_EQ(dom["pinned_bytes"].get<uint64_t>(), 4ull << 30);
  EXPECT_EQ(dom["faults_resolved"].get<uint64_t>(), 0u);
  // A 16 B descriptor read: 2 x 250 ns PCIe + 100 ns memory + 2 ns on the link (~600 ns, pcie-bench).
  EXPECT_EQ(path_named(nic, "rx_ring")->at("dma")["latency_ns"]["p50"].get<uint64_t>(), 603u);
}

TEST(Scenario, NicFaultableFaultsOnlyWhereItMay) {
  const json r = run_report(scenario("nic-faultable.json"));
  check_invariants(r);
  const json& nic = r["devices"][0];
  EXPECT_GT(nic["pri"]["requests"].get<uint64_t>(), 0u);
  const json* ring = path_named(nic, "rx_ring");
  const json* payload = path_named(nic, "rx_payload");
  ASSERT_TRUE(ring && payload);
  EXPECT_GT((*ring)["dma"]["failed"].get<uint64_t>(), 0u);  // cannot fault: absent pages fail
  EXPECT_EQ((*ring)["page_requests"].get<uint64_t>(), 0u);
  EXPECT_EQ((*payload)["dma"]["failed"].get<uint64_t>(), 0u);  // tolerant: waits for the page
  EXPECT_GT((*payload)["page_requests"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["domains"][0]["pinned_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["domains"][0]["setup_ns"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["domains"][0]["faults_resolved"].get<uint64_t>(), nic["pri"]["requests"].get<uint64_t>());
  // A fault costs at least the handler's 4 us minor fault plus the 2 us interrupt latency.
  EXPECT_GE(nic["pri"]["fault_latency_ns"]["min"].get<uint64_t>(), 6000u);
}

TEST(Scenario, QuickstartRuns) {
  const json r = run_report(scenario("quickstart.json"));
  check_invariants(r);
  EXPECT_EQ(r["scenario"]["name"], "quickstart");
}

TEST(Scenario, SameSeedSameReportBitForBit) {
  json a = run_report(scenario("quickstart.json"), "--seed 7");
  json b = run_report(scenario("quickstart.json"), "--seed 7");
  json c = run_report(scenario("quickstart.json"), "--seed 8");
  for (json* j : {&a, &b, &c}) {
    (*j)["sim"].erase("wall_s");
    (*j)["sim"].erase("dma_per_wall_s");
  }
  EXPECT_EQ(a.dump(), b.dump());
  EXPECT_EQ(a["seed"].get<uint64_t>(), 7u);
  EXPECT_NE(a.dump(), c.dump());  // the seed reaches the random streams
}

TEST(Scenario, SetOverridesApply) {
  const json r = run_report(scenario("nic-pinned.json"), "--set /devices/0/paths/0/workload/rate=1Mpps --set /duration=1ms");
  const json* ring = path_named(r["devices"][0], "rx_ring");
  EXPECT_EQ((*ring)["dma"]["issued"].get<uint64_t>(), 1000u);  // 1 Mpps for 1 ms
}

TEST(Scenario, SummaryOnStdout) {
  const CmdResult r = run_iopfsim("run " + scenario("nic-pinned.json"));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("seed 1"), std::string::npos);
  EXPECT_NE(r.out.find("rx_ring"), std::string::npos);
  EXPECT_NE(r.out.find("conservation ok"), std::string::npos);
}

TEST(Cli, VersionAndHelp) {
  CmdResult r = run_iopfsim("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("iopfsim"), std::string::npos);
  for (const char* sub : {"run", "validate", "list-params", "list-formats"}) {
    r = run_iopfsim(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
  r = run_iopfsim("validate " + scenario("nic-pinned.json") + " " + scenario("nic-faultable.json"));
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_iopfsim("list-params");
  EXPECT_NE(r.out.find("pin_cost_per_4k"), std::string::npos);
  EXPECT_NE(r.out.find("4d83de6da265"), std::string::npos);  // defaults name their sources
}

TEST(Cli, UsageErrorsExit2) {
  EXPECT_EQ(run_iopfsim("").status, 2);
  EXPECT_EQ(run_iopfsim("frobnicate").status, 2);
  EXPECT_EQ(run_iopfsim("run").status, 2);
  EXPECT_EQ(run_iopfsim("run " + scenario("nic-pinned.json") + " --seed -3").status, 2);
  EXPECT_EQ(run_iopfsim("run " + scenario("nic-pinned.json") + " --bogus").status, 2);
}
