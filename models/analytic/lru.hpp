// Hit rate of a fully associative LRU cache (the IOTLB, a device ATC) under the independent
// reference model (IRM): each reference is to page i with probability p_i, independently.
//
// Models three ways:
//   lru_hit_rate_uniform  p_i = 1/N: exactly C/N when C < N (by symmetry every ordered
//                         content is equally likely), 1 when C >= N.
//   lru_hit_rate_che      Che's approximation (Che, Tung and Wang, IEEE JSAC 20(7), 2002;
//                         Fricker, Robert and Roberts, ITC 2012): the characteristic time T
//                         solves sum_i (1 - e^(-p_i T)) = C, and the hit rate is
//                         sum_i p_i (1 - e^(-p_i T)). Any popularity vector; fast for large N.
//   lru_hit_rate_exact    the exact discrete-time Markov chain whose state is the ordered
//                         cache content (most recent first; N! / (N - C)! states), solved
//                         with Eigen (ctmc.hpp): sparse LU up to kLruDirectMaxStates states
//                         (its fill-in grows fast: 1680 states take 0.4 s, 5040 take 8 s),
//                         power iteration to an L1 change below 1e-14 above; small N, C only.
// Does not model: set associativity (a set-associative cache with uniform set indexing is C/N
// too under uniform access, not in general), invalidations, page sizes, correlated references.
// Figures: none.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iopf::analytic {

double lru_hit_rate_uniform(uint64_t entries, uint64_t pages);

struct CheResult {
  double hit_rate = 0;
  double characteristic_time = 0;  // in references
};
// popularity: weights >= 0, not all 0 (normalised here). Throws std::invalid_argument.
CheResult lru_hit_rate_che(const std::vector<double>& popularity, uint64_t entries);

// Pages of weight 0 are never referenced and left out of the chain. Throws
// std::invalid_argument when the chain would have more than max_states states.
enum class LruSolver { kAuto, kDirect, kIterative };
constexpr size_t kLruDirectMaxStates = 1000;
double lru_hit_rate_exact(const std::vector<double>& popularity, uint32_t entries, size_t max_states = 100000,
                          LruSolver solver = LruSolver::kAuto);

// Zipf(alpha) weights 1 / i^alpha, i = 1..n, normalised.
std::vector<double> zipf_popularity(size_t n, double alpha);

}  // namespace iopf::analytic
