// Whole runs of the iopfsim binary on the shipped scenarios, each in its own process,
// with their results checked.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "cli_helpers.hpp"
#include "report_helpers.hpp"

using nlohmann::json;

namespace {

// Every run: conservation per path and per device, the measurement window's rules, and the
// report's required keys.
void check_invariants(const json& r, bool with_wall_clock = true) {
  EXPECT_EQ(r["schema"], "iopfsim.report/1");
  EXPECT_TRUE(r.contains("seed"));
  for (const char* k : {"simulated_ns", "warmup_ns", "window_ns", "events"}) EXPECT_TRUE(r["sim"].contains(k)) << k;
  if (with_wall_clock) {
    for (const char* k : {"wall_s", "dma_per_wall_s"}) EXPECT_TRUE(r["sim"].contains(k)) << k;
  }
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
  const uint64_t window = r["sim"]["window_ns"].get<uint64_t>();
  // The run ends with the last window (after the latest domain's set-up and the warm-up),
  // plus at most the longest DMA in flight then.
  uint64_t last_window_end = 0, longest = 0;
  for (const json& d : r["domains"])
    last_window_end = std::max(last_window_end, d["setup_ns"].get<uint64_t>() + r["sim"]["warmup_ns"].get<uint64_t>() + window);
  for (const json& d : r["devices"]) longest = std::max(longest, d["dma"]["latency_ns"]["max"].get<uint64_t>());
  EXPECT_LE(r["sim"]["simulated_ns"].get<uint64_t>(), last_window_end + longest);
  for (const json& d : r["devices"]) {
    for (const char* k : {"issued", "completed", "failed", "in_flight_at_end", "bytes", "latency_ns", "throughput"})
      EXPECT_TRUE(d["dma"].contains(k)) << k;
    // Throughput is what completed in the window over the window.
    const double bytes = static_cast<double>(d["dma"]["bytes"].get<uint64_t>());
    EXPECT_NEAR(d["dma"]["throughput"]["bytes_per_s"].get<double>() * static_cast<double>(window) * 1e-9, bytes,
                bytes * 0.01 + 1e-9);
    EXPECT_LE(d["dma"]["throughput"]["ops_per_s"].get<double>(), d["dma"]["throughput"]["offered_ops_per_s"].get<double>() + 1e-6);
    for (const char* k : {"count", "mean", "min", "p50", "p90", "p99", "p999", "max"})
      EXPECT_TRUE(d["dma"]["latency_ns"].contains(k)) << k;
    EXPECT_TRUE(d["pri"].contains("requests"));
    EXPECT_TRUE(d["pri"].contains("fault_latency_ns"));
    EXPECT_TRUE(d["atc"].contains("hits"));
    uint64_t issued = 0;
    for (const json& p : d["paths"]) {
      const json& m = p["dma"];
      EXPECT_EQ(m["issued"].get<uint64_t>(),
                m["completed"].get<uint64_t>() + m["failed"].get<uint64_t>() + m["in_flight_at_end"].get<uint64_t>())
          << d["name"] << "/" << p["name"];
      for (const char* k : {"count", "oldest_age_ns"}) EXPECT_TRUE(p["backlog"].contains(k)) << k;
      EXPECT_TRUE(p.contains("overruns"));
      // Everything due in the window is accounted for: done, failed, waiting, never started
      // (backlog) or refused at a full queue (overruns). So a path below its offered rate
      // says why.
      const double due = m["throughput"]["offered_ops_per_s"].get<double>() * static_cast<double>(window) * 1e-9;
      EXPECT_NEAR(due,
                  static_cast<double>(m["issued"].get<uint64_t>() + p["backlog"]["count"].get<uint64_t>() +
                                      p["overruns"].get<uint64_t>()),
                  0.5)
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
  // 4 GiB pinned: 682 ns per 4 KiB page plus zeroing at 11.76 GB/s, on a host core (0.27 s/GiB).
  EXPECT_EQ(dom["setup_ns"].get<uint64_t>(), (4ull << 30) / 4096 * 682 + 365218307);
  EXPECT_EQ(dom["pinned_bytes"].get<uint64_t>(), 4ull << 30);
  EXPECT_EQ(dom["faults_resolved"].get<uint64_t>(), 0u);
  // A 16 B descriptor read: 2 x 250 ns PCIe + 100 ns memory + 5 ns on the link for 16 B and a
  // TLP's 24 B overhead (~600 ns, pcie-bench); 607 is the histogram bucket holding 605.
  EXPECT_EQ(path_named(nic, "rx_ring")->at("dma")["latency_ns"]["p50"].get<uint64_t>(), 607u);
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
  // Every page request resolves a fault, except those still outstanding when the window closed.
  const uint64_t requests = nic["pri"]["requests"].get<uint64_t>();
  EXPECT_LE(r["domains"][0]["faults_resolved"].get<uint64_t>(), requests);
  EXPECT_GE(r["domains"][0]["faults_resolved"].get<uint64_t>() + 32, requests);
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
  for (const char* sub : {"run", "validate", "list-params", "list-formats", "list-kinds"}) {
    r = run_iopfsim(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
  r = run_iopfsim("validate " + scenario("nic-pinned.json") + " " + scenario("nic-faultable.json"));
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_iopfsim("list-params");
  EXPECT_NE(r.out.find("pin_cost_per_page"), std::string::npos);
  EXPECT_NE(r.out.find("4d83de6da265"), std::string::npos);  // defaults name their sources
  EXPECT_NE(r.out.find("domain (kind shared_tdp)"), std::string::npos);  // each kind's own keys
  r = run_iopfsim("list-kinds");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("pinned  all guest memory pinned"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shared_tdp  KVM's stage-2"), std::string::npos) << r.out;
}

TEST(Cli, UsageErrorsExit2) {
  EXPECT_EQ(run_iopfsim("").status, 2);
  EXPECT_EQ(run_iopfsim("frobnicate").status, 2);
  EXPECT_EQ(run_iopfsim("run").status, 2);
  EXPECT_EQ(run_iopfsim("run " + scenario("nic-pinned.json") + " --seed -3").status, 2);
  EXPECT_EQ(run_iopfsim("run " + scenario("nic-pinned.json") + " --bogus").status, 2);
}

// --- Invalidation: the timed machinery, its counts by kind, batching, and the checker. ---

TEST(Invalidation, StrictPageInvalidationsReachTheAtcAndNothingStaleIsUsed) {
  const json r = run_report(scenario("invalidation-strict.json"));
  check_invariants(r);
  const json& inv = r["iommu"]["invalidation"];
  const uint64_t events = inv["source_events"].get<uint64_t>();
  EXPECT_EQ(events, 100u);  // 20k/s for 5 ms
  EXPECT_EQ(inv["by_kind"]["page"]["count"].get<uint64_t>(), events);
  EXPECT_EQ(inv["atc_requests"].get<uint64_t>(), events);  // one ATS device in the domain
  EXPECT_EQ(r["devices"][0]["atc"]["invalidations"].get<uint64_t>(), events);
  // Completion needs at least: descriptor 500 + PCIe 250 + device 1000 + PCIe 250 + wait 100.
  EXPECT_GE(inv["by_kind"]["page"]["latency_ns"]["min"].get<uint64_t>(), 2100u);
  EXPECT_EQ(r["checks"]["stale_translation_uses"].get<uint64_t>(), 0u);
  EXPECT_GT(r["checks"]["uses_checked"].get<uint64_t>(), 100000u);
  // Zapped pages come back through page requests.
  EXPECT_GT(r["devices"][0]["pri"]["requests"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["sim"]["quantum_ns"].get<uint64_t>(), 600u);  // clamped to inv_desc + inv_wait
}

TEST(Invalidation, BatchingFlushesTheDomainOncePerBatch) {
  const json r = run_report(scenario("invalidation-strict.json"), "--set /invalidations/0/batch_entries=10");
  check_invariants(r);
  const json& inv = r["iommu"]["invalidation"];
  EXPECT_EQ(inv["batched_flushes"].get<uint64_t>(), 10u);
  EXPECT_EQ(inv["by_kind"]["domain"]["count"].get<uint64_t>(), 10u);
  EXPECT_EQ(inv["by_kind"]["page"]["count"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["checks"]["stale_translation_uses"].get<uint64_t>(), 0u);
  // The timeout flushes a partial batch too.
  const json t = run_report(scenario("invalidation-strict.json"),
                            "--set /invalidations/0/batch_entries=1000 --set /invalidations/0/batch_timeout=1ms");
  EXPECT_EQ(t["iommu"]["invalidation"]["batched_flushes"].get<uint64_t>(), 5u);
}

TEST(Invalidation, EveryKindIsCountedAsItself) {
  for (const char* kind : {"range", "domain", "pasid", "global"}) {
    const json r = run_report(scenario("invalidation-strict.json"),
                              std::string("--set /invalidations/0/kind=") + kind +
                                  " --set /invalidations/0/range_size=64KiB --set /invalidations/0/rate=5kops");
    const json& inv = r["iommu"]["invalidation"];
    EXPECT_EQ(inv["by_kind"][kind]["count"].get<uint64_t>(), 25u) << kind;
    EXPECT_EQ(inv["by_kind"]["page"]["count"].get<uint64_t>(), 0u) << kind;
    EXPECT_EQ(r["checks"]["stale_translation_uses"].get<uint64_t>(), 0u) << kind;
  }
}

TEST(Invalidation, RemapMovesPinnedPagesSafely) {
  const json r = run_report(
      scenario("nic-pinned.json"),
      "--set '/invalidations=[{\"name\":\"move\",\"domain\":\"vm\",\"action\":\"remap\",\"rate\":\"50kops\","
      "\"region_base\":\"2GiB\",\"region_size\":\"64MiB\"}]'");
  check_invariants(r);
  EXPECT_EQ(r["iommu"]["invalidation"]["by_kind"]["page"]["count"].get<uint64_t>(), 100u);
  EXPECT_EQ(r["checks"]["stale_translation_uses"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["domains"][0]["resident_bytes"].get<uint64_t>(), 4ull << 30);  // every moved page came back
}

TEST(Invalidation, CheckerCatchesABrokenBatchRule) {
  // Without the clamp and the drain, a 100 us quantum lets DMAs run past invalidations that completed.
  const std::string report = temp_path("broken.json");
  const CmdResult r = run_iopfsim("run " + scenario("invalidation-strict.json") +
                                  " --checker --set /engine/quantum=100us --report " + report +
                                  " --set /engine/unsafe_batching=true --set /invalidations/0/rate=100kops");
  EXPECT_EQ(r.status, 1) << r.err;
  const json j = json::parse(slurp(report));
  EXPECT_GT(j["checks"]["stale_translation_uses"].get<uint64_t>(), 0u);
  std::remove(report.c_str());
}

// --- Memory pressure, partial fault tolerance, PRI in full (issue 4). ---

TEST(PartialReclaim, FaultAllDropsOnThePathThatCannotFault) {
  const json r = run_report(scenario("nic-partial-reclaim-fault-all.json"));
  check_invariants(r);
  const json& nic = r["devices"][0];
  const json* ring = path_named(nic, "rx_ring");
  const json* payload = path_named(nic, "rx_payload");
  EXPECT_GT((*ring)["dma"]["failed"].get<uint64_t>(), 0u);
  EXPECT_EQ((*ring)["dma"]["failed_by"]["dropped"].get<uint64_t>(), (*ring)["dma"]["failed"].get<uint64_t>());
  EXPECT_EQ((*payload)["dma"]["failed"].get<uint64_t>(), 0u);
  EXPECT_GT((*payload)["page_requests"].get<uint64_t>(), 0u);
  const json& dom = r["domains"][0];
  EXPECT_GT(dom["invalidations_by_reason"]["reclaim"]["count"].get<uint64_t>(), 0u);
  EXPECT_GT(dom["swapped_bytes"].get<uint64_t>(), 0u);
  EXPECT_GT(dom["major_faults"].get<uint64_t>(), 0u);
  EXPECT_EQ(dom["pinned_bytes"].get<uint64_t>(), 0u);
  EXPECT_LE(r["host"]["max_used_bytes"].get<uint64_t>(), (64ull << 20) + (1ull << 20));  // RAM + one THP/batch slack
  EXPECT_EQ(r["checks"]["stale_translation_uses"].get<uint64_t>(), 0u);
}

TEST(PartialReclaim, PinIntolerantPathsNeverFailsThereAndStillFaultsElsewhere) {
  const json r = run_report(scenario("nic-partial-reclaim-pin-intolerant.json"));
  check_invariants(r);
  const json& nic = r["devices"][0];
  EXPECT_EQ(path_named(nic, "rx_ring")->at("dma")["failed"].get<uint64_t>(), 0u);
  EXPECT_EQ(path_named(nic, "rx_payload")->at("dma")["failed"].get<uint64_t>(), 0u);
  EXPECT_GT(path_named(nic, "rx_payload")->at("page_requests").get<uint64_t>(), 0u);
  const json& dom = r["domains"][0];
  EXPECT_EQ(dom["pinned_bytes"].get<uint64_t>(), 64u << 10);  // just the ring
  EXPECT_GT(dom["invalidations_by_reason"]["reclaim"]["count"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["checks"]["stale_translation_uses"].get<uint64_t>(), 0u);
}

TEST(Pri, SmallPrqOverflowsAndTheDeviceRecovers) {
  for (const char* mode : {"auto_success", "drop"}) {
    const json r = run_report(scenario("sva-accelerator.json"),
                              std::string("--set /iommu/prq_depth=2 --set /iommu/prq_overflow=") + mode);
    check_invariants(r);
    const json& prq = r["iommu"]["prq"];
    const json& pri = r["devices"][0]["pri"];
    EXPECT_GT(prq["overflows"].get<uint64_t>(), 0u) << mode;
    EXPECT_LE(prq["max_depth"].get<uint64_t>(), 2u) << mode;
    EXPECT_GT(pri["retries"].get<uint64_t>(), 0u) << mode;
    EXPECT_EQ(r["devices"][0]["dma"]["failed"].get<uint64_t>(), 0u) << mode;  // every DMA got its page
    if (std::string(mode) == "drop") {
      EXPECT_GT(pri["timeouts"].get<uint64_t>(), 0u);
    } else {
      EXPECT_EQ(prq["auto_responses"].get<uint64_t>(), prq["overflows"].get<uint64_t>());
    }
  }
}

TEST(Pri, ParallelFaultsFillThePrqUpToTheOutstandingAllocation) {
  const json r = run_report(scenario("sva-accelerator.json"));
  check_invariants(r);
  // Independent work queues keep faulting while page requests are outstanding: the PRQ fills up
  // to the device's outstanding page request allocation (32).
  EXPECT_EQ(r["iommu"]["prq"]["max_depth"].get<uint64_t>(), 32u);
  const json limited = run_report(scenario("sva-accelerator.json"), "--set /devices/0/pri_outstanding=3");
  EXPECT_EQ(limited["iommu"]["prq"]["max_depth"].get<uint64_t>(), 3u);
  EXPECT_GT(r["host"]["device_faults"]["minor"].get<uint64_t>(), 1000u);
  EXPECT_EQ(r["host"]["device_faults"]["major"].get<uint64_t>(), 0u);
  EXPECT_GT(r["host"]["fault_cpu_ns"].get<uint64_t>(), 0u);
}

// The PRQ takes in the next page request while it handles one: a request's flight over PCIe
// overlaps the IOMMU's work on the ones before it. With prq_handling at 1 us and 32 queues
// faulting at once, the PRQ is the bottleneck and answers one request per microsecond; a PRQ
// that only started receiving the next request after handling one (the first build's
// rendezvous) would pay the 250 ns flight each time: 1,600 in 2 ms instead of about 2,000.
TEST(Pri, ThePrqServesRequestsBackToBackWhileOthersAreInFlight) {
  const json r = run_report(scenario("fault-storm.json"), "--set /iommu/prq_handling=1us --set /duration=2ms");
  check_invariants(r);
  const uint64_t resolved = r["domains"][0]["faults_resolved"].get<uint64_t>();
  EXPECT_GE(resolved, 1950u);  // 2 ms / 1 us, less the first requests' flight and the last ones in progress
  EXPECT_LE(resolved, 2000u);
  EXPECT_GT(r["iommu"]["prq"]["max_depth"].get<uint64_t>(), 1u);  // requests wait in the PRQ
}

// Two sources flush the same domain at the same instants: the second batch waits in the
// invalidation queue for exactly the IOMMU's work on the first (inv_desc + inv_wait = 600 ns).
// Its descriptors were written when it was submitted, so it pays no second flight to the
// IOMMU (a mailbox that started a message only when its receiver asked gave 700 ns).
TEST(Invalidation, QueuedBatchWaitsOnlyForTheWorkBeforeIt) {
  const std::string file = temp_path("two-flush-sources.json");
  std::ofstream(file) << R"({"schema": "iopfsim.scenario/1", "name": "two-flush-sources", "seed": 1, "duration": "1ms",
    "domains": [{"name": "quiet", "kind": "pinned", "memory": "64MiB"}, {"name": "vm", "kind": "pinned", "memory": "64MiB"}],
    "devices": [{"name": "nic", "domain": "vm", "ats": false, "paths": [{"name": "rx",
      "workload": {"region_size": "64KiB", "access_size": "64B", "op": "read", "rate": "1Mpps"}}]}],
    "invalidations": [{"name": "a", "domain": "quiet", "kind": "domain", "action": "flush", "rate": "10kops"},
                      {"name": "b", "domain": "quiet", "kind": "domain", "action": "flush", "rate": "10kops"}]})";
  const json r = run_report(file);
  std::remove(file.c_str());
  const json& lat = named(r["domains"], "quiet")["invalidations_by_reason"]["scripted"]["latency_ns"];
  // Alone: 100 ns to the IOMMU, inv_desc 500, inv_wait 100, 100 ns back (whole ns, +-1 of rounding).
  EXPECT_NEAR(static_cast<double>(u(lat["min"])), 800.0, 1.0);
  EXPECT_NEAR(static_cast<double>(u(lat["max"]) - u(lat["min"])), 600.0, 1.0);
}

TEST(Pri, PageRequestGroupsAskForSeveralPagesAtOnce) {
  const json one = run_report(scenario("sva-accelerator.json"));
  const json eight = run_report(scenario("sva-accelerator.json"), "--set /devices/0/prg_pages=8");
  check_invariants(eight);
  const json& pri = eight["devices"][0]["pri"];
  EXPECT_EQ(pri["requests"].get<uint64_t>(), 8 * pri["groups"].get<uint64_t>());
  EXPECT_EQ(one["devices"][0]["pri"]["requests"].get<uint64_t>(), one["devices"][0]["pri"]["groups"].get<uint64_t>());
  // Sequential streams find the next pages present: fewer page request groups per DMA.
  const auto groups_per_dma = [](const json& r) {
    return static_cast<double>(r["devices"][0]["pri"]["groups"].get<uint64_t>()) /
           static_cast<double>(r["devices"][0]["dma"]["completed"].get<uint64_t>());
  };
  EXPECT_LT(groups_per_dma(eight), groups_per_dma(one));
  EXPECT_LE(eight["iommu"]["prq"]["max_depth"].get<uint64_t>(), 32u);  // the outstanding allocation, in pages
  EXPECT_LE(eight["domains"][0]["faults_resolved"].get<uint64_t>(), pri["requests"].get<uint64_t>());
}

TEST(Policies, NvmeWithoutPriNeedsPinning) {
  const json pinned = run_report(scenario("nvme-no-pri.json"));  // allow_list -> pin_all
  check_invariants(pinned);
  EXPECT_EQ(pinned["domains"][0]["effective_policy"], "pin_all");
  EXPECT_EQ(pinned["devices"][0]["dma"]["failed"].get<uint64_t>(), 0u);
  const json faulting = run_report(scenario("nvme-no-pri.json"), "--set /domains/0/policy=fault_all");
  check_invariants(faulting);
  const json& dma = faulting["devices"][0]["dma"];
  EXPECT_GT(dma["failed"].get<uint64_t>(), 0u);
  EXPECT_EQ(dma["failed_by"]["aborted"].get<uint64_t>(), dma["failed"].get<uint64_t>());
  EXPECT_EQ(faulting["devices"][0]["pri"]["requests"].get<uint64_t>(), 0u);
  // abort: the device reports the error and the path waits for a reset; what arrives meanwhile
  // waits in its queue or overruns it.
  EXPECT_GT(faulting["devices"][0]["resets"].get<uint64_t>(), 0u);
  const json& sq = faulting["devices"][0]["paths"][0];
  EXPECT_GT(sq["backlog"]["count"].get<uint64_t>() + sq["overruns"].get<uint64_t>(), 0u);
}

TEST(Policies, OneTibStartUpAndMemory) {
  const json r = run_report(scenario("pinned-vs-faultable-1tib.json"));
  check_invariants(r);
  const json& pinned = r["domains"][0];
  const json& faultable = r["domains"][1];
  EXPECT_EQ(pinned["pinned_bytes"].get<uint64_t>(), 1ull << 40);
  EXPECT_NEAR(pinned["setup_ns"].get<double>(), 0.27e9 * 1024, 0.27e9 * 1024 * 0.01);  // 0.27 s/GiB: ~277 s
  EXPECT_EQ(faultable["pinned_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(faultable["setup_ns"].get<uint64_t>(), 0u);
  EXPECT_LT(faultable["resident_bytes"].get<uint64_t>(), 40ull << 30);  // ~2% plus what the NIC faulted in
  EXPECT_GT(faultable["resident_bytes"].get<uint64_t>(), 10ull << 30);
  EXPECT_LT(pinned["pt_bytes"].get<uint64_t>(), faultable["pt_bytes"].get<uint64_t>());  // 1 GiB leaves
}

TEST(Checker, RandomizedStressLeavesNoStaleTranslation) {
  // Reclaim over 2 MiB THPs (splits, collapses), migration, dirty logging, vCPU touches and devices with
  // every kind of path, over several seeds.
  const std::string file = temp_path("stress.json");
  std::ofstream(file) << R"({
    "schema": "iopfsim.scenario/1", "name": "stress", "duration": "3ms",
    "host": {"memory": "48MiB", "free_target": "2MiB", "cores": 2},
    "domains": [{"name": "vm", "kind": "shared_tdp", "memory": "64MiB", "page_size": "2MiB",
                 "resident_fraction": 1.0, "vcpu_touch_rate": "100kops", "migration_rate": "50kops",
                 "thp_collapse_rate": "20kops",
                 "dirty_log_interval": "500us", "dirty_log_start": "200us"}],
    "devices": [
      {"name": "nic", "domain": "vm", "ats": true, "pri": true, "intolerant_fault": "drop",
       "paths": [
         {"name": "ring", "workload": {"region_base": "1MiB", "region_size": "64KiB", "pattern": "ring", "rate": "2Mpps"}},
         {"name": "buf", "fault_tolerant": true,
          "workload": {"region_base": "8MiB", "region_size": "24MiB", "pattern": "random", "access_size": "1KiB",
                       "op": "write", "rate": "2Mpps"}}]},
      {"name": "dma", "domain": "vm",
       "paths": [{"name": "copy", "workload": {"region_base": "32MiB", "region_size": "16MiB", "pattern": "random",
                                               "access_size": "512B", "op": "read", "outstanding": 8}}]}]
  })";
  uint64_t reasons[5] = {0, 0, 0, 0, 0};
  for (int seed = 1; seed <= 4; ++seed) {
    const json r = run_report(file, "--seed " + std::to_string(seed));
    check_invariants(r);
    EXPECT_EQ(r["checks"]["stale_translation_uses"].get<uint64_t>(), 0u) << "seed " << seed;
    EXPECT_EQ(r["checks"]["stale_permission_uses"].get<uint64_t>(), 0u) << "seed " << seed;
    EXPECT_GT(r["checks"]["uses_checked"].get<uint64_t>(), 5000u);
    const json& by = r["domains"][0]["invalidations_by_reason"];
    int k = 0;
    for (const char* reason : {"reclaim", "thp_split", "thp_collapse", "migration", "dirty_log"})
      reasons[k++] += by[reason]["count"].get<uint64_t>();
  }
  for (uint64_t n : reasons) EXPECT_GT(n, 0u);  // every reason was exercised
  std::remove(file.c_str());
}

// Every shipped scenario keeps the measurement window's rules and conservation. Its golden
// report is the run's report without the wall-clock fields (test_golden re-runs each one and
// compares), so a new scenario is covered the moment it has a golden file.
TEST(Scenario, EveryShippedScenarioKeepsTheWindowRules) {
  size_t checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(IOPFSIM_SOURCE_DIR) + "/tests/golden")) {
    if (e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().filename().string());
    std::ifstream in(e.path());
    check_invariants(json::parse(in), /*with_wall_clock=*/false);
    ++checked;
  }
  EXPECT_GE(checked, 19u);
}

namespace {

double bytes_per_s(const json& r, size_t dev) {
  return r["devices"][dev]["dma"]["throughput"]["bytes_per_s"].get<double>();
}

}  // namespace

// Two NICs behind one root complex: each gets less than alone, and their wire bytes together
// stay within the shared bandwidth (40 GB/s in the scenario).
TEST(Contention, TwoDevicesShareTheRootComplex) {
  const std::string f = scenario("two-nics-shared-rc.json");
  const json alone = run_report(f, "--set /devices/1/paths/0/workload/rate=1kpps");
  const json both = run_report(f);
  check_invariants(both);
  const double wire_per_payload = (2048.0 + 8 * 24) / 2048.0;  // 2 KiB in 256 B TLPs
  EXPECT_LT(bytes_per_s(both, 0), bytes_per_s(alone, 0) * 0.9);
  EXPECT_LT(bytes_per_s(both, 1), bytes_per_s(alone, 0) * 0.9);
  EXPECT_LE((bytes_per_s(both, 0) + bytes_per_s(both, 1)) * wire_per_payload, 40e9 * 1.01);
  EXPECT_GT((bytes_per_s(both, 0) + bytes_per_s(both, 1)) * wire_per_payload, 40e9 * 0.9);  // and uses it
  // Alone, one NIC gets what it offers and waits for no bandwidth beyond its own link.
  EXPECT_NEAR(bytes_per_s(alone, 0), 12.2e6 * 2048, 12.2e6 * 2048 * 0.01);
  EXPECT_EQ(alone["devices"][0]["bandwidth_wait_ns"]["p50"].get<uint64_t>(), 0u);
  EXPECT_GT(both["devices"][0]["bandwidth_wait_ns"]["p50"].get<uint64_t>(), 0u);
}

// Walker slots: one slot makes the misses of random reads past the IOTLB's reach queue for
// the walker; the default 16 do not, and the report says how busy they were.
TEST(Contention, WalkersLimitConcurrentWalks) {
  const std::string f = scenario("iotlb-reach.json");
  const json many = run_report(f);
  const json one = run_report(f, "--set /iommu/walkers=1");
  const json& w16 = many["iommu"]["walkers"];
  const json& w1 = one["iommu"]["walkers"];
  EXPECT_EQ(w16["slots"].get<uint64_t>(), 16u);
  EXPECT_GT(w16["mean_busy"].get<double>(), 1.0);  // 32 outstanding reads, most of them walking
  EXPECT_LE(w16["max_busy"].get<uint64_t>(), 16u);
  EXPECT_LE(w1["max_busy"].get<uint64_t>(), 1u);
  EXPECT_LE(w1["mean_busy"].get<double>(), 1.02);  // the window's last walks end after it
  EXPECT_GT(w1["wait_ns"]["p50"].get<uint64_t>(), 1000u);
  EXPECT_LT(bytes_per_s(one, 0), bytes_per_s(many, 0) * 0.5);
}

// Dirty logging under a device writing its buffers: no write uses a permission the
// write-protect took away once its invalidation completed; with the batch rule broken on
// purpose (no clamp, no drain, a long quantum) the checker sees such writes.
TEST(Checker, StalePermissionUsesOnlyWhenTheBatchRuleIsBroken) {
  const std::string file = temp_path("wp.json");
  std::ofstream(file) << R"({"schema": "iopfsim.scenario/1", "name": "wp", "duration": "3ms",
    "domains": [{"name": "vm", "kind": "shared_tdp", "memory": "64MiB", "resident_fraction": 1.0,
                 "dirty_log_interval": "300us", "dirty_log_start": "100us"}],
    "devices": [{"name": "nic", "domain": "vm", "ats": true, "pri": true,
      "paths": [{"name": "buf", "fault_tolerant": true,
                 "workload": {"region_base": "8MiB", "region_size": "64KiB", "access_size": "1KiB", "op": "write",
                              "rate": "4Mpps"}}]}]})";
  const json safe = run_report(file);
  EXPECT_EQ(safe["checks"]["stale_permission_uses"].get<uint64_t>(), 0u);
  EXPECT_GT(safe["domains"][0]["dirty_log"]["cycles"].get<uint64_t>(), 5u);
  const std::string report = temp_path("wp-broken.json");
  const CmdResult r = run_iopfsim("run " + file + " --checker --quiet --report " + report +
                                  " --set /engine/unsafe_batching=true --set /engine/quantum=100us");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_GT(json::parse(slurp(report))["checks"]["stale_permission_uses"].get<uint64_t>(), 0u);
  std::remove(file.c_str());
  std::remove(report.c_str());
}

// IOTLB reach: random 64 B reads fall in throughput once the window passes the IOTLB's reach
// with 4 KiB pages (64 MiB against 64 KiB), and not with 2 MiB pages (the cheap version of
// scenarios/sweeps/iotlb-reach.json).
TEST(Contention, IotlbReachShapesThroughput) {
  const std::string f = scenario("iotlb-reach.json");
  auto gbps = [&](const char* window, const char* page) {
    const json r = run_report(f, std::string("--set /duration=200us --set /devices/0/paths/0/workload/region_size=") +
                                     window + " --set /domains/0/page_size=" + page);
    return bytes_per_s(r, 0) * 8 / 1e9;
  };
  const double small4k = gbps("64KiB", "4KiB"), large4k = gbps("64MiB", "4KiB");
  const double small2m = gbps("64KiB", "2MiB"), large2m = gbps("64MiB", "2MiB");
  EXPECT_LT(large4k, small4k * 0.85);
  EXPECT_GT(large2m, small2m * 0.97);
  EXPECT_NEAR(small4k, small2m, small2m * 0.03);
}

// Invalidations batched under one wait descriptor: reclaim's batches of pages complete within
// 2x of one unloaded page invalidation (invalidation-strict.json's).
TEST(Contention, ReclaimInvalidationsAreBatched) {
  const json unloaded = run_report(scenario("invalidation-strict.json"));
  const json reclaim = run_report(scenario("nic-partial-reclaim-fault-all.json"), "--set /duration=10ms");
  const auto p50 = [](const json& r) {
    return r["iommu"]["invalidation"]["by_kind"]["page"]["latency_ns"]["p50"].get<double>();
  };
  const json& inv = reclaim["iommu"]["invalidation"];
  EXPECT_GT(inv["by_kind"]["page"]["count"].get<uint64_t>(), 10 * inv["batches"].get<uint64_t>() / 2);
  EXPECT_LT(p50(reclaim), 2 * p50(unloaded));
  EXPECT_EQ(reclaim["checks"]["stale_translation_uses"].get<uint64_t>(), 0u);
}

namespace {

// sim.memory: what the simulator holds, by part. A 1 GiB guest fully resident at 4 KiB pages
// keeps 262,144 leaf entries (2 MiB of leaf tables) and a reclaim-queue entry per page (4 B);
// at 2 MiB pages 512 leaves in one table and still a queue entry per 4 KiB page.
TEST(SimMemory, CountsTablesAndPerPageStateOfTheModel) {
  auto run_with = [](const char* page_size) {
    const std::string file = temp_path(std::string("mem-") + page_size + ".json");
    std::ofstream(file) << R"({"schema": "iopfsim.scenario/1", "name": "mem", "duration": "20us",
      "domains": [{"name": "vm", "kind": "shared_tdp", "memory": "1GiB", "resident_fraction": 1.0,
                   "page_size": ")" << page_size << R"("}],
      "devices": [{"name": "nic", "domain": "vm", "ats": true, "pri": true,
        "paths": [{"name": "p", "fault_tolerant": true, "workload": {"region_size": "1MiB", "rate": "1Mpps"}}]}]})";
    const json r = run_report(file);
    std::remove(file.c_str());
    return r;
  };
  const json small = run_with("4KiB"), large = run_with("2MiB");
  const json& m4 = small["sim"]["memory"];
  const json& m2 = large["sim"]["memory"];
  EXPECT_GE(m4["page_tables_bytes"].get<uint64_t>(), small["domains"][0]["pt_bytes"].get<uint64_t>());
  EXPECT_GE(m4["page_tables_bytes"].get<uint64_t>(), 2u << 20);
  EXPECT_LT(m2["page_tables_bytes"].get<uint64_t>(), 64u << 10);
  EXPECT_GE(m4["per_page_state_bytes"].get<uint64_t>(), 262144u * 4);
  EXPECT_LT(m4["per_page_state_bytes"].get<uint64_t>(), 262144u * 8);
  EXPECT_GT(m4["caches_bytes"].get<uint64_t>(), 0u);
  EXPECT_GT(m4["statistics_bytes"].get<uint64_t>(), 0u);
  // Six inline calendars (the root complex and the device's link, each way; the IOMMU's walk
  // slots and ATS front end), each a ring of at least 64 bins of 8 B.
  EXPECT_GE(m4["calendars_bytes"].get<uint64_t>(), 6u * 64 * 8);
  EXPECT_EQ(m4["total_bytes"].get<uint64_t>(),
            m4["page_tables_bytes"].get<uint64_t>() + m4["per_page_state_bytes"].get<uint64_t>() +
                m4["caches_bytes"].get<uint64_t>() + m4["statistics_bytes"].get<uint64_t>() +
                m4["calendars_bytes"].get<uint64_t>());
}

}  // namespace

namespace {

// Reclaim's queue stays bounded without reclaim: a page zapped and faulted back 100,000 times
// (no memory pressure, so nothing pops the queue) leaves no trail of old entries. Unbounded,
// 100 ms of this queued 100,000 entries (400 KB) on a 16,384-page guest; the soak saw it.
TEST(SimMemory, ReclaimQueueStaysBoundedUnderRefaults) {
  const std::string file = temp_path("refault.json");
  std::ofstream(file) << R"({"schema": "iopfsim.scenario/1", "name": "refault", "duration": "20ms",
    "domains": [{"name": "vm", "kind": "shared_tdp", "memory": "64MiB", "page_size": "4KiB",
                 "resident_fraction": 1.0}],
    "devices": [{"name": "dev", "domain": "vm", "ats": true, "pri": true,
      "paths": [{"name": "p", "fault_tolerant": true,
                 "workload": {"region_size": "256KiB", "access_size": "64B", "pattern": "random", "rate": "4Mpps"}}]}],
    "invalidations": [{"name": "zap", "domain": "vm", "kind": "page", "action": "zap", "rate": "1Mpps",
                       "region_size": "256KiB"}]})";
  const json short_run = run_report(file);
  const json long_run = run_report(file, "--set /duration=100ms");
  std::remove(file.c_str());
  const uint64_t zaps = long_run["domains"][0]["invalidations_by_reason"]["scripted"]["count"].get<uint64_t>();
  EXPECT_GT(zaps, 50000u);
  EXPECT_GT(long_run["domains"][0]["faults_resolved"].get<uint64_t>(), 20000u);
  const uint64_t bound = (16384 + 16384 / 4 + 4096 + 1) * 4 + 16384 / 8 + 4096;
  EXPECT_LE(short_run["sim"]["memory"]["per_page_state_bytes"].get<uint64_t>(), bound);
  EXPECT_LE(long_run["sim"]["memory"]["per_page_state_bytes"].get<uint64_t>(), bound);
}

}  // namespace
