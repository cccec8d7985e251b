// `iopfsim sweep` on tests/data/sweep-small.json (2 rates x 2 resident fractions x 2 replicas
// of a 300 us scenario): the CSV files against the point reports, determinism, --resume,
// seeds, zip, failures and strict validation of the sweep file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/math/distributions/students_t.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "cli_helpers.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(IOPFSIM_SOURCE_DIR) + "/tests/data";

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  size_t col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
  const std::string& at(size_t row, const std::string& name) const { return rows.at(row).at(col(name)); }
};

std::vector<std::string> split(const std::string& line) {  // RFC 4180 fields on one line
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

Csv read_csv(const std::string& path) {
  Csv c;
  std::istringstream in(slurp(path));
  std::string line;
  if (std::getline(in, line)) c.header = split(line);
  while (std::getline(in, line)) {
    c.rows.push_back(split(line));
    EXPECT_EQ(c.rows.back().size(), c.header.size()) << path << ": " << line;
  }
  return c;
}

class Sweep : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_path("sweep");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A sweep file in the temp dir over the test base scenario.
  std::string write_sweep(json j, const std::string& stem) {
    if (!j.contains("scenario")) j["scenario"] = kData + "/sweep-base.json";
    const std::string p = dir_ + "/" + stem + ".json";
    std::ofstream(p) << j.dump(1);
    return p;
  }
  static json small() { return json::parse(slurp(kData + "/sweep-small.json")); }
  std::string dir_;
};

TEST_F(Sweep, PointsCsvMatchesReportsAndSummaryHasStudentT) {
  const std::string out = dir_ + "/out";
  const CmdResult r = run_iopfsim("sweep " + kData + "/sweep-small.json -j 2 --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("\r"), std::string::npos);  // no progress line when stderr is not a terminal
  const Csv pts = read_csv(out + "/points.csv");
  ASSERT_EQ(pts.rows.size(), 8u);  // 2 x 2 points x 2 replicas
  const std::vector<std::string> fixed{"point", "replica", "rate", "resident", "seed", "exit_status"};
  for (size_t i = 0; i < fixed.size(); ++i) EXPECT_EQ(pts.header.at(i), fixed[i]);
  const std::string p99 = "nic0/rx/dma.latency_ns.p99", res = "domain/vm0/resident_bytes";
  const std::vector<std::string> rates{"500kpps", "500kpps", "1Mpps", "1Mpps"}, fracs{"0.25", "0.75", "0.25", "0.75"};
  std::map<std::string, int> seeds;
  for (size_t i = 0; i < pts.rows.size(); ++i) {
    const size_t p = i / 2, rep = i % 2;
    EXPECT_EQ(pts.at(i, "point"), std::to_string(p));
    EXPECT_EQ(pts.at(i, "replica"), std::to_string(rep));
    EXPECT_EQ(pts.at(i, "rate"), rates[p]);
    EXPECT_EQ(pts.at(i, "resident"), fracs[p]);
    EXPECT_EQ(pts.at(i, "exit_status"), "0");
    ++seeds[pts.at(i, "seed")];
    char id[32];
    std::snprintf(id, sizeof id, "p%04zu-r%zu", p, rep);
    const json rep_json = json::parse(slurp(out + "/points/" + id + ".json"));
    EXPECT_EQ(rep_json["seed"].dump(), pts.at(i, "seed"));
    EXPECT_EQ(rep_json["devices"][0]["paths"][0]["dma"]["latency_ns"]["p99"].dump(), pts.at(i, p99));
    EXPECT_EQ(rep_json["domains"][0]["resident_bytes"].dump(), pts.at(i, res));
    EXPECT_TRUE(rep_json["checks"]["checker"].get<bool>());  // "checker": true reaches the runs
  }
  EXPECT_EQ(seeds.size(), 8u);  // every run its own seed
  // The axes reached the runs: more resident memory, fewer page requests; faster rate, more DMAs.
  EXPECT_LT(std::stod(pts.at(2, "nic0/rx/page_requests")), std::stod(pts.at(0, "nic0/rx/page_requests")));
  EXPECT_LT(std::stod(pts.at(0, "nic0/rx/dma.completed")), std::stod(pts.at(4, "nic0/rx/dma.completed")));

  const Csv sum = read_csv(out + "/summary.csv");
  ASSERT_EQ(sum.rows.size(), 4u);
  const double t = boost::math::quantile(boost::math::students_t_distribution<double>(1), 0.975);
  for (size_t p = 0; p < 4; ++p) {
    EXPECT_EQ(sum.at(p, "replicas"), "2");
    EXPECT_EQ(sum.at(p, "rate"), rates[p]);
    const double a = std::stod(pts.at(2 * p, p99)), b = std::stod(pts.at(2 * p + 1, p99));
    const double mean = (a + b) / 2, half = t * std::fabs(a - b) / std::sqrt(2.0) / std::sqrt(2.0);
    EXPECT_DOUBLE_EQ(std::stod(sum.at(p, p99 + ":mean")), mean);
    EXPECT_NEAR(std::stod(sum.at(p, p99 + ":ci95_low")), mean - half, 1e-6 * mean);
    EXPECT_NEAR(std::stod(sum.at(p, p99 + ":ci95_high")), mean + half, 1e-6 * mean);
  }
}

// A sweep's child runs the command in the forked image of the sweep (SweepOptions::run_in_child),
// without executing the binary again: each point's report must still be the one `iopfsim run`
// gives alone with that point's seed and overrides (wall-clock fields aside), so nothing of
// the sweep process (its arguments, its loaded scenarios, its state) reaches the run.
TEST_F(Sweep, EachPointReportIsThatOfTheRunAlone) {
  const std::string out = dir_ + "/out";
  ASSERT_EQ(run_iopfsim("sweep " + kData + "/sweep-small.json -j 2 --out " + out).status, 0);
  auto strip = [](json r) {
    r["sim"].erase("wall_s");
    r["sim"].erase("dma_per_wall_s");
    return r;
  };
  int compared = 0;
  for (const auto& e : fs::directory_iterator(out + "/points")) {
    const std::string path = e.path().string();
    if (path.size() < 10 || path.substr(path.size() - 10) != ".meta.json") continue;
    const json meta = json::parse(slurp(path));
    const std::string id = e.path().filename().string().substr(0, e.path().filename().string().size() - 10);
    std::string args = "run " + kData + "/sweep-base.json --quiet --checker --seed " + meta["seed"].dump() +
                       " --report " + dir_ + "/alone.json";
    for (const json& s : meta["sets"]) args += " --set '" + s.get<std::string>() + "'";
    const CmdResult alone = run_iopfsim(args);
    ASSERT_EQ(alone.status, 0) << args << "\n" << alone.err;
    const json diff = json::diff(strip(json::parse(slurp(dir_ + "/alone.json"))),
                                 strip(json::parse(slurp(out + "/points/" + id + ".json"))));
    EXPECT_TRUE(diff.empty()) << id << ": the sweep's report differs from the run alone: " << diff.dump();
    ++compared;
  }
  EXPECT_EQ(compared, 8);
}

TEST_F(Sweep, SameBytesTwiceAndResumeRunsNothing) {
  const std::string a = dir_ + "/a", b = dir_ + "/b";
  ASSERT_EQ(run_iopfsim("sweep " + kData + "/sweep-small.json -j 2 --out " + a).status, 0);
  ASSERT_EQ(run_iopfsim("sweep " + kData + "/sweep-small.json -j 1 --out " + b).status, 0);
  for (const char* f : {"points.csv", "summary.csv", "failed.csv"}) EXPECT_EQ(slurp(a + "/" + f), slurp(b + "/" + f)) << f;
  const auto before = fs::last_write_time(a + "/points/p0001-r1.json");
  const std::string points = slurp(a + "/points.csv");
  const CmdResult r = run_iopfsim("sweep " + kData + "/sweep-small.json -j 2 --resume --out " + a);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("0 run, 8 resumed"), std::string::npos) << r.err;
  EXPECT_EQ(fs::last_write_time(a + "/points/p0001-r1.json"), before);
  EXPECT_EQ(slurp(a + "/points.csv"), points);
  // A changed base scenario (another hash) is run again despite --resume.
  json base = json::parse(slurp(kData + "/sweep-base.json"));
  base["duration"] = "200us";
  std::ofstream(dir_ + "/base2.json") << base.dump(1);
  json sw = small();
  sw["scenario"] = dir_ + "/base2.json";
  const CmdResult r2 = run_iopfsim("sweep " + write_sweep(sw, "changed") + " --resume --out " + a);
  ASSERT_EQ(r2.status, 0) << r2.err;
  EXPECT_NE(r2.err.find("8 run, 0 resumed"), std::string::npos) << r2.err;
}

TEST_F(Sweep, AddingAnAxisValueKeepsOtherSeeds) {
  json sw = small();
  sw["scenario"] = kData + "/sweep-base.json";
  sw["replicas"] = 1;
  ASSERT_EQ(run_iopfsim("sweep " + write_sweep(sw, "two") + " --out " + dir_ + "/two").status, 0);
  sw["axes"][0]["values"] = {"250kpps", "500kpps", "1Mpps"};
  ASSERT_EQ(run_iopfsim("sweep " + write_sweep(sw, "three") + " --out " + dir_ + "/three").status, 0);
  const Csv two = read_csv(dir_ + "/two/points.csv"), three = read_csv(dir_ + "/three/points.csv");
  ASSERT_EQ(two.rows.size(), 4u);
  ASSERT_EQ(three.rows.size(), 6u);
  std::map<std::string, std::string> seed_of;
  for (size_t i = 0; i < three.rows.size(); ++i) seed_of[three.at(i, "rate") + " " + three.at(i, "resident")] = three.at(i, "seed");
  for (size_t i = 0; i < two.rows.size(); ++i)
    EXPECT_EQ(two.at(i, "seed"), seed_of.at(two.at(i, "rate") + " " + two.at(i, "resident")));
}

TEST_F(Sweep, ZipRangesAndLogScale) {
  const json sw = json::parse(R"({"schema": "iopfsim.sweep/1", "name": "z", "combine": "zip",
    "axes": [{"name": "memory", "pointer": "/host/memory",
              "range": {"from": 1073741824, "to": 8589934592, "points": 4, "scale": "log"}},
             {"name": "duration", "pointer": "/duration", "range": {"from": 100000, "to": 250000, "step": 50000}}]})");
  const CmdResult r = run_iopfsim("sweep " + write_sweep(sw, "zip") + " --out " + dir_ + "/z");
  ASSERT_EQ(r.status, 0) << r.err;
  const Csv pts = read_csv(dir_ + "/z/points.csv");
  ASSERT_EQ(pts.rows.size(), 4u);
  const std::vector<std::string> mem{"1073741824", "2147483648", "4294967296", "8589934592"},
      dur{"100000", "150000", "200000", "250000"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(pts.at(i, "memory"), mem[i]);
    EXPECT_EQ(pts.at(i, "duration"), dur[i]);
    const json rep = json::parse(slurp(dir_ + "/z/points/p000" + std::to_string(i) + "-r0.json"));
    EXPECT_EQ(rep["host"]["memory_bytes"].dump(), mem[i]);
    EXPECT_EQ(rep["sim"]["window_ns"].dump(), dur[i]);
  }
  json bad = sw;
  bad["axes"][1]["range"]["to"] = 300000;  // 5 values against 4
  const CmdResult b = run_iopfsim("sweep " + write_sweep(bad, "zipbad") + " --out " + dir_ + "/zb");
  EXPECT_EQ(b.status, 2);
  EXPECT_NE(b.err.find("zipbad.json: at /axes/1"), std::string::npos) << b.err;
}

TEST_F(Sweep, FailedPointIsListedAndOthersRun) {
  // 128 MiB of host memory cannot hold vm1's 256 MiB of pinned memory: that point is bad input.
  const json sw = json::parse(R"({"schema": "iopfsim.sweep/1", "name": "f",
    "axes": [{"name": "host_memory", "pointer": "/host/memory", "values": ["128MiB", "2GiB"]}]})");
  const CmdResult r = run_iopfsim("sweep " + write_sweep(sw, "fail") + " --out " + dir_ + "/f");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("p0000-r0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/host/memory"), std::string::npos) << r.err;
  const Csv pts = read_csv(dir_ + "/f/points.csv");
  ASSERT_EQ(pts.rows.size(), 2u);
  EXPECT_EQ(pts.at(0, "exit_status"), "2");
  EXPECT_EQ(pts.at(0, "nic0/rx/dma.completed"), "");
  EXPECT_EQ(pts.at(1, "exit_status"), "0");
  EXPECT_NE(pts.at(1, "nic0/rx/dma.completed"), "");
  const Csv failed = read_csv(dir_ + "/f/failed.csv");
  ASSERT_EQ(failed.rows.size(), 1u);
  EXPECT_EQ(failed.at(0, "exit_status"), "2");
  EXPECT_TRUE(fs::exists(dir_ + "/f/points/p0001-r0.json"));
  EXPECT_FALSE(fs::exists(dir_ + "/f/points/p0000-r0.json"));
}

TEST_F(Sweep, ChildFailureIsListedWithItsStatusAndMessage) {
  // Point 0 is valid input whose simulation fails inside (an injected actor exception): its
  // child exits 1 after the check in this process passed; the other point still runs.
  const json sw = json::parse(R"({"schema": "iopfsim.sweep/1", "name": "c",
    "axes": [{"name": "inject", "pointer": "/engine/inject", "values": ["actor_exception", "none"]}]})");
  const CmdResult r = run_iopfsim("sweep " + write_sweep(sw, "child") + " -j 2 --out " + dir_ + "/c");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("run p0000-r0 (actor_exception"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exit status 1: iopfsim: internal error"), std::string::npos) << r.err;
  const Csv failed = read_csv(dir_ + "/c/failed.csv");
  ASSERT_EQ(failed.rows.size(), 1u);
  EXPECT_EQ(failed.at(0, "point"), "0");
  EXPECT_EQ(failed.at(0, "exit_status"), "1");
  EXPECT_NE(failed.at(0, "message").find("injected failure"), std::string::npos) << failed.at(0, "message");
  const Csv pts = read_csv(dir_ + "/c/points.csv");
  ASSERT_EQ(pts.rows.size(), 2u);
  EXPECT_EQ(pts.at(1, "exit_status"), "0");
  EXPECT_TRUE(fs::exists(dir_ + "/c/points/p0001-r0.meta.json"));
  EXPECT_FALSE(fs::exists(dir_ + "/c/points/p0000-r0.meta.json"));
}

struct BadSweep {
  const char* label;
  const char* json_text;
  const char* pointer;
};
void PrintTo(const BadSweep& b, std::ostream* os) { *os << b.label; }

class SweepBadInput : public Sweep, public ::testing::WithParamInterface<BadSweep> {};

TEST_P(SweepBadInput, Exits2NamingFileAndPointer) {
  const std::string file = write_sweep(json::parse(GetParam().json_text), "bad");
  const CmdResult r = run_iopfsim("sweep " + file + " --out " + dir_ + "/o");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find(file + ": at " + GetParam().pointer), std::string::npos) << r.err;
}

#define AX R"("axes": [{"name": "r", "pointer": "/devices/0/paths/0/workload/rate", "values": ["1Mpps"]}])"
INSTANTIATE_TEST_SUITE_P(
    Cases, SweepBadInput,
    ::testing::Values(
        BadSweep{"UnknownTopKey", R"({"schema": "iopfsim.sweep/1", "name": "b", "bogus": 1, )" AX "}", "/bogus"},
        BadSweep{"WrongSchema", R"({"schema": "iopfsim.sweep/2", "name": "b", )" AX "}", "/schema"},
        BadSweep{"MissingName", R"({"schema": "iopfsim.sweep/1", )" AX "}", "/:"},
        BadSweep{"UnknownAxisKey",
                 R"({"schema": "iopfsim.sweep/1", "name": "b", "axes": [{"name": "r", "pointer": "/seed", "values": [1], "step": 2}]})",
                 "/axes/0/step"},
        BadSweep{"ValuesAndRange",
                 R"({"schema": "iopfsim.sweep/1", "name": "b", "axes": [{"name": "r", "pointer": "/seed", "values": [1], "range": {"from": 1, "to": 2, "step": 1}}]})",
                 "/axes/0:"},
        BadSweep{"UnknownRangeKey",
                 R"({"schema": "iopfsim.sweep/1", "name": "b", "axes": [{"name": "r", "pointer": "/seed", "range": {"from": 1, "to": 2, "stride": 1}}]})",
                 "/axes/0/range/stride"},
        BadSweep{"ZeroStep",
                 R"({"schema": "iopfsim.sweep/1", "name": "b", "axes": [{"name": "r", "pointer": "/seed", "range": {"from": 1, "to": 2, "step": 0}}]})",
                 "/axes/0/range/step"},
        BadSweep{"DuplicateAxisName",
                 R"({"schema": "iopfsim.sweep/1", "name": "b", "axes": [{"name": "r", "pointer": "/seed", "values": [1]}, {"name": "r", "pointer": "/duration", "values": [1000]}]})",
                 "/axes/1/name"},
        BadSweep{"BadReplicas", R"({"schema": "iopfsim.sweep/1", "name": "b", "replicas": 0, )" AX "}", "/replicas"},
        BadSweep{"EmptyAxes", R"({"schema": "iopfsim.sweep/1", "name": "b", "axes": []})", "/axes"},
        BadSweep{"EmptyValues",
                 R"({"schema": "iopfsim.sweep/1", "name": "b", "axes": [{"name": "r", "pointer": "/seed", "values": []}]})",
                 "/axes/0/values"},
        BadSweep{"BadCombine", R"({"schema": "iopfsim.sweep/1", "name": "b", "combine": "mesh", )" AX "}", "/combine"}),
    [](const ::testing::TestParamInfo<BadSweep>& i) { return std::string(i.param.label); });
#undef AX

TEST_F(Sweep, MissingSweepOrBaseFileExits2) {
  CmdResult r = run_iopfsim("sweep " + dir_ + "/nope.json --out " + dir_ + "/o");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(dir_ + "/nope.json"), std::string::npos) << r.err;
  json sw = small();
  sw["scenario"] = "missing-base.json";
  r = run_iopfsim("sweep " + write_sweep(sw, "nobase") + " --out " + dir_ + "/o");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(dir_ + "/missing-base.json"), std::string::npos) << r.err;  // relative to the sweep file
}

TEST_F(Sweep, EveryPointBadExits2) {
  const json sw = json::parse(R"({"schema": "iopfsim.sweep/1", "name": "t",
    "axes": [{"name": "typo", "pointer": "/host/memroy", "values": ["1GiB", "2GiB"]}]})");
  const CmdResult r = run_iopfsim("sweep " + write_sweep(sw, "typo") + " --out " + dir_ + "/t");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("/host/memroy"), std::string::npos) << r.err;
}

}  // namespace
