// Calibration: the default platform against the published figures the defaults come from,
// each with its stated range (the sources are named beside the defaults; iopfsim list-params).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "cli_helpers.hpp"

using nlohmann::json;

namespace {

json run(const json& scenario, const std::string& stem) {
  const std::string file = temp_path(stem + ".json"), report = temp_path(stem + "-report.json");
  std::ofstream(file) << scenario.dump();
  const CmdResult r = run_iopfsim("run " + file + " --checker --quiet --report " + report);
  EXPECT_EQ(r.status, 0) << r.err;
  json j = json::parse(slurp(report));
  std::remove(file.c_str());
  std::remove(report.c_str());
  return j;
}

// One device reading 64 B over a region of `region` bytes, in a domain of `kind`.
json reader(const std::string& kind, const std::string& region, const std::string& pattern, bool ats = false) {
  json s = {{"schema", "iopfsim.scenario/1"}, {"name", "calibration"}, {"duration", "2ms"},
            {"domains", {{{"name", "vm"}, {"kind", kind}, {"memory", "1GiB"}, {"page_size", "4KiB"}}}},
            {"devices", {{{"name", "dev"}, {"domain", "vm"}, {"ats", ats}, {"pri", ats},
                          {"paths", {{{"name", "rd"}, {"fault_tolerant", ats},
                                      {"workload", {{"region_size", region}, {"pattern", pattern},
                                                    {"access_size", "64B"}, {"rate", "200kpps"}}}}}}}}}};
  return s;
}

uint64_t p50(const json& r) { return r["devices"][0]["dma"]["latency_ns"]["p50"].get<uint64_t>(); }

}  // namespace

// pcie-bench (Neugebauer et al., SIGCOMM 2018): a 64 B DMA read round trip, PCIe Gen3 x8,
// about 600 ns median.
TEST(Calibration, DmaRead64BAbout600ns) {
  const uint64_t ns = p50(run(reader("pinned", "64KiB", "sequential"), "read64"));
  RecordProperty("dma_read_64B_p50_ns", std::to_string(ns));  // in --gtest_output=xml, for notes
  EXPECT_GE(ns, 550u);
  EXPECT_LE(ns, 650u);
}

// pcie-bench: random 64 B reads past the IOTLB's reach with 4 KiB pages add 226 to 293 ns.
TEST(Calibration, IotlbMissAdds226To293ns) {
  const uint64_t hit = p50(run(reader("pinned", "64KiB", "random"), "inreach"));
  const uint64_t miss = p50(run(reader("pinned", "64MiB", "random"), "pastreach"));
  RecordProperty("iotlb_miss_adds_ns", std::to_string(miss - hit));
  EXPECT_GE(miss - hit, 226u) << hit << " -> " << miss;
  EXPECT_LE(miss - hit, 293u) << hit << " -> " << miss;
}

// KVM's demand_paging_test figures (2023): a minor fault costs 2.9 to 6.7 us of host CPU.
TEST(Calibration, MinorFault2900To6700nsOfHostCpu) {
  const json r = run(reader("shared_tdp", "64MiB", "random", true), "minor");
  const uint64_t faults = r["host"]["device_faults"]["minor"].get<uint64_t>();
  ASSERT_GT(faults, 100u);
  const double per_fault = static_cast<double>(r["host"]["fault_cpu_ns"].get<uint64_t>()) / static_cast<double>(faults);
  RecordProperty("minor_fault_cpu_ns", std::to_string(per_fault));
  EXPECT_GE(per_fault, 2900.0);
  EXPECT_LE(per_fault, 6700.0);
}

// NP-RDMA (arXiv 2310.11062): a major fault (swap-in) adds about 60 us. Stated range: +/-25 %.
TEST(Calibration, MajorFaultAddsAbout60us) {
  const json minor = run(reader("shared_tdp", "64MiB", "random", true), "minor2");
  json s = reader("shared_tdp", "64MiB", "random", true);
  s["host"] = {{"memory", "48MiB"}, {"free_target", "1MiB"}};
  s["domains"][0]["memory"] = "64MiB";
  s["domains"][0]["resident_fraction"] = 1.0;  // touched before the run; a quarter went to swap
  const json major = run(s, "major");
  const uint64_t m = minor["devices"][0]["pri"]["fault_latency_minor_ns"]["p50"].get<uint64_t>();
  const uint64_t M = major["devices"][0]["pri"]["fault_latency_major_ns"]["p50"].get<uint64_t>();
  ASSERT_GT(major["host"]["device_faults"]["major"].get<uint64_t>(), 10u);
  RecordProperty("major_fault_adds_ns", std::to_string(M - m));
  EXPECT_GE(M - m, 45000u) << m << " -> " << M;
  EXPECT_LE(M - m, 75000u) << m << " -> " << M;
}

// Linux commit 4d83de6da265: pinning takes about 0.27 s per GiB with 4 KiB pages.
TEST(Calibration, Pinning027sPerGiB) {
  const json r = run(reader("pinned", "64KiB", "sequential"), "pin");
  const double s_per_gib = static_cast<double>(r["domains"][0]["setup_ns"].get<uint64_t>()) * 1e-9;  // 1 GiB
  RecordProperty("pinning_s_per_GiB", std::to_string(s_per_gib));
  EXPECT_NEAR(s_per_gib, 0.27, 0.27 * 0.01);
}
