// Simulated against analytic (issue 10, item 5): the PRQ of scenarios/prq-mmck.json against
// the M/M/c/K chain, the IOTLB under uniform random access against a fully associative LRU,
// and `iopfsim analyze` printing both beside the simulated figures. Each run is its own
// process. The predictions are also recomputed here from their closed forms, so a wrong
// solver and a wrong simulation cannot agree by accident.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <vector>

#include "cli_helpers.hpp"
#include "report_helpers.hpp"

using nlohmann::json;

namespace {

// M/M/c/K by its product form: blocking probability and mean time in system (s).
void mmck(double lambda, double mu, int c, int k, double* blocking, double* response_s) {
  std::vector<double> p{1.0};
  for (int n = 1; n <= k; ++n) p.push_back(p.back() * lambda / (mu * std::min(n, c)));
  double sum = 0, mean_n = 0;
  for (double x : p) sum += x;
  for (int n = 0; n <= k; ++n) mean_n += n * p[n] / sum;
  *blocking = p[k] / sum;
  *response_s = mean_n / (lambda * (1 - *blocking));  // Little's law on accepted requests
}

// A pinned 4 KiB domain, no ATS: every DMA looks up the IOTLB (128 entries, fully
// associative, LRU) at a page drawn uniformly from 512: the hit rate of an LRU cache of C
// entries under the independent reference model with N equally likely pages is C/N.
std::string lru_scenario() {
  const std::string file = temp_path("iotlb-lru.json");
  std::ofstream(file) << R"({"schema": "iopfsim.scenario/1", "name": "iotlb-lru", "duration": "100ms",
   "iommu": {"iotlb": {"entries_4k": 128, "ways_4k": 128, "policy": "lru"}},
   "domains": [{"name": "vm", "kind": "pinned", "memory": "64MiB", "page_size": "4KiB"}],
   "devices": [{"name": "nic", "domain": "vm", "ats": false, "pri": false,
     "paths": [{"name": "rx", "workload": {"region_size": "2MiB", "pattern": "random", "access_size": "64B",
                                            "op": "read", "rate": "10Mpps"}}]}]})";
  return file;
}

}  // namespace

// 10^6 page requests (12.5 s simulated at 80k/s; 15-40 s of wall time on a shared 2-core
// machine), the issue's figure. The tolerances come from the spread over seeds: at 10^6
// requests seeds 1-5 gave a blocking error of +1.5, +0.3, +1.9, +0.6 and +1.0 % (mean +1.1 %,
// sd 0.6 %: blocking counts rare, correlated runs of a full queue; the 100 ns hand-off that
// holds an entry before a handler may add a bias of under 1 %) and a response error of
// +0.1, +0.3, +0.5, -0.1 and -0.1 % (sd 0.3 %). So blocking within 2 % (the issue's bound; the
// scenario's seed 1 gives +1.5 %) and the response within 1 % (over 3 sd). A wrong model is far
// outside: a service mean 5 % off (21 us) moves the prediction by +27 % (blocking) and +10 %
// (response); one PRQ entry more or less by -23 % / +31 % (blocking). Checked by running this
// test once against the closed form given 21 us: it failed on both figures (+20 %, +9 %).
constexpr double kTolBlocking = 0.02;
constexpr double kTolResponse = 0.01;

TEST(AnalyticCrossCheck, PrqMatchesMmckOnAMillionPageRequests) {
  const json r = run_report(scenario("prq-mmck.json"), "--set /duration=12.5s");
  ASSERT_TRUE(r.contains("analytic") && r["analytic"].contains("prq")) << r.dump().substr(0, 400);
  const json& a = r["analytic"]["prq"];
  EXPECT_TRUE(a["exact"].get<bool>()) << a["departures"].dump();
  const json &pred = a["predicted"], &sim = a["simulated"];
  EXPECT_GE(sim["requests"].get<uint64_t>(), 990000u);
  double blocking = 0, response_s = 0;
  mmck(80e3, 1 / 20e-6, 2, 8, &blocking, &response_s);
  EXPECT_NEAR(pred["blocking_probability"].get<double>(), blocking, 1e-12);
  EXPECT_NEAR(pred["mean_response_ns"].get<double>(), response_s * 1e9 + 100, 1e-6);  // + the 100 ns hand-off
  const double rel_b = sim["blocking_probability"].get<double>() / blocking - 1;
  const double rel_w = sim["mean_response_ns"].get<double>() / (response_s * 1e9 + 100) - 1;
  EXPECT_LT(std::fabs(rel_b), kTolBlocking) << "simulated blocking " << sim["blocking_probability"] << " vs " << blocking;
  EXPECT_LT(std::fabs(rel_w), kTolResponse) << "simulated response " << sim["mean_response_ns"] << " vs "
                                     << response_s * 1e9 + 100;
  EXPECT_TRUE(r["checks"]["conservation_ok"].get<bool>());
}

// 10^6 lookups at a hit rate of 1/4: the binomial sd of the simulated hit rate is 0.17 % of
// it, so the issue's 1 % is 6 sd. A wrong model is outside it: a 2-way IOTLB of the same
// size, or the prediction of a cache of 124 entries (-3 %), would fail (checked once with
// 124: the simulated hit rate was 3.3 % above it).
TEST(AnalyticCrossCheck, IotlbHitRateMatchesFullyAssociativeLru) {
  const std::string file = lru_scenario();
  const json r = run_report(file, "");
  std::remove(file.c_str());
  ASSERT_TRUE(r.contains("analytic") && r["analytic"].contains("iotlb"));
  const json& a = r["analytic"]["iotlb"];
  EXPECT_TRUE(a["exact"].get<bool>()) << a["departures"].dump();
  EXPECT_NEAR(a["predicted"]["hit_rate"].get<double>(), 128.0 / 512.0, 1e-9);
  EXPECT_GE(a["simulated"]["lookups"].get<uint64_t>(), 1000000u);
  EXPECT_NEAR(a["simulated"]["hit_rate"].get<double>() / 0.25, 1.0, 0.01);
  EXPECT_EQ(a["simulated"]["hits"].get<uint64_t>(), r["iommu"]["iotlb"]["hits"].get<uint64_t>());
}

// `iopfsim analyze` prints each prediction beside the simulated figure.
TEST(AnalyticCrossCheck, AnalyzePrintsBothPredictionsBesideTheSimulatedFigures) {
  const CmdResult prq = run_iopfsim("analyze " + scenario("prq-mmck.json") + " --set /duration=100ms");
  ASSERT_EQ(prq.status, 0) << prq.err;
  EXPECT_NE(prq.out.find("as M/M/2/8 (exact)"), std::string::npos) << prq.out;
  EXPECT_NE(prq.out.find("blocking probability  predicted 0.043817  simulated "), std::string::npos) << prq.out;
  EXPECT_NE(prq.out.find("mean response (ns)    predicted 38598.4  simulated "), std::string::npos) << prq.out;
  const std::string file = lru_scenario();
  const CmdResult lru = run_iopfsim("analyze " + file + " --set /duration=10ms");
  std::remove(file.c_str());
  ASSERT_EQ(lru.status, 0) << lru.err;
  EXPECT_NE(lru.out.find("as LRU (exact), C=128 N=512"), std::string::npos) << lru.out;
  EXPECT_NE(lru.out.find("hit rate  predicted 0.250000  simulated 0.2"), std::string::npos) << lru.out;
}
