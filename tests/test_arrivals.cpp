// Arrival processes: long-run rates against their definitions, inter-arrival shape,
// determinism for a seed, and the scenario reader's errors at the right JSON pointer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

#include "models/common/input_error.hpp"
#include "models/device/arrivals.hpp"

using nlohmann::json;
using namespace iopf;

namespace {

struct Observed {
  double rate_per_s;  // arrivals / span
  double gap_cv;      // of the inter-arrival times
  uint64_t min_gap_ns;
};

Observed observe(const ArrivalSpec& spec, uint64_t n, uint64_t seed = 1, uint64_t start_ns = 1000) {
  Arrivals a(spec, start_ns, Rng(seed, 11));
  uint64_t prev = a.next_ns();
  EXPECT_GE(prev, start_ns);
  long double s = 0, sq = 0;
  uint64_t min_gap = ~0ULL;
  for (uint64_t i = 1; i < n; ++i) {
    const uint64_t t = a.next_ns();
    EXPECT_GE(t, prev);
    if (t < prev) break;
    const uint64_t g = t - prev;
    s += g;
    sq += static_cast<long double>(g) * g;
    min_gap = std::min(min_gap, g);
    prev = t;
  }
  const double mean = static_cast<double>(s / (n - 1));
  const double var = static_cast<double>(sq / (n - 1)) - mean * mean;
  return {1e9 / mean, std::sqrt(var) / mean, min_gap};
}

ArrivalSpec parse(const char* text, double path_rate = 0) { return read_arrival(json::parse(text), "/a", "f", path_rate); }

}  // namespace

TEST(Arrivals, PeriodicDoesNotDrift) {
  const ArrivalSpec s = parse(R"("periodic")", 3e6);  // period 333333.33 ns -> 333333 ps
  Arrivals a(s, 500, Rng(1, 1));
  for (uint64_t k = 0; k < 3'000'000; ++k) {
    const uint64_t t = a.next_ns();
    if (k % 999'983 == 0 || k == 2'999'999) {
      ASSERT_EQ(t, 500 + k * 333333 / 1000) << k;
    }
  }
  EXPECT_DOUBLE_EQ(s.long_run_rate_per_s(), 1e12 / 333333);
}

TEST(Arrivals, PoissonRateAndExponentialGaps) {
  const ArrivalSpec s = parse(R"("poisson")", 1e6);
  const Observed o = observe(s, 1'000'000);
  EXPECT_NEAR(o.rate_per_s / 1e6, 1.0, 0.005);  // standard error 0.1 %
  EXPECT_NEAR(o.gap_cv, 1.0, 0.01);
}

TEST(Arrivals, OnOffLongRunRate) {
  for (const char* inside : {"poisson", "periodic"}) {
    const std::string text = std::string(R"({"on_off": {"rate": "10Mpps", "burst": "2us", "gap": "8us", "inside": ")") +
                             inside + "\"}}";
    const ArrivalSpec s = parse(text.c_str());
    EXPECT_DOUBLE_EQ(s.long_run_rate_per_s(), 2e6);
    const Observed o = observe(s, 10'000'000);
    EXPECT_NEAR(o.rate_per_s / 2e6, 1.0, 0.01) << inside;  // about 5 standard errors
    EXPECT_GT(o.gap_cv, 1.5) << inside;                    // bursty: well above Poisson's 1
    if (std::string(inside) == "periodic") {
      EXPECT_GE(o.min_gap_ns, 99u);  // 100 ns apart in a burst, floored to whole ns
    }
  }
}

TEST(Arrivals, OnOffTakesThePathRate) {
  const ArrivalSpec s = parse(R"({"on_off": {"burst": "2us", "gap": "8us"}})", 5e6);
  EXPECT_EQ(s.on_off.rate_per_s, 5e6);
  EXPECT_EQ(s.on_off.inside, BurstFill::kPoisson);
}

TEST(Arrivals, MmppLongRunRateIsPiWeighted) {
  const ArrivalSpec s = parse(R"({"mmpp": {"rates": ["1Mpps", "20Mpps"], "generator": [[-1e5, 1e5], [1e6, -1e6]]}})");
  const std::vector<double> pi = mmpp_stationary(s.mmpp);
  EXPECT_NEAR(pi[0], 1e6 / 1.1e6, 1e-12);  // two states: pi_0 = q10 / (q01 + q10)
  EXPECT_NEAR(pi[1], 1e5 / 1.1e6, 1e-12);
  const double want = pi[0] * 1e6 + pi[1] * 2e7;
  EXPECT_NEAR(s.long_run_rate_per_s(), want, 1e-6);
  const Observed o = observe(s, 10'000'000);
  EXPECT_NEAR(o.rate_per_s / want, 1.0, 0.01);
  EXPECT_GT(o.gap_cv, 1.2);
}

TEST(Arrivals, MmppFromSojournAndNext) {
  // Three states in a cycle 0 -> 1 -> 2 -> 0 with sojourns 3, 1, 2 us: pi proportional to the sojourns.
  const ArrivalSpec s = parse(R"({"mmpp": {"rates": [0, "4Mpps", 2e6], "sojourn": ["3us", "1us", 2000],
                                           "next": [[0, 1, 0], [0, 0, 1], [1, 0, 0]]}})");
  EXPECT_NEAR(s.mmpp.generator_per_s[0][1], 1e9 / 3000, 1e-6);
  EXPECT_NEAR(s.mmpp.generator_per_s[0][0], -1e9 / 3000, 1e-6);
  const std::vector<double> pi = mmpp_stationary(s.mmpp);
  EXPECT_NEAR(pi[0], 0.5, 1e-12);
  EXPECT_NEAR(pi[1], 1.0 / 6, 1e-12);
  EXPECT_NEAR(pi[2], 1.0 / 3, 1e-12);
  const double want = 4e6 / 6 + 2e6 / 3;
  EXPECT_NEAR(s.long_run_rate_per_s(), want, 1e-6);
  EXPECT_NEAR(observe(s, 10'000'000).rate_per_s / want, 1.0, 0.01);
}

TEST(Arrivals, SameSeedSameTimes) {
  const ArrivalSpec specs[] = {parse(R"("poisson")", 1e6), parse(R"({"on_off": {"rate": 1e7, "burst": "1us", "gap": "3us"}})"),
                               parse(R"({"mmpp": {"rates": [1e6, 1e7], "generator": [[-1e5, 1e5], [1e5, -1e5]]}})")};
  for (const ArrivalSpec& s : specs) {
    Arrivals a(s, 0, Rng(7, 1)), b(s, 0, Rng(7, 1)), c(s, 0, Rng(8, 1));
    bool differs = false;
    for (int i = 0; i < 10000; ++i) {
      const uint64_t t = a.next_ns();
      ASSERT_EQ(t, b.next_ns());
      differs = differs || t != c.next_ns();
    }
    EXPECT_TRUE(differs);
  }
}

TEST(Arrivals, BadInputNamesThePointer) {
  const struct {
    const char* json;
    double path_rate;
    const char* pointer;
  } cases[] = {
      {R"("bursty")", 1e6, "/a"},
      {R"("poisson")", 0, "/a"},
      {R"("on_off")", 1e6, "/a"},
      {R"(5)", 1e6, "/a"},
      {R"({})", 1e6, "/a"},
      {R"({"on_off": {}, "mmpp": {}})", 1e6, "/a"},
      {R"({"pareto": {}})", 1e6, "/a/pareto"},
      {R"({"on_off": 3})", 1e6, "/a/on_off"},
      {R"({"on_off": {"burst": "1us", "gap": "1us"}})", 0, "/a/on_off"},
      {R"({"on_off": {"rate": "fast", "burst": "1us", "gap": "1us"}})", 0, "/a/on_off/rate"},
      {R"({"on_off": {"rate": 0, "burst": "1us", "gap": "1us"}})", 0, "/a/on_off/rate"},
      {R"({"on_off": {"rate": 1e6, "burst": "0us", "gap": "1us"}})", 0, "/a/on_off/burst"},
      {R"({"on_off": {"rate": 1e6, "burst": "1us"}})", 0, "/a/on_off"},
      {R"({"on_off": {"rate": 1e6, "burst": "1us", "gap": -3}})", 0, "/a/on_off/gap"},
      {R"({"on_off": {"rate": 1e6, "burst": "1us", "gap": "1us", "inside": "pareto"}})", 0, "/a/on_off/inside"},
      {R"({"on_off": {"rate": 1e6, "burst": "1us", "gap": "1us", "mean": 3}})", 0, "/a/on_off/mean"},
      {R"({"mmpp": {"generator": [[0]]}})", 0, "/a/mmpp"},
      {R"({"mmpp": {"rates": []}})", 0, "/a/mmpp/rates"},
      {R"({"mmpp": {"rates": [0, 0], "generator": [[-1, 1], [1, -1]]}})", 0, "/a/mmpp/rates"},
      {R"({"mmpp": {"rates": [1e6, -2], "generator": [[-1, 1], [1, -1]]}})", 0, "/a/mmpp/rates/1"},
      {R"({"mmpp": {"rates": [1e6, "x"], "generator": [[-1, 1], [1, -1]]}})", 0, "/a/mmpp/rates/1"},
      {R"({"mmpp": {"rates": [1e6, 1e6]}})", 0, "/a/mmpp"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "generator": [[-1, 1]]}})", 0, "/a/mmpp/generator"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "generator": [[-1, 1], [1]]}})", 0, "/a/mmpp/generator/1"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "generator": [[-1, 1], [-1, 1]]}})", 0, "/a/mmpp/generator/1/0"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "generator": [[-2, 1], [1, -1]]}})", 0, "/a/mmpp/generator/0"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "generator": [[-1, 1], ["1", -1]]}})", 0, "/a/mmpp/generator/1/0"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "generator": [[0, 0], [1, -1]]}})", 0, "/a/mmpp/generator"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "generator": [[-1, 1], [1, -1]], "next": [[0, 1], [1, 0]]}})", 0,
       "/a/mmpp/generator"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "sojourn": ["1us", "1us"]}})", 0, "/a/mmpp"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "sojourn": ["1us"], "next": [[0, 1], [1, 0]]}})", 0, "/a/mmpp/sojourn"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "sojourn": ["1us", "0ns"], "next": [[0, 1], [1, 0]]}})", 0,
       "/a/mmpp/sojourn/1"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "sojourn": ["1us", "1us"], "next": [[0, 1], [0.5, 0]]}})", 0,
       "/a/mmpp/next/1"},
      {R"({"mmpp": {"rates": [1e6, 1e6], "sojourn": ["1us", "1us"], "next": [[1, 0], [1, 0]]}})", 0,
       "/a/mmpp/next/0/0"},
      {R"({"mmpp": {"rates": [1e6, 1e6, 1], "sojourn": ["1us", "1us", "1us"],
                    "next": [[0, 1, 0], [1, 0, 0], [0.5, 0.5, 0]]}})", 0, "/a/mmpp/next"},
      {R"({"mmpp": {"rates": [1e6], "states": 3}})", 0, "/a/mmpp/states"},
  };
  for (const auto& c : cases) {
    try {
      read_arrival(json::parse(c.json), "/a", "f", c.path_rate);
      ADD_FAILURE() << "accepted " << c.json;
    } catch (const InputError& e) {
      EXPECT_EQ(e.pointer(), c.pointer) << c.json << ": " << e.what();
    }
  }
}
