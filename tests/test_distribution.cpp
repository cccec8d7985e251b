// Service-time distributions: sample moments and percentiles against the requested ones,
// bit-for-bit determinism for a seed, and every bad input rejected at the right JSON pointer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "models/common/distribution.hpp"
#include "models/common/input_error.hpp"
#include "models/common/units.hpp"

using nlohmann::json;
using namespace iopf;

namespace {

constexpr int kN = 1'000'000;

struct Moments {
  double mean, cv, p99;
};

Moments moments(const Distribution& d, uint64_t seed) {
  Rng rng(seed, 7);
  std::vector<uint64_t> v(kN);
  long double sum = 0, sq = 0;
  for (auto& x : v) {
    x = d.sample_ns(rng);
    sum += x;
    sq += static_cast<long double>(x) * x;
  }
  const double mean = static_cast<double>(sum / kN);
  const double var = static_cast<double>(sq / kN) - mean * mean;
  std::nth_element(v.begin(), v.begin() + kN * 99 / 100, v.end());
  return {mean, std::sqrt(var) / mean, static_cast<double>(v[kN * 99 / 100])};
}

// A scratch directory holding a scenario path and CSV files beside it.
std::string scratch(const std::string& name, const std::string& content) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "iopf_dist";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name) << content;
  return (dir / name).string();
}
std::string scenario_path() { return (std::filesystem::path(::testing::TempDir()) / "iopf_dist" / "s.json").string(); }

}  // namespace

TEST(Distribution, PlainValuesAreConstants) {
  Rng rng(1, 1);
  EXPECT_EQ(read_distribution(json("50us"), "/c", "f").sample_ns(rng), 50000u);
  EXPECT_EQ(read_distribution(json(1234), "/c", "f").sample_ns(rng), 1234u);
  const Distribution d = read_distribution(json::parse(R"({"dist":"constant","value":"2ms"})"), "/c", "f");
  EXPECT_EQ(d.sample_ns(rng), 2'000'000u);
  EXPECT_DOUBLE_EQ(d.mean_ns(), 2e6);
  EXPECT_EQ(d.describe(), "constant " + units::format_ns(2000000));
}

TEST(Distribution, ExponentialMeanAndCv) {
  const Distribution d = read_distribution(json::parse(R"({"dist":"exponential","mean":"50us"})"), "/c", "f");
  EXPECT_DOUBLE_EQ(d.mean_ns(), 50000);
  const Moments m = moments(d, 42);
  EXPECT_NEAR(m.mean / 50000, 1.0, 0.005);  // standard error 0.1 %
  EXPECT_NEAR(m.cv, 1.0, 0.01);
  EXPECT_NEAR(m.p99 / (50000 * std::log(100.0)), 1.0, 0.01);  // p99 = mean ln 100
}

TEST(Distribution, LognormalFromMeanAndP99) {
  const Distribution d =
      read_distribution(json::parse(R"({"dist":"lognormal","mean":"9us","p99":"40us"})"), "/c", "f");
  EXPECT_NEAR(d.mean_ns(), 9000, 1e-6);
  EXPECT_NEAR(d.p99_ns(), 40000, 1e-6);
  const Moments m = moments(d, 43);
  EXPECT_NEAR(m.mean / 9000, 1.0, 0.005);
  EXPECT_NEAR(m.p99 / 40000, 1.0, 0.01);
  const double cv = std::sqrt(std::exp(d.sigma() * d.sigma()) - 1);
  EXPECT_NEAR(m.cv / cv, 1.0, 0.03);
}

TEST(Distribution, LognormalFromMuSigma) {
  const Distribution d = read_distribution(json::parse(R"({"dist":"lognormal","mu":9.0,"sigma":0.5})"), "/c", "f");
  const double mean = std::exp(9.0 + 0.125);
  EXPECT_NEAR(d.mean_ns(), mean, 1e-9 * mean);
  const Moments m = moments(d, 44);
  EXPECT_NEAR(m.mean / mean, 1.0, 0.005);
  EXPECT_NEAR(m.p99 / std::exp(9.0 + Distribution::kZ99 * 0.5), 1.0, 0.01);
}

TEST(Distribution, EmpiricalDrawsEachSampleEquallyOften) {
  const std::string csv = scratch("samples.csv", "latency_ns\n1000\n2000\r\n\n7000\n");
  (void)csv;
  const Distribution d =
      read_distribution(json::parse(R"({"dist":"empirical","file":"samples.csv"})"), "/c", scenario_path());
  ASSERT_EQ(d.samples_ns(), (std::vector<uint64_t>{1000, 2000, 7000}));
  EXPECT_DOUBLE_EQ(d.mean_ns(), 10000.0 / 3);
  Rng rng(5, 5);
  int count[3] = {0, 0, 0};
  for (int i = 0; i < kN; ++i) {
    const uint64_t s = d.sample_ns(rng);
    ASSERT_TRUE(s == 1000 || s == 2000 || s == 7000);
    ++count[s == 1000 ? 0 : s == 2000 ? 1 : 2];
  }
  for (int c : count) EXPECT_NEAR(c / double(kN), 1.0 / 3, 0.003);  // 6.5 standard errors
  EXPECT_EQ(d.describe(), "empirical 3 samples from samples.csv (mean 3.333us)");
}

TEST(Distribution, SameSeedSameSamplesBitForBit) {
  scratch("det.csv", "5\n17\n29\n1000003\n");
  const json kinds[] = {json("3us"), json::parse(R"({"dist":"exponential","mean":"50us"})"),
                        json::parse(R"({"dist":"lognormal","mean":"9us","p99":"40us"})"),
                        json::parse(R"({"dist":"empirical","file":"det.csv"})")};
  for (const json& k : kinds) {
    const Distribution d = read_distribution(k, "/c", scenario_path());
    Rng a(99, 3), b(99, 3), c(100, 3);
    bool differs = false;
    for (int i = 0; i < 10000; ++i) {
      const uint64_t x = d.sample_ns(a);
      ASSERT_EQ(x, d.sample_ns(b)) << k.dump();
      differs = differs || x != d.sample_ns(c);
    }
    EXPECT_EQ(differs, d.kind() != DistKind::kConstant) << k.dump();
  }
  // Empirical sampling depends on no libm function: its sequence is pinned here.
  const Distribution e = read_distribution(kinds[3], "/c", scenario_path());
  Rng r(1, 2);
  uint64_t h = 0;
  for (int i = 0; i < 1000; ++i) h = h * 31 + e.sample_ns(r);
  Rng r2(1, 2);
  uint64_t h2 = 0;
  for (int i = 0; i < 1000; ++i) h2 = h2 * 31 + e.samples_ns()[r2.below(4)];
  EXPECT_EQ(h, h2);
}

TEST(Distribution, BadInputNamesThePointer) {
  scratch("empty.csv", "header_only\n");
  scratch("junk.csv", "100\n2x00\n");
  scratch("negative.csv", "100\n-5\n");
  const struct {
    const char* json;
    const char* pointer;
  } cases[] = {
      {R"("fast")", "/cost"},
      {R"(-5)", "/cost"},
      {R"(1.5)", "/cost"},
      {R"(true)", "/cost"},
      {R"({"mean":"5us"})", "/cost"},
      {R"({"dist":"gamma","mean":"5us"})", "/cost/dist"},
      {R"({"dist":3})", "/cost/dist"},
      {R"({"dist":"exponential","mean":"5us","p99":"9us"})", "/cost/p99"},
      {R"({"dist":"exponential","mean":"0us"})", "/cost/mean"},
      {R"({"dist":"exponential","mean":-1})", "/cost/mean"},
      {R"({"dist":"exponential","mean":"5 parsecs"})", "/cost/mean"},
      {R"({"dist":"exponential"})", "/cost"},
      {R"({"dist":"constant","mean":"5us"})", "/cost/mean"},
      {R"({"dist":"lognormal","mean":"9us","p99":"9us"})", "/cost/p99"},
      {R"({"dist":"lognormal","mean":"9us","p99":"5us"})", "/cost/p99"},
      {R"({"dist":"lognormal","mean":"1us","p99":"20us"})", "/cost/p99"},
      {R"({"dist":"lognormal","mean":"0ns","p99":"20us"})", "/cost/mean"},
      {R"({"dist":"lognormal","mean":"9us"})", "/cost"},
      {R"({"dist":"lognormal","mu":9})", "/cost"},
      {R"({"dist":"lognormal","mu":9,"sigma":0})", "/cost/sigma"},
      {R"({"dist":"lognormal","mu":9,"sigma":-1})", "/cost/sigma"},
      {R"({"dist":"lognormal","mu":"9","sigma":1})", "/cost/mu"},
      {R"({"dist":"lognormal","mean":"9us","p99":"20us","mu":9,"sigma":1})", "/cost/mu"},
      {R"({"dist":"empirical"})", "/cost"},
      {R"({"dist":"empirical","file":5})", "/cost/file"},
      {R"({"dist":"empirical","file":""})", "/cost/file"},
      {R"({"dist":"empirical","file":"missing.csv"})", "/cost/file"},
      {R"({"dist":"empirical","file":"empty.csv"})", "/cost/file"},
      {R"({"dist":"empirical","file":"junk.csv"})", "/cost/file"},
      {R"({"dist":"empirical","file":"negative.csv"})", "/cost/file"},
      {R"({"dist":"empirical","file":"junk.csv","mean":"5us"})", "/cost/mean"},
  };
  for (const auto& c : cases) {
    try {
      read_distribution(json::parse(c.json), "/cost", scenario_path());
      ADD_FAILURE() << "accepted " << c.json;
    } catch (const InputError& e) {
      EXPECT_EQ(e.pointer(), c.pointer) << c.json << ": " << e.what();
      EXPECT_EQ(e.file(), scenario_path());
    }
  }
}
