// The analytic cross-checks: the Eigen-solved M/M/c/K chain against the closed forms, the
// exact LRU chain against the uniform result, King's product form and Che's approximation,
// and the project's own cache (Tlb, fully associative LRU) against the predictions.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include "models/analytic/lru.hpp"
#include "models/analytic/mmck.hpp"
#include "models/analytic/prediction.hpp"
#include "models/cache/tlb.hpp"
#include "models/common/rng.hpp"

using namespace iopf;
using namespace iopf::analytic;

namespace {

void expect_close(double got, double want, double rel, const std::string& what) {
  EXPECT_NEAR(got, want, rel * std::max(1.0, std::fabs(want))) << what;
}

// Erlang B by the standard recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).
double erlang_b(uint32_t c, double a) {
  double b = 1;
  for (uint32_t k = 1; k <= c; ++k) b = a * b / (k + a * b);
  return b;
}

// The M/M/c/K product form, in logs: pi_n ~ a^n / n! (n <= c), a^c / c! rho^(n - c) (n > c).
std::vector<double> mmck_product_form(double lambda, double mu, uint32_t c, uint32_t k) {
  const double a = lambda / mu;
  std::vector<double> lp(k + 1);
  for (uint32_t n = 0; n <= k; ++n)
    lp[n] = n <= c ? n * std::log(a) - std::lgamma(n + 1.0)
                   : c * std::log(a) - std::lgamma(c + 1.0) + (n - c) * std::log(a / c);
  const double m = *std::max_element(lp.begin(), lp.end());
  std::vector<double> pi(k + 1);
  double s = 0;
  for (uint32_t n = 0; n <= k; ++n) s += pi[n] = std::exp(lp[n] - m);
  for (double& x : pi) x /= s;
  return pi;
}

}  // namespace

TEST(Mmck, SingleServerMatchesClosedForm) {
  for (double rho : {0.3, 0.9, 1.0, 1.7})
    for (uint32_t k : {1u, 2u, 7u, 64u}) {
      const double mu = 1e5, lambda = rho * mu;  // 10 us service
      const MmckResult r = solve_mmck(lambda, mu, 1, k);
      const std::string at = "rho " + std::to_string(rho) + " K " + std::to_string(k);
      double block, l;
      if (rho == 1.0) {
        block = 1.0 / (k + 1);
        l = k / 2.0;
      } else {
        block = std::pow(rho, k) * (1 - rho) / (1 - std::pow(rho, k + 1));
        l = rho / (1 - rho) - (k + 1) * std::pow(rho, k + 1) / (1 - std::pow(rho, k + 1));
      }
      expect_close(r.blocking_probability, block, 1e-9, at);
      expect_close(r.mean_in_system, l, 1e-9, at);
      expect_close(r.throughput_per_s / lambda, 1 - block, 1e-9, at);
      expect_close(r.mean_response_ns / 1e4, l / (1 - block) / rho, 1e-9, at);  // W = L / X in units of 1/mu
      expect_close(r.utilization, rho * (1 - block), 1e-9, at);
    }
}

TEST(Mmck, LossSystemIsErlangB) {
  for (uint32_t c : {1u, 4u, 16u, 64u})
    for (double load : {0.5, 1.0, 2.0}) {
      const double mu = 2e4, a = load * c;
      const MmckResult r = solve_mmck(a * mu, mu, c, c);
      const std::string at = "c " + std::to_string(c) + " a " + std::to_string(a);
      expect_close(r.blocking_probability, erlang_b(c, a), 1e-9, at);
      expect_close(r.mean_in_queue, 0, 1e-12, at);
      expect_close(r.mean_response_ns, 1e9 / mu, 1e-9, at);  // no waiting: response = service
    }
}

TEST(Mmck, ManyServersMatchProductForm) {
  for (uint32_t c : {2u, 8u, 32u})
    for (uint32_t k : {c, 2 * c + 1, 512u})
      for (double load : {0.6, 0.99, 1.5}) {
        const double mu = 1e9 / 7000.0, lambda = load * c * mu;
        const MmckResult r = solve_mmck(lambda, mu, c, k);
        const std::vector<double> pi = mmck_product_form(lambda, mu, c, k);
        double l = 0, lq = 0;
        for (uint32_t n = 0; n <= k; ++n) {
          l += n * pi[n];
          lq += (n > c ? n - c : 0) * pi[n];
        }
        const std::string at = "c " + std::to_string(c) + " K " + std::to_string(k) + " load " + std::to_string(load);
        for (uint32_t n = 0; n <= k; ++n) ASSERT_NEAR(r.pi[n], pi[n], 1e-9) << at << " n " << n;
        expect_close(r.blocking_probability, pi[k], 1e-9, at);
        expect_close(r.mean_in_system, l, 1e-9, at);
        expect_close(r.mean_in_queue, lq, 1e-9, at);
        const double x = lambda * (1 - pi[k]);
        expect_close(r.mean_response_ns / 1e3, 1e6 * l / x, 1e-9, at);  // in us
        expect_close(r.mean_wait_ns / 1e3, 1e6 * lq / x, 1e-9, at);
        expect_close(r.mean_response_ns - r.mean_wait_ns, 7000.0, 1e-9, at);  // W = Wq + 1/mu
      }
}

TEST(Mmck, RejectsBadParameters) {
  EXPECT_THROW(solve_mmck(0, 1, 1, 1), std::invalid_argument);
  EXPECT_THROW(solve_mmck(1, -1, 1, 1), std::invalid_argument);
  EXPECT_THROW(solve_mmck(1, 1, 0, 1), std::invalid_argument);
  EXPECT_THROW(solve_mmck(1, 1, 4, 3), std::invalid_argument);
}

TEST(Lru, ExactChainIsCOverNForUniformAccess) {
  for (auto [n, c] : {std::pair{5u, 2u}, {6u, 3u}, {8u, 4u}, {7u, 1u}, {9u, 3u}}) {
    const std::vector<double> uniform(n, 1.0);
    const std::string at = "N " + std::to_string(n) + " C " + std::to_string(c);
    EXPECT_NEAR(lru_hit_rate_exact(uniform, c), double(c) / n, 1e-9) << at;
    EXPECT_NEAR(lru_hit_rate_che(uniform, c).hit_rate, double(c) / n, 1e-9) << at;  // Che is exact here
    EXPECT_DOUBLE_EQ(lru_hit_rate_uniform(c, n), double(c) / n);
  }
  EXPECT_EQ(lru_hit_rate_uniform(16, 8), 1.0);
  EXPECT_EQ(lru_hit_rate_exact(std::vector<double>(4, 1.0), 4), 1.0);
}

// King's product form for the ordered LRU content (i1, ..., iC), most recent first:
// P = prod_k p_ik / (1 - sum_{l<k} p_il). An independent check of the Eigen chain.
TEST(Lru, ExactChainMatchesKingsProductForm) {
  const std::vector<double> p = zipf_popularity(7, 1.1);
  for (uint32_t c : {1u, 2u, 3u, 4u}) {
    double hit = 0;
    std::vector<bool> used(p.size(), false);
    std::function<void(uint32_t, double, double, double)> walk = [&](uint32_t depth, double prob, double taken,
                                                                     double in) {
      if (depth == c) { hit += prob * in; return; }
      for (size_t i = 0; i < p.size(); ++i) {
        if (used[i]) continue;
        used[i] = true;
        walk(depth + 1, prob * p[i] / (1 - taken), taken + p[i], in + p[i]);
        used[i] = false;
      }
    };
    walk(0, 1.0, 0.0, 0.0);
    EXPECT_NEAR(lru_hit_rate_exact(p, c, 1000, LruSolver::kDirect), hit, 1e-9) << "C " << c;
    EXPECT_NEAR(lru_hit_rate_exact(p, c, 1000, LruSolver::kIterative), hit, 1e-9) << "C " << c;
  }
  double sq = 0;
  for (double x : p) sq += x * x;
  EXPECT_NEAR(lru_hit_rate_exact(p, 1), sq, 1e-12);  // one entry: a hit is two equal references in a row
}

TEST(Lru, CheApproximatesTheExactChainUnderZipf) {
  for (double alpha : {0.8, 1.2}) {
    const std::vector<double> p = zipf_popularity(10, alpha);
    for (uint32_t c : {2u, 3u, 4u, 5u}) {
      const double exact = lru_hit_rate_exact(p, c);
      const double che = lru_hit_rate_che(p, c).hit_rate;
      // Measured: -1.85 % (alpha 0.8) and -2.77 % (alpha 1.2) at C = 2, within 1.04 % from C = 3.
      EXPECT_NEAR(che / exact, 1.0, c == 2 ? 0.03 : 0.015) << "alpha " << alpha << " C " << c << ": exact " << exact << " che " << che;
    }
  }
}

namespace {

// Monte Carlo of the project's cache as a fully associative LRU IOTLB: lookup, insert on a miss.
double tlb_hit_rate(uint32_t entries, const std::vector<double>& p, uint64_t refs, uint64_t seed) {
  TlbGeometry g;
  g.entries[0] = entries;
  g.ways[0] = entries;
  g.policy = ReplPolicy::kLru;
  Tlb tlb(g);
  std::vector<double> cdf(p.size());
  std::partial_sum(p.begin(), p.end(), cdf.begin());
  Rng rng(seed, 1);
  const uint64_t warm = 20ULL * p.size();
  uint64_t hits = 0;
  for (uint64_t i = 0; i < warm + refs; ++i) {
    const double u = rng.unit() * cdf.back();
    const uint64_t page = static_cast<uint64_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    const uint64_t va = std::min<uint64_t>(page, p.size() - 1) << 12;
    TlbHit h;
    if (tlb.lookup(0, va, &h)) {
      hits += i >= warm;
    } else {
      tlb.insert(0, va, va + (1ULL << 40), 12, true);
    }
  }
  return static_cast<double>(hits) / static_cast<double>(refs);
}

}  // namespace

TEST(Lru, TlbMatchesCOverNUnderUniformAccess) {
  for (auto [n, c] : {std::pair{256u, 64u}, {1000u, 128u}, {96u, 64u}}) {
    const double sim = tlb_hit_rate(c, std::vector<double>(n, 1.0), 1'000'000, n);
    EXPECT_NEAR(sim / lru_hit_rate_uniform(c, n), 1.0, 0.01) << "N " << n << " C " << c << ": " << sim;
  }
}

TEST(Lru, TlbMatchesTheExactChainUnderZipf) {
  const std::vector<double> p = zipf_popularity(10, 0.8);
  for (uint32_t c : {2u, 4u}) {
    const double sim = tlb_hit_rate(c, p, 1'000'000, 100 + c);
    EXPECT_NEAR(sim / lru_hit_rate_exact(p, c), 1.0, 0.01) << "C " << c << ": " << sim;
  }
}

TEST(Prediction, PrqIsTheMmckSolution) {
  // 4 handlers, 64 entries, 500k requests/s of 10 us each: load 5 handlers, overloaded.
  const PrqPrediction p = predict_prq({4, 64, 5e5, 10000});
  EXPECT_EQ(p.servers, 4u);
  EXPECT_DOUBLE_EQ(p.offered_load, 5.0);
  const MmckResult want = solve_mmck(5e5, 1e5, 4, 64);
  EXPECT_DOUBLE_EQ(p.mmck.blocking_probability, want.blocking_probability);
  EXPECT_NEAR(p.mmck.throughput_per_s, 4e5, 1e3);  // saturated: c mu, less a little idle time
  const nlohmann::json j = p.to_json();
  EXPECT_EQ(j["model"], "M/M/c/K");
  EXPECT_EQ(j["capacity"], 64);
  EXPECT_DOUBLE_EQ(j["mean_response_ns"].get<double>(), want.mean_response_ns);
  EXPECT_NE(p.describe().find("M/M/4/64"), std::string::npos);
  // More threads than entries: only K can be in service.
  EXPECT_EQ(predict_prq({16, 8, 1e5, 1000}).servers, 8u);
  EXPECT_THROW(predict_prq({1, 1, 0, 1000}), std::invalid_argument);
  EXPECT_THROW(predict_prq({0, 1, 1, 1000}), std::invalid_argument);
}

TEST(Prediction, IotlbUniform) {
  const LruPrediction p = predict_lru_uniform(512, 16384);
  EXPECT_DOUBLE_EQ(p.hit_rate, 512.0 / 16384);
  EXPECT_NEAR(p.che_hit_rate, p.hit_rate, 1e-12);
  EXPECT_EQ(p.to_json()["pages"], 16384);
  EXPECT_EQ(predict_lru_uniform(64, 32).hit_rate, 1.0);
}
