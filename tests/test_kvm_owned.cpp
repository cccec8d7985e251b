// Issue 11, item 5: kind kvm_owned (seed 003, s390 KVM-owned IOMMU domain) through
// scenarios/s390-kvm-owned.json and small scenarios of its own. Each simulation runs in its own
// process.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "cli_helpers.hpp"
#include "report_helpers.hpp"

using nlohmann::json;

namespace {

const json& kvm_report() {
  static const json r = run_report(scenario("s390-kvm-owned.json"));
  return r;
}

const json& domain(const json& r, const std::string& name) { return named(r["domains"], name); }

// One domain, one vCPU mapping one 4 KiB buffer per I/O at 100k I/Os per second for 10 ms, with
// the kind's keys `kind_keys` and the workload's `wl_keys` added.
json small_scenario(const json& kind_keys, const json& wl_keys = json::object()) {
  json s = json::parse(R"({
    "schema": "iopfsim.scenario/1", "name": "kvm-small", "duration": "10ms",
    "domains": [{"name": "vm", "kind": "kvm_owned", "memory": "64MiB", "format": "vtd_ss_3level"}],
    "devices": [{"name": "nic", "domain": "vm",
      "paths": [{"name": "rx", "workload": {"region_size": "1MiB", "access_size": "4KiB", "op": "write",
                                             "rate": "100kpps", "dma_api": "per_io"}}]}]
  })");
  s["domains"][0].update(kind_keys);
  s["devices"][0]["paths"][0]["workload"].update(wl_keys);
  return s;
}

std::string write_temp(const json& s) {
  const std::string file = temp_path("kvm-small.json");
  std::ofstream(file) << s.dump();
  return file;
}

json run_small(const json& s) {
  const std::string file = write_temp(s);
  json r = run_report(file);
  std::remove(file.c_str());
  return r;
}

double per_call(const json& c) { return static_cast<double>(u(c["cpu_ns"])) / static_cast<double>(u(c["count"])); }

}  // namespace

// KVM at 1 ms, the anchor at 3 ms, cleared at 7 ms and registered again at 8 ms: maps are
// refused in [0, 1 ms) (no KVM), [1, 3 ms) and [7, 8 ms) (no anchor), and allowed otherwise.
TEST(KvmOwned, MapsRefusedUntilAnchoredAndAgainWhileCleared) {
  const json r = run_small(small_scenario(
      {{"kvm_register", "1ms"}, {"anchor_register", "3ms"}, {"anchor_clear_period", "4ms"}, {"anchor_down", "1ms"}}));
  const json& d = r["domains"][0];
  EXPECT_EQ(d["kind"], "kvm_owned");
  EXPECT_EQ(u(d["refused_maps"]["no_kvm"]), 100u);
  EXPECT_EQ(u(d["refused_maps"]["no_anchor"]), 300u);
  EXPECT_EQ(u(d["refused_maps"]["count"]), 400u);
  EXPECT_EQ(u(d["state_changes"]["kvm_register"]), 1u);
  EXPECT_EQ(u(d["state_changes"]["anchor_register"]), 2u);
  EXPECT_EQ(u(d["state_changes"]["anchor_clear"]), 1u);
  EXPECT_EQ(u(d["state_changes"]["count"]), 4u);
  EXPECT_EQ(d["state"], "anchored");
  EXPECT_EQ(u(d["maps"]["count"]), 1000u);  // refused calls count: they were made
  EXPECT_EQ(u(d["maps"]["pages"]), 600u);
  EXPECT_EQ(u(d["rpcit"]["by_cause"]["map"]["refused"]), 400u);
  // The DMAs whose buffers could not be mapped are dropped; the others complete.
  const json& dma = r["devices"][0]["dma"];
  EXPECT_EQ(u(dma["failed"]), 400u);
  EXPECT_EQ(u(dma["failed_by"]["dropped"]), 400u);
  EXPECT_EQ(u(dma["completed"]), 600u);
  EXPECT_EQ(u(r["checks"]["stale_translation_uses"]), 0u);
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
}

TEST(KvmOwned, AnchoredFromTheStartRefusesNothing) {
  const json r = run_small(small_scenario(json::object()));
  const json& d = r["domains"][0];
  EXPECT_EQ(u(d["refused_maps"]["count"]), 0u);
  EXPECT_EQ(u(d["state_changes"]["count"]), 2u);  // KVM, then the anchor
  EXPECT_EQ(u(r["devices"][0]["dma"]["failed"]), 0u);
  EXPECT_EQ(u(r["devices"][0]["dma"]["completed"]), 1000u);
}

// Clearing the anchor empties the host table (and flushes), so the whole-aperture walk after
// it finds nothing; a flush per unmap walks exactly the unmapped page.
TEST(KvmOwned, ClearingTheAnchorEmptiesTheHostTable) {
  const json r = run_small(small_scenario({{"anchor_clear_period", "5ms"}, {"anchor_down", "1ms"}}));
  const json& d = r["domains"][0];
  EXPECT_EQ(u(d["state_changes"]["anchor_clear"]), 1u);
  EXPECT_EQ(u(d["refused_maps"]["no_anchor"]), 100u);
  const json& f = d["rpcit"]["by_cause"]["flush"];
  EXPECT_EQ(u(f["entries_walked"]), u(f["pages_unmapped"]));
  EXPECT_EQ(u(d["rpcit"]["by_cause"]["map"]["pages_mapped"]), 900u);
  EXPECT_EQ(u(r["checks"]["stale_translation_uses"]), 0u);
}

// A flush's RPCIT costs vm_exit + rpcit_work + per page walked (rpcit_walk_entry) and removed
// (host_unmap_cost + unpin_cost): 1000 + 1000 + n x (20 + 60 + 100) ns with the defaults.
TEST(KvmOwned, RpcitFlushCostScalesWithTheChangedRange) {
  const json& r = kvm_report();
  const json& one = domain(r, "strict-1page")["rpcit"]["by_cause"]["flush"];
  const json& many = domain(r, "strict-64pages")["rpcit"]["by_cause"]["flush"];
  EXPECT_EQ(u(one["entries_walked"]), u(one["count"]));
  EXPECT_EQ(u(many["entries_walked"]), 64 * u(many["count"]));
  EXPECT_DOUBLE_EQ(per_call(one), 2000.0 + 180.0);
  EXPECT_DOUBLE_EQ(per_call(many), 2000.0 + 64 * 180.0);
  EXPECT_GT(many["latency_ns"]["mean"].get<double>(), 4 * one["latency_ns"]["mean"].get<double>());
}

// Lazy flushing with four vCPUs: per-CPU queues (256 entries, 10 ms) make ~50x the flush RPCITs
// of the one shared queue (32768 entries, 1 s), each walking ~1/50 of the entries; the single
// queue holds far more pages pinned and makes one vCPU pay a long walk.
TEST(KvmOwned, OneQueueMakesFewerButLongerFlushesThanPerCpuQueues) {
  const json& r = kvm_report();
  const json& pc = domain(r, "lazy-per-cpu");
  const json& one = domain(r, "lazy-single");
  const json& pcf = pc["rpcit"]["by_cause"]["flush"];
  const json& onef = one["rpcit"]["by_cause"]["flush"];
  EXPECT_GT(u(pcf["count"]), 30 * u(onef["count"]));
  EXPECT_GT(u(onef["count"]), 0u);
  EXPECT_GT(u(pcf["cpu_ns"]), u(onef["cpu_ns"]));
  EXPECT_GT(u(pc["dma_api"]["flushes"]), 30 * u(one["dma_api"]["flushes"]));
  EXPECT_GT(per_call(onef), 20 * per_call(pcf));
  EXPECT_GT(u(onef["latency_ns"]["max"]), 10 * u(pcf["latency_ns"]["max"]));
  EXPECT_GT(u(one["dma_api"]["max_pinned_pages"]), 10 * u(pc["dma_api"]["max_pinned_pages"]));
  EXPECT_EQ(u(pc["dma_api"]["flush_queue_flushes"]), u(pcf["count"]));
}

TEST(KvmOwned, ScenarioAnchorLifecycleAndChecker) {
  const json& r = kvm_report();
  const json& a = domain(r, "anchor");
  // KVM at 1 ms, anchor at 2 ms, cleared every 10 ms for 2 ms over 100 ms at 100k maps per second.
  EXPECT_EQ(u(a["refused_maps"]["no_kvm"]), 100u);
  EXPECT_EQ(u(a["refused_maps"]["no_anchor"]), 1900u);
  EXPECT_EQ(u(a["state_changes"]["anchor_clear"]), 9u);
  EXPECT_EQ(u(a["state_changes"]["anchor_register"]), 10u);
  EXPECT_EQ(u(named(r["devices"], "dev-anchor")["dma"]["failed_by"]["dropped"]), 2000u);
  EXPECT_EQ(u(r["checks"]["stale_translation_uses"]), 0u);
  EXPECT_EQ(u(r["checks"]["stale_permission_uses"]), 0u);
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
}

TEST(KvmOwned, BadScheduleIsAnError) {
  for (const auto& [keys, ptr] : std::vector<std::pair<json, std::string>>{
           {{{"kvm_register", "2ms"}, {"anchor_register", "1ms"}}, "/domains/0/anchor_register"},
           {{{"anchor_clear_period", "2ms"}, {"anchor_down", "2ms"}}, "/domains/0/anchor_down"},
           {{{"anchor_down", "1ms"}}, "/domains/0/anchor_down"}}) {
    const std::string file = write_temp(small_scenario(keys));
    const CmdResult v = run_iopfsim("validate " + file);
    std::remove(file.c_str());
    EXPECT_EQ(v.status, 2) << keys.dump();
    EXPECT_NE(v.err.find(ptr), std::string::npos) << v.err;
  }
  const std::string file = write_temp(small_scenario(json::object(), {{"dma_fq", "single"}}));
  const CmdResult v = run_iopfsim("validate " + file);
  std::remove(file.c_str());
  EXPECT_EQ(v.status, 2);
  EXPECT_NE(v.err.find("dma_fq"), std::string::npos) << v.err;
}

TEST(KvmOwned, ListKindsShowsKvmOwnedFromOneFileAndOneLine) {
  const CmdResult r = run_iopfsim("list-kinds");
  EXPECT_TRUE(std::regex_search(r.out, std::regex("(^|\\n)kvm_owned\\b"))) << r.out;
  const std::string dir = std::string(IOPFSIM_SOURCE_DIR) + "/models/domain/";
  const std::string list = slurp(dir + "kinds.cpp");
  EXPECT_TRUE(std::regex_search(slurp(dir + "kvm_owned.cpp"),
                                std::regex("const DomainKindInfo kKvmOwnedKind\\{\\s*\"kvm_owned\"")));
  const std::regex line("KIND\\(kKvmOwnedKind\\)");
  EXPECT_EQ(std::distance(std::sregex_iterator(list.begin(), list.end(), line), std::sregex_iterator()), 1);
}
