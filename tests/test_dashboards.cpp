// `iopfsim export` and `iopfsim compare` on a real report of a small scenario (quickstart,
// run once per test process): each format's structure, and its values against the report's.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli_helpers.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class Dashboards : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = temp_path("dash");
    fs::create_directories(dir_);
    report_path_ = dir_ + "/base.json";
    const CmdResult r = run_iopfsim("run " + scenario("quickstart.json") + " --quiet --report " + report_path_);
    ASSERT_EQ(r.status, 0) << r.err;
    report_ = json::parse(slurp(report_path_));
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string write(const json& j, const std::string& stem) {
    const std::string p = dir_ + "/" + stem;
    std::ofstream(p) << j.dump(1);
    return p;
  }
  static CmdResult export_as(const std::string& format, const std::string& file = report_path_) {
    return run_iopfsim("export " + file + " --format " + format);
  }
  static const json& path0() { return report_["devices"][0]["paths"][0]; }
  static std::string path0_name() {
    return report_["scenario"]["name"].get<std::string>() + "/" + report_["devices"][0]["name"].get<std::string>() +
           "/" + path0()["name"].get<std::string>();
  }
  // CSV rows name -> (unit, value text).
  static std::map<std::string, std::pair<std::string, std::string>> csv_rows(const std::string& text) {
    std::map<std::string, std::pair<std::string, std::string>> rows;
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "name,unit,value");
    while (std::getline(in, line)) {
      const size_t a = line.find(','), b = line.rfind(',');
      EXPECT_NE(a, b) << line;
      EXPECT_TRUE(rows.emplace(line.substr(0, a), std::make_pair(line.substr(a + 1, b - a - 1), line.substr(b + 1))).second)
          << "duplicate metric " << line;
    }
    return rows;
  }

  static std::string dir_, report_path_;
  static json report_;
};
std::string Dashboards::dir_, Dashboards::report_path_;
json Dashboards::report_;

// Counted here independently of the exporter: numeric leaves of devices (without paths),
// paths, domains, iommu and host, an empty histogram counting only its count.
size_t count_leaves(const json& j) {
  if (j.is_number()) return 1;
  if (!j.is_object()) return 0;
  if (j.contains("count") && j.contains("p99")) return j["count"].get<double>() == 0 ? 1 : 8;
  size_t n = 0;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "paths") n += count_leaves(it.value());
  return n;
}

TEST_F(Dashboards, CsvHasEveryLeafWithReportValues) {
  const CmdResult r = export_as("csv");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = csv_rows(r.out);
  size_t want = count_leaves(report_["iommu"]) + count_leaves(report_["host"]);
  for (const json& d : report_["devices"]) {
    want += count_leaves(d);
    for (const json& p : d["paths"]) want += count_leaves(p);
  }
  for (const json& d : report_["domains"]) want += count_leaves(d);
  EXPECT_EQ(rows.size(), want);
  const json& lat = path0()["dma"]["latency_ns"];
  EXPECT_EQ(rows.at(path0_name() + "/dma.latency_ns.p99"), std::make_pair(std::string("ns"), lat["p99"].dump()));
  EXPECT_EQ(rows.at(path0_name() + "/dma.latency_ns.mean").second, lat["mean"].dump());
  EXPECT_EQ(rows.at(path0_name() + "/dma.throughput.ops_per_s").first, "ops/s");
  const json& vm0 = report_["domains"][0];
  EXPECT_EQ(rows.at("quickstart/domain/" + vm0["name"].get<std::string>() + "/resident_bytes"),
            std::make_pair(std::string("bytes"), vm0["resident_bytes"].dump()));
  EXPECT_EQ(rows.at("quickstart/iommu/prq.max_depth").second, report_["iommu"]["prq"]["max_depth"].dump());
  EXPECT_EQ(rows.count("quickstart/sim/wall_s"), 0u);  // wall clock is not a metric
}

TEST_F(Dashboards, NewReportKeysBecomeMetrics) {
  json r = report_;
  r["devices"][0]["paths"][0]["dma"]["queue_wait_ns"] = 1234;
  r["domains"][0]["balloon"] = {{"inflated_bytes", 4096}};
  const CmdResult c = export_as("csv", write(r, "extended.json"));
  ASSERT_EQ(c.status, 0) << c.err;
  const auto rows = csv_rows(c.out);
  EXPECT_EQ(rows.at(path0_name() + "/dma.queue_wait_ns"), std::make_pair(std::string("ns"), std::string("1234")));
  EXPECT_EQ(rows.at("quickstart/domain/vm0/balloon.inflated_bytes").first, "bytes");
}

TEST_F(Dashboards, AmbiguousNamesAreRejected) {
  json r = report_;
  r["devices"][1]["name"] = r["devices"][0]["name"];
  r["devices"][1]["paths"][0]["name"] = r["devices"][0]["paths"][0]["name"];
  const std::string file = write(r, "twins.json");
  const CmdResult c = export_as("csv", file);
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.err.find(file), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("two metrics would have the name"), std::string::npos) << c.err;
}

TEST_F(Dashboards, GithubSmallerHasLatenciesOnly) {
  const CmdResult r = export_as("github-smaller");
  ASSERT_EQ(r.status, 0) << r.err;
  const json a = json::parse(r.out);
  ASSERT_TRUE(a.is_array());
  ASSERT_FALSE(a.empty());
  std::map<std::string, json> by;
  for (const json& e : a) {
    EXPECT_EQ(e.size(), 4u);
    EXPECT_EQ(e["unit"], "ns") << e["name"];
    EXPECT_TRUE(e["value"].is_number());
    EXPECT_TRUE(e["extra"].is_string());
    by[e["name"]] = e["value"];
  }
  EXPECT_EQ(by.at(path0_name() + "/dma.latency_ns.p99"), path0()["dma"]["latency_ns"]["p99"]);
  EXPECT_EQ(by.at(path0_name() + "/dma.latency_ns.max"), path0()["dma"]["latency_ns"]["max"]);
  EXPECT_EQ(by.count(path0_name() + "/dma.latency_ns.count"), 0u);  // a count is not a latency
  EXPECT_EQ(by.count(path0_name() + "/dma.throughput.ops_per_s"), 0u);
}

TEST_F(Dashboards, GithubBiggerHasThroughputsOnly) {
  const CmdResult r = export_as("github-bigger");
  ASSERT_EQ(r.status, 0) << r.err;
  const json a = json::parse(r.out);
  size_t paths = 0;
  for (const json& d : report_["devices"]) paths += 1 + d["paths"].size();
  EXPECT_EQ(a.size(), 2 * paths);  // ops/s and bytes/s per device and per path
  for (const json& e : a) {
    EXPECT_TRUE(e["unit"] == "ops/s" || e["unit"] == "bytes/s") << e;
    if (e["name"] == path0_name() + "/dma.throughput.bytes_per_s") {
      EXPECT_EQ(e["value"], path0()["dma"]["throughput"]["bytes_per_s"]);
    }
  }
}

TEST_F(Dashboards, BencherMetricFormat) {
  const CmdResult r = export_as("bencher");
  ASSERT_EQ(r.status, 0) << r.err;
  const json b = json::parse(r.out);
  ASSERT_TRUE(b.is_object());
  for (auto bench = b.begin(); bench != b.end(); ++bench)
    for (auto m = bench->begin(); m != bench->end(); ++m) {
      ASSERT_TRUE(m->contains("value")) << bench.key() << " " << m.key();
      for (auto f = m->begin(); f != m->end(); ++f)
        EXPECT_TRUE(f.key() == "value" || f.key() == "lower_value" || f.key() == "upper_value") << f.key();
      if (m->contains("lower_value")) {
        EXPECT_LE((*m)["lower_value"].get<double>(), (*m)["value"].get<double>());
        EXPECT_LE((*m)["value"].get<double>(), (*m)["upper_value"].get<double>());
      }
    }
  const json& lat = path0()["dma"]["latency_ns"];
  const json& h = b.at(path0_name()).at("dma.latency_ns");
  EXPECT_EQ(h["value"], lat["p50"]);
  EXPECT_EQ(h["lower_value"], lat["min"]);
  EXPECT_EQ(h["upper_value"], lat["max"]);
  EXPECT_EQ(b.at(path0_name()).at("dma.latency_ns.p99")["value"], lat["p99"]);
  EXPECT_EQ(b.at("quickstart/domain/vm1").at("pinned_bytes")["value"], report_["domains"][1]["pinned_bytes"]);
}

TEST_F(Dashboards, GoogleBenchmarkJson) {
  const CmdResult r = export_as("gbench");
  ASSERT_EQ(r.status, 0) << r.err;
  const json g = json::parse(r.out);
  ASSERT_TRUE(g["context"].is_object());
  ASSERT_TRUE(g["benchmarks"].is_array());
  const auto rows = csv_rows(export_as("csv").out);
  EXPECT_EQ(g["benchmarks"].size(), rows.size());  // one entry per metric
  std::set<std::string> names;
  for (const json& e : g["benchmarks"]) {
    for (const char* k : {"name", "run_name", "run_type", "iterations", "real_time", "cpu_time", "time_unit"})
      EXPECT_TRUE(e.contains(k)) << k;
    EXPECT_EQ(e["run_type"], "iteration");
    EXPECT_TRUE(rows.count(e["name"])) << e["name"];
    names.insert(e["name"]);
    if (e["name"] == path0_name() + "/dma.latency_ns.p99") {
      EXPECT_EQ(e["real_time"].get<double>(), path0()["dma"]["latency_ns"]["p99"].get<double>());
      EXPECT_EQ(e["time_unit"], "ns");
    }
    if (e["name"] == path0_name() + "/dma.throughput.ops_per_s") {
      EXPECT_EQ(e["items_per_second"], path0()["dma"]["throughput"]["ops_per_s"]);
    }
  }
  EXPECT_EQ(names.size(), rows.size());
}

TEST_F(Dashboards, OutFileEqualsStandardOutput) {
  const std::string out = dir_ + "/exported.json";
  const CmdResult r = run_iopfsim("export " + report_path_ + " --format bencher --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(slurp(out), export_as("bencher").out);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(Dashboards, ExportBadInputExits2NamingTheFile) {
  const std::string missing = dir_ + "/missing.json";
  CmdResult r = export_as("csv", missing);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  const std::string scen = scenario("quickstart.json");
  r = export_as("csv", scen);  // a scenario, not a report
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(scen), std::string::npos) << r.err;
  EXPECT_EQ(export_as("xml").status, 2);
}

TEST_F(Dashboards, CompareSameReportExits0) {
  const CmdResult r = run_iopfsim("compare " + report_path_ + " " + report_path_);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("REGRESSED"), std::string::npos);
}

TEST_F(Dashboards, CompareP99Raised20PercentExits1) {
  json r = report_;
  json& lat = r["devices"][0]["paths"][0]["dma"]["latency_ns"];
  lat["p99"] = lat["p99"].get<double>() * 1.2;
  const std::string worse = write(r, "p99-worse.json");
  CmdResult c = run_iopfsim("compare " + report_path_ + " " + worse);
  EXPECT_EQ(c.status, 1) << c.out << c.err;
  const size_t at = c.out.find(path0_name() + "/dma.latency_ns.p99");
  ASSERT_NE(at, std::string::npos) << c.out;
  EXPECT_NE(c.out.find("REGRESSED", at), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("+20.00%"), std::string::npos) << c.out;
  c = run_iopfsim("compare " + report_path_ + " " + worse + " --threshold 25%");  // within a wider threshold
  EXPECT_EQ(c.status, 0) << c.out;
  c = run_iopfsim("compare " + worse + " " + report_path_);  // the other way round it is an improvement
  EXPECT_EQ(c.status, 0) << c.out;
  EXPECT_NE(c.out.find("improved"), std::string::npos) << c.out;
}

TEST_F(Dashboards, CompareThroughputDropExits1AndCountsAreInformational) {
  json r = report_;
  json& t = r["devices"][1]["dma"]["throughput"]["ops_per_s"];
  t = t.get<double>() * 0.9;
  CmdResult c = run_iopfsim("compare " + report_path_ + " " + write(r, "slower.json"));
  EXPECT_EQ(c.status, 1) << c.out;
  json more = report_;
  more["devices"][1]["dma"]["throughput"]["ops_per_s"] = report_["devices"][1]["dma"]["throughput"]["ops_per_s"].get<double>() * 1.5;
  more["iommu"]["walks"] = report_["iommu"]["walks"].get<uint64_t>() * 3 + 10;  // a count: no direction
  c = run_iopfsim("compare " + report_path_ + " " + write(more, "faster.json"));
  EXPECT_EQ(c.status, 0) << c.out;
  EXPECT_NE(c.out.find("quickstart/iommu/walks"), std::string::npos) << c.out;
  // Threshold applies: 4% worse passes at the default 5%.
  json slight = report_;
  slight["devices"][1]["dma"]["throughput"]["ops_per_s"] = report_["devices"][1]["dma"]["throughput"]["ops_per_s"].get<double>() * 0.96;
  c = run_iopfsim("compare " + report_path_ + " " + write(slight, "slight.json"));
  EXPECT_EQ(c.status, 0) << c.out;
  c = run_iopfsim("compare " + report_path_ + " " + dir_ + "/slight.json --threshold 3%");
  EXPECT_EQ(c.status, 1) << c.out;
}

TEST_F(Dashboards, CompareBadInputExits2NamingTheFile) {
  const std::string missing = dir_ + "/nope.json";
  CmdResult c = run_iopfsim("compare " + report_path_ + " " + missing);
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.err.find(missing), std::string::npos) << c.err;
  const std::string notreport = write(json{{"schema", "something/1"}}, "other.json");
  c = run_iopfsim("compare " + notreport + " " + report_path_);
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.err.find(notreport), std::string::npos) << c.err;
  c = run_iopfsim("compare " + report_path_ + " " + report_path_ + " --threshold lots");
  EXPECT_EQ(c.status, 2);
}

}  // namespace
