// The M/M/c/K queue as an exact prediction for the page request queue (PRQ): Poisson page
// requests at rate lambda, c handler threads each serving one request at a time with
// exponential service of rate mu, and room for K requests in all (waiting plus in service;
// a request that finds K present is blocked: dropped, or answered at once by a VT-d-style
// auto_success, either way never served).
//
// Models: the birth-death continuous-time Markov chain on n = 0..K requests present (births
// at lambda while n < K, deaths at min(n, c) mu), its generator built explicitly and pi Q = 0,
// sum(pi) = 1 solved with Eigen's sparse LU (ctmc.hpp), not with the product-form closed
// form, so the tests can hold the solver against the closed forms. From pi: blocking
// probability pi_K, mean number present L = sum n pi_n, mean waiting Lq = sum (n - c)+ pi_n,
// throughput of accepted requests X = lambda (1 - pi_K), and by Little's law the mean
// response time of accepted requests W = L / X and mean wait Wq = Lq / X.
// Does not model: non-Poisson arrivals or non-exponential service (the simulator does; the
// prediction is exact only under these assumptions), retries of blocked requests, the
// device's PRI outstanding-request allocation (a closed-loop limit on arrivals), priorities.
// Figures: none; the caller gives every rate and size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace iopf::analytic {

struct MmckResult {
  double blocking_probability = 0;  // P(a request finds K present) = pi_K (PASTA)
  double mean_in_system = 0;        // L
  double mean_in_queue = 0;         // Lq: waiting, not in service
  double throughput_per_s = 0;      // accepted requests per second
  double mean_response_ns = 0;      // accepted requests: wait + service (Little: L / X)
  double mean_wait_ns = 0;          // accepted requests: before service starts (Lq / X)
  double utilization = 0;           // mean busy servers / c
  std::vector<double> pi;           // P(n present), n = 0..K
};

// lambda, mu > 0; 1 <= servers <= capacity <= kMaxCapacity. Throws std::invalid_argument.
constexpr uint32_t kMaxMmckCapacity = 1u << 20;
MmckResult solve_mmck(double arrival_rate_per_s, double service_rate_per_s, uint32_t servers, uint32_t capacity);

}  // namespace iopf::analytic
