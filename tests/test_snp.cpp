// Issue 11, item 6: kind snp (seed 001, AMD SEV-SNP) through scenarios/snp-bounce-buffers.json
// and small scenarios of its own. Each simulation runs in its own process.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "cli_helpers.hpp"
#include "report_helpers.hpp"

using nlohmann::json;

namespace {

const json& snp_report() {
  static const json r = run_report(scenario("snp-bounce-buffers.json"));
  return r;
}

const json& domain(const std::string& policy) { return named(snp_report()["domains"], "snp-" + policy); }
const json& nic(const std::string& policy) { return named(snp_report()["devices"], "nic-" + policy); }
const json& path_dma(const std::string& policy, const std::string& path) {
  return named(nic(policy)["paths"], path)["dma"];
}
uint64_t failed(const std::string& policy) {
  return path_dma(policy, "bulk")["failed"].get<uint64_t>() + path_dma(policy, "small")["failed"].get<uint64_t>();
}

// A one-domain scenario: kind snp with `policy`, one NIC path `workload`; its report.
json run_one(const std::string& policy, const json& workload, const std::string& format = "amd_v1_4level") {
  json s = {{"schema", "iopfsim.scenario/1"}, {"name", "snp-small"}, {"duration", "1ms"},
            {"domains", {{{"name", "vm"}, {"kind", "snp"}, {"policy", policy}, {"memory", "64MiB"}, {"format", format}}}},
            {"devices", {{{"name", "nic"}, {"domain", "vm"}, {"intolerant_fault", "drop"},
                          {"paths", {{{"name", "p"}, {"workload", workload}}}}}}}};
  const std::string file = temp_path("snp-small.json");
  std::ofstream(file) << s.dump();
  json r = run_report(file);
  std::remove(file.c_str());
  return r;
}

}  // namespace

TEST(Snp, MapAllLargeTakesRmpFaultsOnceRegionsAreSmashed) {
  const json& d = domain("large");
  EXPECT_EQ(d["kind"], "snp");
  EXPECT_EQ(d["policy"], "map_all_large");
  EXPECT_GT(u(d["page_state_changes"]["rmp_smashes"]), 0u);
  EXPECT_GT(u(d["rmp_faults"]), 0u);
  // Every RMP fault is a DMA that failed (the NIC drops it), and nothing else failed.
  EXPECT_EQ(failed("large"), u(d["rmp_faults"]));
  // Each small I/O converts its own 4 KiB page: its region is smashed, its DMA faults.
  EXPECT_EQ(u(path_dma("large", "small")["completed"]), 0u);
  // bulk's 2 MiB batches in regions not yet smashed keep a 2 MiB RMP entry and get through.
  EXPECT_GT(u(path_dma("large", "bulk")["completed"]), 0u);
  EXPECT_GT(u(path_dma("large", "bulk")["failed"]), 0u);
}

TEST(Snp, MapAll4kHasNoRmpFaultAndMoreIotlbMisses) {
  const json& d = domain("4k");
  EXPECT_EQ(u(d["rmp_faults"]), 0u);
  EXPECT_EQ(failed("4k"), 0u);
  EXPECT_GT(u(d["page_state_changes"]["rmp_smashes"]), 0u);
  EXPECT_GT(u(d["iotlb"]["misses"]), 4 * u(domain("large")["iotlb"]["misses"]));
  EXPECT_LT(d["iotlb"]["hit_rate"].get<double>(), domain("large")["iotlb"]["hit_rate"].get<double>());
  for (const char* k : {"maps", "unmaps", "invalidations"}) EXPECT_EQ(u(d["iommu_updates"][k]), 0u) << k;
}

TEST(Snp, SharedOnlyDynamicPaysAMapOrAnUnmapPerConversion) {
  const json& d = domain("dynamic");
  const json& psc = d["page_state_changes"];
  EXPECT_EQ(u(d["rmp_faults"]), 0u);
  EXPECT_EQ(failed("dynamic"), 0u);
  EXPECT_GT(u(psc["count"]), 100u);
  EXPECT_EQ(u(d["iommu_updates"]["maps"]), u(psc["to_shared"]));
  EXPECT_EQ(u(d["iommu_updates"]["unmaps"]), u(psc["to_private"]));
  // One invalidation per request to private, each waited for by the vCPU in its VMGEXIT.
  EXPECT_EQ(u(d["iommu_updates"]["invalidations"]), u(d["traps"]["by_cause"]["unmap"]));
  EXPECT_EQ(u(d["dma_api"]["flushes"]), u(d["iommu_updates"]["invalidations"]));
  EXPECT_GT(u(d["dma_api"]["flush_wait_ns"]), 0u);
  // 2 MiB leaves where the RMP allows: fewer misses than with 4 KiB leaves everywhere.
  EXPECT_GT(u(psc["entries_2m"]), 0u);
  EXPECT_LT(u(d["iotlb"]["misses"]), u(domain("4k")["iotlb"]["misses"]));
  // The other policies change no IOMMU entry at a conversion.
  EXPECT_EQ(u(domain("large")["iommu_updates"]["maps"]), 0u);
  // The same DMA-API calls under both policies (the conversions each made by the window's end
  // differ a little: the slower vCPU is behind).
  EXPECT_EQ(u(d["maps"]["count"]), u(domain("4k")["maps"]["count"]));
  // Mapping and unmapping at the conversion costs the vCPU more than the conversion alone.
  EXPECT_GT(u(d["traps"]["cpu_ns"]), u(domain("4k")["traps"]["cpu_ns"]));
}

TEST(Snp, CheckerFindsNoStaleUse) {
  const json& r = snp_report();
  EXPECT_EQ(u(r["checks"]["stale_translation_uses"]), 0u);
  EXPECT_EQ(u(r["checks"]["stale_permission_uses"]), 0u);
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
}

// A path with no DMA API writes into pages the guest never shared.
TEST(Snp, DmaToPrivatePagesFails) {
  const json w = {{"region_size", "4MiB"}, {"pattern", "random"}, {"access_size", "64B"}, {"op", "write"},
                  {"rate", "100kpps"}};
  const json dyn = run_one("shared_only_dynamic", w);
  const json& dd = dyn["devices"][0]["paths"][0]["dma"];
  EXPECT_GT(u(dd["issued"]), 50u);
  EXPECT_EQ(u(dd["failed"]), u(dd["issued"]));  // unmapped: an IOMMU fault, not an RMP fault
  EXPECT_EQ(u(dyn["domains"][0]["rmp_faults"]), 0u);
  const json all = run_one("map_all_4k", w);
  const json& ad = all["devices"][0]["paths"][0]["dma"];
  EXPECT_EQ(u(ad["failed"]), u(ad["issued"]));  // mapped, but the page is the guest's: RMP fault
  EXPECT_EQ(u(all["domains"][0]["rmp_faults"]), u(ad["issued"]));
}

// A 2 MiB batch converts with one 2 MiB RMP entry each way: nothing smashed, no RMP fault
// even through 2 MiB IOMMU leaves; the same batch in 4 KiB buffers smashes nothing either.
TEST(Snp, WholeRegionConversionsKeepTheLargeRmpEntry) {
  const json w = {{"region_size", "8MiB"}, {"pattern", "sequential"}, {"access_size", "4KiB"}, {"op", "write"},
                  {"rate", "1Mpps"}, {"dma_api", "batched"}, {"dma_batch", 512}};
  const json r = run_one("map_all_large", w);
  const json& d = r["domains"][0];
  EXPECT_EQ(u(d["rmp_faults"]), 0u);
  EXPECT_EQ(u(d["page_state_changes"]["rmp_smashes"]), 0u);
  EXPECT_GT(u(d["page_state_changes"]["entries_2m"]), 0u);
  EXPECT_EQ(u(d["page_state_changes"]["entries_2m"]), u(d["page_state_changes"]["count"]));
  EXPECT_EQ(u(r["devices"][0]["paths"][0]["dma"]["failed"]), 0u);
  EXPECT_GT(u(r["devices"][0]["paths"][0]["dma"]["completed"]), 500u);
  // Batches of 256 (1 MiB) are not whole regions: 4 KiB entries, smashed regions, RMP faults.
  json half = w;
  half["dma_batch"] = 256;
  const json h = run_one("map_all_large", half);
  EXPECT_GT(u(h["domains"][0]["page_state_changes"]["rmp_smashes"]), 0u);
  EXPECT_EQ(u(h["domains"][0]["rmp_faults"]), u(h["devices"][0]["paths"][0]["dma"]["failed"]));
  EXPECT_GT(u(h["domains"][0]["rmp_faults"]), 0u);
}

TEST(Snp, SnpNeedsAnAmdFormat) {
  json s = json::parse(R"({
    "schema": "iopfsim.scenario/1", "name": "snp-vtd", "duration": "1ms",
    "domains": [{"name": "vm", "kind": "snp", "memory": "64MiB", "format": "vtd_ss_4level"}],
    "devices": [{"name": "nic", "domain": "vm",
      "paths": [{"name": "rx", "workload": {"region_size": "1MiB", "access_size": "4KiB", "op": "write",
                                             "rate": "50kpps", "dma_api": "per_io"}}]}]
  })");
  const std::string file = temp_path("snp-vtd.json");
  std::ofstream(file) << s.dump();
  CmdResult v = run_iopfsim("validate " + file);
  EXPECT_EQ(v.status, 2);
  EXPECT_NE(v.err.find("/domains/0/format"), std::string::npos) << v.err;
  s["domains"][0]["format"] = "amd_v1_4level";
  s["domains"][0]["memory"] = "65MiB";
  std::ofstream(file) << s.dump();
  v = run_iopfsim("validate " + file);
  EXPECT_EQ(v.status, 2);
  EXPECT_NE(v.err.find("/domains/0/memory"), std::string::npos) << v.err;
  s["domains"][0]["memory"] = "64MiB";
  s["domains"][0]["policy"] = "map_some";
  std::ofstream(file) << s.dump();
  v = run_iopfsim("validate " + file);
  std::remove(file.c_str());
  EXPECT_EQ(v.status, 2);
  EXPECT_NE(v.err.find("/domains/0/policy"), std::string::npos) << v.err;
}

TEST(Snp, ListKindsShowsSnpFromOneFileAndOneLine) {
  const CmdResult r = run_iopfsim("list-kinds");
  EXPECT_TRUE(std::regex_search(r.out, std::regex("(^|\\n)snp\\b"))) << r.out;
  const std::string dir = std::string(IOPFSIM_SOURCE_DIR) + "/models/domain/";
  const std::string list = slurp(dir + "kinds.cpp");
  EXPECT_TRUE(std::regex_search(slurp(dir + "snp.cpp"), std::regex("const DomainKindInfo kSnpKind\\{\\s*\"snp\"")));
  const std::regex line("KIND\\(kSnpKind\\)");
  EXPECT_EQ(std::distance(std::sregex_iterator(list.begin(), list.end(), line), std::sregex_iterator()), 1);
}
