// Observation of a run (sim/observer.hpp): the time series (--timeseries). Observers must
// not change a report: the runs here with observers match the golden reports; and what they
// write must add up to the report.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <vector>

#include "cli_helpers.hpp"

using nlohmann::json;

namespace {

struct Csv {
  std::vector<std::string> head;
  std::vector<std::vector<std::string>> rows;
  size_t col(const std::string& name) const {
    for (size_t i = 0; i < head.size(); ++i)
      if (head[i] == name) return i;
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

Csv read_csv(const std::string& text) {
  Csv c;
  std::stringstream ss(text);
  std::string line;
  std::getline(ss, line);
  c.head = split(line);
  while (std::getline(ss, line)) {
    c.rows.push_back(split(line));
    EXPECT_EQ(c.rows.back().size(), c.head.size()) << line;
  }
  return c;
}

uint64_t sum(const Csv& c, const std::string& column) {
  const size_t i = c.col(column);
  uint64_t s = 0;
  for (const auto& r : c.rows) s += std::stoull(r[i]);
  return s;
}

json run_with(const std::string& name, const std::string& extra) {
  const std::string report = temp_path("obs-" + name + ".json");
  const CmdResult r = run_iopfsim_in(IOPFSIM_SOURCE_DIR, "run scenarios/" + name + ".json --checker --quiet --report " +
                                                             report + " " + extra);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  json got = json::parse(slurp(report));
  std::remove(report.c_str());
  got["sim"].erase("wall_s");
  got["sim"].erase("dma_per_wall_s");
  return got;
}

class TimeseriesAddsUp : public ::testing::TestWithParam<std::string> {};

// The scenario's golden report is unchanged with a time series, and per path the intervals'
// counts sum to the report's; intervals tile [0, sim.simulated_ns] in order.
TEST_P(TimeseriesAddsUp, SumsEqualReportAndGoldenUnchanged) {
  const std::string name = GetParam();
  const std::string csv_path = temp_path("obs-" + name + ".csv");
  const json got = run_with(name, "--timeseries " + csv_path + " --sample-interval 50us");
  const json golden = json::parse(slurp(std::string(IOPFSIM_SOURCE_DIR) + "/tests/golden/" + name + ".json"));
  EXPECT_TRUE(json::diff(golden, got).empty()) << json::diff(golden, got).dump().substr(0, 400);
  const Csv c = read_csv(slurp(csv_path));
  std::remove(csv_path.c_str());
  ASSERT_GE(c.rows.size(), 2u);
  uint64_t prev_end = 0;
  for (const auto& r : c.rows) {
    EXPECT_EQ(std::stoull(r[0]), prev_end);
    EXPECT_GE(std::stoull(r[1]), std::stoull(r[0]));
    prev_end = std::stoull(r[1]);
  }
  EXPECT_EQ(prev_end, got["sim"]["simulated_ns"].get<uint64_t>());
  for (const json& d : got["devices"])
    for (const json& p : d["paths"]) {
      const std::string o = d["name"].get<std::string>() + "/" + p["name"].get<std::string>() + "/";
      EXPECT_EQ(sum(c, o + "completed"), p["dma"]["completed"].get<uint64_t>()) << o;
      EXPECT_EQ(sum(c, o + "bytes"), p["dma"]["bytes"].get<uint64_t>()) << o;
      EXPECT_EQ(sum(c, o + "failed"), p["dma"]["failed"].get<uint64_t>()) << o;
      EXPECT_EQ(sum(c, o + "page_requests"), p["page_requests"].get<uint64_t>()) << o;
    }
  for (const json& dom : got["domains"]) {
    const std::string o = "domain/" + dom["name"].get<std::string>() + "/";
    for (auto it = dom["invalidations_by_reason"].begin(); it != dom["invalidations_by_reason"].end(); ++it)
      EXPECT_EQ(sum(c, o + "invalidations." + it.key()), it.value()["count"].get<uint64_t>()) << o << it.key();
    const auto& last = c.rows.back();
    EXPECT_EQ(std::stoull(last[c.col(o + "resident_bytes")]), dom["resident_bytes"].get<uint64_t>()) << o;
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, TimeseriesAddsUp,
                         ::testing::Values("quickstart", "nic-partial-reclaim-fault-all", "sva-accelerator"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string s = i.param;
                           for (char& ch : s)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

// A faulting scenario shows page requests and latencies somewhere in its rows, and an
// interval with no completion leaves its percentiles empty rather than 0.
TEST(Timeseries, LatencyColumnsAndBadInterval) {
  const std::string csv_path = temp_path("obs-lat.csv");
  run_with("quickstart", "--timeseries " + csv_path + " --sample-interval 10us");
  const Csv c = read_csv(slurp(csv_path));
  std::remove(csv_path.c_str());
  size_t with_latency = 0;
  for (size_t i = 0; i < c.head.size(); ++i)
    if (c.head[i].size() > 15 && c.head[i].substr(c.head[i].size() - 15) == "/latency_ns.p99")
      for (size_t r = 0; r < c.rows.size(); ++r) {
        const size_t completed = c.col(c.head[i].substr(0, c.head[i].size() - 14) + "completed");
        EXPECT_EQ(c.rows[r][i].empty(), c.rows[r][completed] == "0") << c.head[i] << " row " << r;
        if (!c.rows[r][i].empty()) ++with_latency;
      }
  EXPECT_GT(with_latency, 0u);
  const CmdResult bad = run_iopfsim("run " + scenario("quickstart.json") + " --quiet --timeseries " + csv_path +
                                    " --sample-interval 0us");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--sample-interval"), std::string::npos) << bad.err;
}

}  // namespace

namespace {

// Runs iopfsim under script(1), so its stderr (and stdout) is a terminal; returns what the
// terminal showed.
std::string on_a_terminal(const std::string& args) {
  const std::string out = temp_path("tty-out");
  const std::string cmd = "script -qec \"" + std::string(IOPFSIM_BIN) + " " + args + "\" /dev/null >" + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd;
  const std::string text = slurp(out);
  std::remove(out.c_str());
  return text;
}

// Progress shows on a terminal only, and not with --quiet; it never changes the report.
TEST(Progress, OnlyOnATerminalAndNotQuiet) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "script(1) is not installed";
  const std::string tty = on_a_terminal("run " + scenario("quickstart.json"));
  EXPECT_NE(tty.find("DMA/wall-s"), std::string::npos) << tty;
  EXPECT_NE(tty.find("simulated "), std::string::npos) << tty;
  const std::string quiet = on_a_terminal("run " + scenario("quickstart.json") + " --quiet");
  EXPECT_EQ(quiet.find("DMA/wall-s"), std::string::npos) << quiet;
  const CmdResult piped = run_iopfsim("run " + scenario("quickstart.json"));
  EXPECT_EQ(piped.status, 0);
  EXPECT_EQ(piped.err, "");  // stderr is a file here: nothing
  EXPECT_NE(piped.out.find("quickstart"), std::string::npos);  // the summary is still there
}

}  // namespace

namespace {

json run_traced(const std::string& name, const std::string& trace_args, std::string* err = nullptr) {
  const std::string trace_path = temp_path("trace-" + name + ".json");
  const json got = [&] {
    const std::string report = temp_path("trace-report-" + name + ".json");
    const CmdResult r = run_iopfsim_in(IOPFSIM_SOURCE_DIR, "run scenarios/" + name + ".json --checker --quiet --report " +
                                                               report + " --trace " + trace_path + " " + trace_args);
    EXPECT_EQ(r.status, 0) << r.err;
    if (err) *err = r.err;
    json rep = json::parse(slurp(report));
    std::remove(report.c_str());
    rep["sim"].erase("wall_s");
    rep["sim"].erase("dma_per_wall_s");
    return rep;
  }();
  const json golden = json::parse(slurp(std::string(IOPFSIM_SOURCE_DIR) + "/tests/golden/" + name + ".json"));
  EXPECT_TRUE(json::diff(golden, got).empty()) << name << ": a trace changed the report";
  json trace = json::parse(slurp(trace_path));  // throws (test fails) unless it parses
  std::remove(trace_path.c_str());
  return trace;
}

std::map<std::string, size_t> categories(const json& trace) {
  std::map<std::string, size_t> n;
  for (const json& e : trace["traceEvents"])
    if (e["ph"] != "M") ++n[e["cat"].get<std::string>()];
  return n;
}

TEST(Trace, FaultingScenarioHasEveryCategoryAndMatchedPageRequests) {
  const json t = run_traced("nic-partial-reclaim-fault-all", "");
  const auto n = categories(t);
  for (const char* c : {"page_request", "fault", "invalidation", "reclaim"}) EXPECT_GT(n.count(c) ? n.at(c) : 0, 0u) << c;
  EXPECT_FALSE(t["otherData"]["truncated"].get<bool>());
  std::map<std::string, int> open;  // every page request begun is ended, once
  size_t faults_on_cores = 0;
  for (const json& e : t["traceEvents"]) {
    if (e["ph"] == "b") ++open[e["id"].get<std::string>()];
    if (e["ph"] == "e") --open[e["id"].get<std::string>()];
    if (e["ph"] == "X" && e["cat"] == "fault") {
      EXPECT_EQ(e["pid"], 1);
      EXPECT_LT(e["tid"].get<int>(), 4);  // a host core
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      ++faults_on_cores;
    }
  }
  for (const auto& [id, balance] : open) EXPECT_EQ(balance, 0) << id;
  EXPECT_GT(faults_on_cores, 0u);
}

TEST(Trace, ResetsShowOnTheirDevice) {
  const json t = run_traced("nic-faultable", "");
  size_t resets = 0;
  for (const json& e : t["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "reset") {
      EXPECT_EQ(e["pid"], 10);
      ++resets;
    }
  EXPECT_EQ(resets, 1u);  // the golden report's one reset
}

TEST(Trace, WindowLimitsTimestampsAndCapStops) {
  const json t = run_traced("nic-partial-reclaim-fault-all", "--trace-window 10ms:12ms");
  size_t events = 0;
  for (const json& e : t["traceEvents"]) {
    if (e["ph"] == "M") continue;
    ++events;
    EXPECT_GE(e["ts"].get<double>(), 10000.0) << e.dump();
    EXPECT_LE(e["ts"].get<double>(), 12000.0) << e.dump();
  }
  EXPECT_GT(events, 0u);
  const json whole = run_traced("nic-partial-reclaim-fault-all", "");
  EXPECT_LT(events, whole["otherData"]["events"].get<uint64_t>());

  std::string err;
  const json capped = run_traced("nic-partial-reclaim-fault-all", "--trace-max-events 50", &err);
  EXPECT_TRUE(capped["otherData"]["truncated"].get<bool>());
  EXPECT_EQ(capped["otherData"]["events"].get<uint64_t>() <= 50 + 64, true);  // plus the ends of open requests
  EXPECT_NE(err.find("stopped recording"), std::string::npos) << err;

  const CmdResult bad = run_iopfsim("run " + scenario("quickstart.json") + " --quiet --trace " +
                                    temp_path("bad.json") + " --trace-window 2ms:1ms");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--trace-window"), std::string::npos) << bad.err;
}

}  // namespace
