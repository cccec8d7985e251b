// Issue 11, items 1-3: the guest driver's DMA API, and the nested and shadow domain kinds
// (seed 004), through scenarios/vtd-nested-vs-shadow.json and small scenarios of their own.
// Each simulation runs in its own process.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "cli_helpers.hpp"
#include "report_helpers.hpp"

using nlohmann::json;

namespace {

json run_json(const json& scenario, const std::string& stem, const std::string& extra = "") {
  const std::string file = temp_path(stem + ".json");
  std::ofstream(file) << scenario.dump();
  json j = run_report(file, extra);
  std::remove(file.c_str());
  return j;
}

// The shipped scenario's report, run once for the tests that read it.
const json& vtd_report() {
  static const json r = run_report(scenario("vtd-nested-vs-shadow.json"));
  return r;
}

const json& domain(const json& r, const std::string& name) { return named(r["domains"], name); }

// One guest domain of `kind` with a NIC whose one path maps every buffer (per_io).
json small(const std::string& kind, const json& workload_extra) {
  json s = json::parse(R"({
    "schema": "iopfsim.scenario/1", "name": "dma-api", "duration": "1ms",
    "domains": [{"name": "vm", "memory": "64MiB"}],
    "devices": [{"name": "nic", "domain": "vm",
      "paths": [{"name": "rx", "workload": {"region_size": "1MiB", "access_size": "2KiB", "op": "write",
                                             "rate": "50kpps", "dma_api": "per_io"}}]}]
  })");
  s["domains"][0]["kind"] = kind;
  if (workload_extra.is_object()) s["devices"][0]["paths"][0]["workload"].update(workload_extra);
  return s;
}

}  // namespace

TEST(VtdNestedShadow, ShadowTrapsOnEveryMapAndUnmapNestedOnlyOnUnmapFlushes) {
  const json& r = vtd_report();
  for (const char* name : {"shadow-strict", "shadow-lazy"}) {
    const json& d = domain(r, name);
    EXPECT_GT(u(d["maps"]["count"]), 1000u) << name;
    EXPECT_EQ(u(d["traps"]["by_cause"]["map"]), u(d["maps"]["count"])) << name;
    EXPECT_EQ(u(d["traps"]["by_cause"]["unmap"]), u(d["unmaps"]["count"])) << name;
    EXPECT_EQ(u(d["dma_api"]["max_pinned_pages"]) > 0, true) << name;
  }
  for (const char* name : {"nested-strict", "nested-lazy"}) {
    const json& d = domain(r, name);
    EXPECT_GT(u(d["maps"]["count"]), 1000u) << name;
    EXPECT_EQ(u(d["traps"]["by_cause"]["map"]), 0u) << name;
    EXPECT_EQ(u(d["traps"]["by_cause"]["unmap"]), 0u) << name;
    EXPECT_EQ(u(d["traps"]["by_cause"]["flush"]), u(d["dma_api"]["flushes"])) << name;
    EXPECT_EQ(u(d["traps"]["count"]), u(d["traps"]["by_cause"]["flush"])) << name;
  }
  // Strict nested: one flush trap per unmap.
  EXPECT_EQ(u(domain(r, "nested-strict")["traps"]["by_cause"]["flush"]),
            u(domain(r, "nested-strict")["unmaps"]["count"]));
}

TEST(VtdNestedShadow, LazyTrapsFewerFlushesThanStrict) {
  const json& r = vtd_report();
  for (const std::string kind : {"nested", "shadow"}) {
    const json& strict = domain(r, kind + "-strict");
    const json& lazy = domain(r, kind + "-lazy");
    EXPECT_LT(u(lazy["dma_api"]["flushes"]) * 10, u(strict["dma_api"]["flushes"])) << kind;
    EXPECT_GT(u(lazy["dma_api"]["flush_queue_flushes"]), 0u) << kind;
    EXPECT_EQ(u(strict["dma_api"]["flush_queue_flushes"]), 0u) << kind;
  }
  EXPECT_LT(u(domain(r, "nested-lazy")["traps"]["by_cause"]["flush"]) * 10,
            u(domain(r, "nested-strict")["traps"]["by_cause"]["flush"]));
  EXPECT_LT(u(domain(r, "nested-lazy")["traps"]["count"]), u(domain(r, "nested-strict")["traps"]["count"]));
}

TEST(VtdNestedShadow, CheckerFindsNoStaleUseAndDmasAreConserved) {
  const json& r = vtd_report();
  EXPECT_EQ(u(r["checks"]["stale_translation_uses"]), 0u);
  EXPECT_EQ(u(r["checks"]["stale_permission_uses"]), 0u);
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
  EXPECT_EQ(u(r["checks"]["uses_checked"]), u(r["sim"]["dmas"]));  // every DMA checked
  for (const json& d : r["devices"]) EXPECT_EQ(u(d["dma"]["failed"]), 0u) << d["name"];
}

TEST(VtdNestedShadow, ShadowCostsMoreVcpuTimePerIoThanNested) {
  const json& r = vtd_report();
  auto cpu_per_io = [&](const std::string& name) {
    const json& d = domain(r, name);
    return static_cast<double>(u(d["dma_api"]["cpu_ns"])) / static_cast<double>(u(d["maps"]["count"]));
  };
  EXPECT_GT(cpu_per_io("shadow-strict"), cpu_per_io("nested-strict"));
  EXPECT_GT(cpu_per_io("shadow-lazy"), cpu_per_io("nested-lazy"));
  EXPECT_GT(cpu_per_io("nested-strict"), cpu_per_io("nested-lazy"));
}

TEST(VtdNestedShadow, SameSeedSameReport) {
  json s = small("nested", {{"dma_flush", "lazy"}, {"dma_fq_entries", 16}});
  json a = run_json(s, "same-a"), b = run_json(s, "same-b");
  for (json* j : {&a, &b}) {
    (*j)["sim"].erase("wall_s");
    (*j)["sim"].erase("dma_per_wall_s");
    (*j)["scenario"].erase("file");
  }
  EXPECT_EQ(a, b);
}

TEST(VtdNestedShadow, PageRequestsOnGiovaAreAnsweredInvalid) {
  // No DMA API: the device addresses gIOVAs the guest never mapped, and asks for the pages.
  json s = small("nested", {});
  json& dev = s["devices"][0];
  dev["ats"] = true;
  dev["pri"] = true;
  dev["paths"][0]["fault_tolerant"] = true;
  dev["paths"][0]["workload"].erase("dma_api");
  const json r = run_json(s, "giova");
  EXPECT_GT(u(r["devices"][0]["pri"]["responses"]["invalid"]), 0u);
  EXPECT_EQ(u(r["devices"][0]["pri"]["responses"]["success"]), 0u);
  EXPECT_EQ(u(r["devices"][0]["dma"]["completed"]), 0u);
  EXPECT_GT(u(r["devices"][0]["paths"][0]["dma"]["failed_by"]["pri_invalid"]), 0u);
}

TEST(VtdNestedShadow, BatchedMapsOncePerBatchAndDmaDirectNeverFlushes) {
  const json b = run_json(small("shadow", {{"dma_api", "batched"}, {"dma_batch", 16}}), "batched");
  const json& d = b["domains"][0];
  EXPECT_EQ(u(d["maps"]["pages"]), 16 * u(d["maps"]["count"]));
  EXPECT_EQ(u(d["traps"]["by_cause"]["map"]), u(d["maps"]["count"]));
  EXPECT_GE(u(d["maps"]["pages"]), u(b["devices"][0]["dma"]["issued"]));
  // Without a vIOMMU (dma-direct) the DMA API maps nothing the IOMMU sees: no flush, no trap.
  const json p = run_json(small("pinned", {}), "direct");
  const json& pd = p["domains"][0];
  EXPECT_GT(u(pd["maps"]["count"]), 0u);
  EXPECT_EQ(u(pd["dma_api"]["flushes"]), 0u);
  EXPECT_FALSE(pd.contains("traps"));
  EXPECT_EQ(u(p["devices"][0]["dma"]["failed"]), 0u);
}

TEST(VtdNestedShadow, DmaApiKeysAreCheckedAtLoad) {
  auto refused = [](const json& s, const std::string& pointer) {
    const std::string file = temp_path("bad-dma.json");
    std::ofstream(file) << s.dump();
    const CmdResult v = run_iopfsim("validate " + file);
    std::remove(file.c_str());
    EXPECT_EQ(v.status, 2) << pointer;
    EXPECT_NE(v.err.find(pointer), std::string::npos) << v.err;
  };
  refused(small("nested", {{"dma_batch", 8}}), "/devices/0/paths/0/workload/dma_batch");
  refused(small("nested", {{"dma_fq_entries", 8}}), "/devices/0/paths/0/workload/dma_fq_entries");
  refused(small("nested", {{"dma_api", "sometimes"}}), "/devices/0/paths/0/workload/dma_api");
  json closed = small("nested", {{"outstanding", 4}});
  closed["devices"][0]["paths"][0]["workload"].erase("rate");
  refused(closed, "/devices/0/paths/0/workload/dma_api");
}

TEST(VtdNestedShadow, ListKindsShowsNestedAndShadow) {
  const CmdResult r = run_iopfsim("list-kinds");
  EXPECT_EQ(r.status, 0);
  for (const char* k : {"pinned", "shared_tdp", "nested", "shadow"})
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string("(^|\\n)") + k + "\\b"))) << k << "\n" << r.out;
}

TEST(VtdNestedShadow, EachKindIsOneFilePlusOneLineInTheList) {
  const std::string dir = std::string(IOPFSIM_SOURCE_DIR) + "/models/domain/";
  const std::string list = slurp(dir + "kinds.cpp");
  for (const char* k : {"nested", "shadow"}) {
    const std::string file = slurp(dir + k + ".cpp");
    std::smatch m;  // the file defines the kind's DomainKindInfo, named by the kind
    ASSERT_TRUE(std::regex_search(file, m, std::regex(std::string("const DomainKindInfo (k\\w+Kind)\\{\\s*\"") + k + "\"")))
        << k;
    const std::string info = m[1];
    const std::regex line("KIND\\(" + info + "\\)");
    EXPECT_EQ(std::distance(std::sregex_iterator(list.begin(), list.end(), line), std::sregex_iterator()), 1) << info;
  }
}
