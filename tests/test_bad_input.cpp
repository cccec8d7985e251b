// Bad input: each case breaks one thing in a valid scenario and checks that `validate`
// (and `run`) exit with status 2 and name the file and the JSON pointer of the problem.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>

#include "cli_helpers.hpp"

using nlohmann::json;

namespace {

json base() {
  return json::parse(R"({
    "schema": "iopfsim.scenario/1",
    "name": "base",
    "duration": "100us",
    "domains": [{"name": "vm", "kind": "shared_tdp", "memory": "1GiB"}],
    "devices": [{
      "name": "nic", "domain": "vm", "ats": true, "pri": true,
      "paths": [{"name": "p", "fault_tolerant": true,
                 "workload": {"region_size": "1MiB", "rate": "1Mpps"}}]
    }]
  })");
}

struct Case {
  const char* label;
  std::function<void(json&)> mutate;
  const char* pointer;  // must appear in the error message
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

std::string write_temp(const json& j, const std::string& stem) {
  const std::string path = temp_path(stem + ".json");
  std::ofstream(path) << j.dump(2);
  return path;
}

class BadInput : public ::testing::TestWithParam<Case> {};

TEST_P(BadInput, Exit2WithFileAndPointer) {
  const Case& c = GetParam();
  json j = base();
  c.mutate(j);
  const std::string file = write_temp(j, c.label);
  const CmdResult v = run_iopfsim("validate " + file);
  EXPECT_EQ(v.status, 2) << c.label << ": " << v.err;
  EXPECT_NE(v.err.find(file), std::string::npos) << v.err;
  EXPECT_NE(v.err.find(std::string("at ") + c.pointer + ":"), std::string::npos)
      << "expected pointer " << c.pointer << " in: " << v.err;
  // run refuses it the same way and leaves no report behind.
  const std::string report = temp_path(std::string(c.label) + "-report.json");
  const CmdResult r = run_iopfsim("run " + file + " --report " + report);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(slurp(report).empty());
  std::remove(file.c_str());
}

const Case kCases[] = {
    {"unknown_top_key", [](json& j) { j["colour"] = "blue"; }, "/colour"},
    {"wrong_schema", [](json& j) { j["schema"] = "iopfsim.scenario/9"; }, "/schema"},
    {"missing_name", [](json& j) { j.erase("name"); }, "/"},
    {"duration_units", [](json& j) { j["duration"] = "10 parsecs"; }, "/duration"},
    {"duration_type", [](json& j) { j["duration"] = true; }, "/duration"},
    {"seed_negative", [](json& j) { j["seed"] = -1; }, "/seed"},
    {"host_cores_zero", [](json& j) { j["host"]["cores"] = 0; }, "/host/cores"},
    {"host_unknown", [](json& j) { j["host"]["ram"] = "1GiB"; }, "/host/ram"},
    {"iotlb_geometry", [](json& j) { j["iommu"]["iotlb"]["entries_4k"] = 96; }, "/iommu/iotlb/entries_4k"},
    {"iotlb_policy", [](json& j) { j["iommu"]["iotlb"]["policy"] = "random"; }, "/iommu/iotlb/policy"},
    {"walk_cache_ways", [](json& j) { j["iommu"]["walk_cache"]["entries"] = 100; }, "/iommu/walk_cache/entries"},
    {"engine_quantum", [](json& j) { j["engine"]["quantum"] = "0ns"; }, "/engine/quantum"},
    {"domains_not_array", [](json& j) { j["domains"] = json::object(); }, "/domains"},
    {"domains_empty", [](json& j) { j["domains"] = json::array(); }, "/domains"},
    {"domain_kind", [](json& j) { j["domains"][0]["kind"] = "wishful"; }, "/domains/0/kind"},
    {"domain_format", [](json& j) { j["domains"][0]["format"] = "sparc_srmmu"; }, "/domains/0/format"},
    {"domain_memory_align", [](json& j) { j["domains"][0]["memory"] = 5000; }, "/domains/0/memory"},
    {"domain_memory_format_limit", [](json& j) { j["domains"][0]["format"] = "vtd_ss_3level"; j["domains"][0]["memory"] = "1TiB"; }, "/domains/0/memory"},
    {"domain_page_size", [](json& j) { j["domains"][0]["page_size"] = "8KiB"; }, "/domains/0/page_size"},
    {"domain_fraction", [](json& j) { j["domains"][0]["resident_fraction"] = 1.5; }, "/domains/0/resident_fraction"},
    {"domain_duplicate", [](json& j) { j["domains"].push_back(j["domains"][0]); }, "/domains/1/name"},
    {"pinned_with_fraction", [](json& j) { j["domains"][0]["kind"] = "pinned"; j["domains"][0]["resident_fraction"] = 0.5; }, "/domains/0/resident_fraction"},
    {"device_domain_ref", [](json& j) { j["devices"][0]["domain"] = "vm9"; }, "/devices/0/domain"},
    {"device_pri_without_ats", [](json& j) { j["devices"][0]["ats"] = false; }, "/devices/0/pri"},
    {"device_ats_type", [](json& j) { j["devices"][0]["ats"] = "yes"; }, "/devices/0/ats"},
    {"device_unknown", [](json& j) { j["devices"][0]["sriov"] = true; }, "/devices/0/sriov"},
    {"device_bandwidth", [](json& j) { j["devices"][0]["pcie_bandwidth"] = "fast"; }, "/devices/0/pcie_bandwidth"},
    {"device_pasid_range", [](json& j) { j["devices"][0]["pasid"] = 1 << 20; }, "/devices/0/pasid"},
    {"atc_without_ats", [](json& j) { j["devices"][0]["ats"] = false; j["devices"][0]["pri"] = false; j["devices"][0]["atc"] = {{"entries_4k", 8}}; }, "/devices/0/atc"},
    {"atc_unknown", [](json& j) { j["devices"][0]["atc"]["size"] = 8; }, "/devices/0/atc/size"},
    {"paths_missing", [](json& j) { j["devices"][0].erase("paths"); }, "/devices/0"},
    {"path_duplicate", [](json& j) { j["devices"][0]["paths"].push_back(j["devices"][0]["paths"][0]); }, "/devices/0/paths/1/name"},
    {"workload_missing", [](json& j) { j["devices"][0]["paths"][0].erase("workload"); }, "/devices/0/paths/0"},
    {"workload_both_loops", [](json& j) { j["devices"][0]["paths"][0]["workload"]["outstanding"] = 4; }, "/devices/0/paths/0/workload"},
    {"workload_rate", [](json& j) { j["devices"][0]["paths"][0]["workload"]["rate"] = "fast"; }, "/devices/0/paths/0/workload/rate"},
    {"workload_pattern", [](json& j) { j["devices"][0]["paths"][0]["workload"]["pattern"] = "zigzag"; }, "/devices/0/paths/0/workload/pattern"},
    {"workload_access_pow2", [](json& j) { j["devices"][0]["paths"][0]["workload"]["access_size"] = 48; }, "/devices/0/paths/0/workload/access_size"},
    {"workload_outside_domain", [](json& j) { j["devices"][0]["paths"][0]["workload"]["region_base"] = "1GiB"; }, "/devices/0/paths/0/workload/region_size"},
    {"workload_op", [](json& j) { j["devices"][0]["paths"][0]["workload"]["op"] = "readwrite"; }, "/devices/0/paths/0/workload/op"},
    {"comment_type", [](json& j) { j["comment"] = 42; }, "/comment"},
    {"pinned_overcommit", [](json& j) { j["domains"][0]["kind"] = "pinned"; j["host"]["memory"] = "512MiB"; }, "/host/memory"},
    {"pin_all_overcommit", [](json& j) { j["domains"][0]["policy"] = "pin_all"; j["host"]["memory"] = "512MiB"; }, "/host/memory"},
    {"allow_list_overcommit", [](json& j) { j["domains"][0]["policy"] = "allow_list"; j["devices"][0]["paths"][0]["fault_tolerant"] = false; j["host"]["memory"] = "512MiB"; }, "/host/memory"},
    {"policy_on_pinned", [](json& j) { j["domains"][0]["kind"] = "pinned"; j["domains"][0]["policy"] = "fault_all"; }, "/domains/0/policy"},
    {"intolerant_action", [](json& j) { j["devices"][0]["intolerant_fault"] = "explode"; }, "/devices/0/intolerant_fault"},
    {"prq_overflow_mode", [](json& j) { j["iommu"]["prq_overflow"] = "panic"; }, "/iommu/prq_overflow"},
};

INSTANTIATE_TEST_SUITE_P(Cases, BadInput, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.label); });

TEST(BadInputFile, NotJsonAndMissing) {
  const std::string file = temp_path("broken.json");
  std::ofstream(file) << "{ \"schema\": ";
  CmdResult r = run_iopfsim("validate " + file);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos);
  std::remove(file.c_str());
  r = run_iopfsim("validate /nonexistent/scenario.json");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("/nonexistent/scenario.json"), std::string::npos);
}

TEST(BadInputFile, BadOverride) {
  const std::string file = write_temp(base(), "override");
  CmdResult r = run_iopfsim("run " + file + " --set /devices/3/name=x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("/devices/3/name"), std::string::npos) << r.err;
  r = run_iopfsim("run " + file + " --set /devices/0/paths/0/workload/rate=slow");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("/devices/0/paths/0/workload/rate"), std::string::npos) << r.err;
  r = run_iopfsim("run " + file + " --set nopointer");
  EXPECT_EQ(r.status, 2);
  std::remove(file.c_str());
}

}  // namespace

namespace {

// validate reports every error of a file: independent parts are read apart.
TEST(BadInputFile, EveryErrorOfAFileIsReported) {
  json j = base();
  j["host"]["cores"] = 0;
  j["iommu"]["prq_overflow"] = "panic";
  j["engine"]["quantum"] = "0ns";
  j["domains"][0]["format"] = "sparc_srmmu";
  const std::string file = write_temp(j, "many-errors");
  const CmdResult v = run_iopfsim("validate " + file);
  EXPECT_EQ(v.status, 2);
  for (const char* ptr : {"/host/cores", "/iommu/prq_overflow", "/engine/quantum", "/domains/0/format"})
    EXPECT_NE(v.err.find(std::string("at ") + ptr + ":"), std::string::npos) << ptr << " in: " << v.err;
  EXPECT_NE(v.err.find("(and 3 more)"), std::string::npos) << v.err;
  std::remove(file.c_str());
}

}  // namespace
