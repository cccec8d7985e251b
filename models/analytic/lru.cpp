#include "models/analytic/lru.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <map>

#include "models/analytic/ctmc.hpp"

namespace iopf::analytic {
namespace {

std::vector<double> normalised_positive(const std::vector<double>& w) {
  double sum = 0;
  for (double x : w) {
    if (!(x >= 0) || !std::isfinite(x)) throw std::invalid_argument("lru: popularity weights must be >= 0");
    sum += x;
  }
  if (!(sum > 0)) throw std::invalid_argument("lru: popularity weights are all 0");
  std::vector<double> p;
  for (double x : w)
    if (x > 0) p.push_back(x / sum);
  return p;
}

double che_occupancy(const std::vector<double>& p, double t) {
  double s = 0;
  for (double x : p) s += -std::expm1(-x * t);
  return s;
}

// Ordered contents as a key: 8 bits per page index, most recent in the low byte.
using Key = unsigned __int128;
Key encode(const std::vector<uint32_t>& s) {
  Key k = 0;
  for (size_t i = s.size(); i-- > 0;) k = (k << 8) | s[i];
  return k;
}

void enumerate(uint32_t n, uint32_t c, std::vector<uint32_t>* cur, std::vector<bool>* used,
               std::vector<std::vector<uint32_t>>* out) {
  if (cur->size() == c) { out->push_back(*cur); return; }
  for (uint32_t i = 0; i < n; ++i) {
    if ((*used)[i]) continue;
    (*used)[i] = true;
    cur->push_back(i);
    enumerate(n, c, cur, used, out);
    cur->pop_back();
    (*used)[i] = false;
  }
}

}  // namespace

double lru_hit_rate_uniform(uint64_t entries, uint64_t pages) {
  if (pages == 0) throw std::invalid_argument("lru: no pages");
  return entries >= pages ? 1.0 : static_cast<double>(entries) / static_cast<double>(pages);
}

CheResult lru_hit_rate_che(const std::vector<double>& popularity, uint64_t entries) {
  const std::vector<double> p = normalised_positive(popularity);
  if (entries >= p.size()) return {1.0, INFINITY};
  if (entries == 0) return {0.0, 0.0};
  // The occupancy grows with T from 0 to N > C: bracket, then bisect to machine precision.
  double lo = 0, hi = static_cast<double>(entries);
  while (che_occupancy(p, hi) < static_cast<double>(entries)) lo = hi, hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (che_occupancy(p, mid) < static_cast<double>(entries) ? lo : hi) = mid;
  }
  const double t = 0.5 * (lo + hi);
  CheResult r;
  r.characteristic_time = t;
  for (double x : p) r.hit_rate += x * -std::expm1(-x * t);
  return r;
}

double lru_hit_rate_exact(const std::vector<double>& popularity, uint32_t entries, size_t max_states,
                          LruSolver solver) {
  const std::vector<double> p = normalised_positive(popularity);
  const auto n = static_cast<uint32_t>(p.size());
  if (entries >= n) return 1.0;
  if (entries == 0) return 0.0;
  double states = 1;
  for (uint32_t i = 0; i < entries; ++i) states *= n - i;
  if (n > 255 || entries > 16 || states > static_cast<double>(max_states))
    throw std::invalid_argument("lru: exact chain too large (N! / (N - C)! states)");
  std::vector<std::vector<uint32_t>> all;
  std::vector<uint32_t> cur;
  std::vector<bool> used(n, false);
  enumerate(n, entries, &cur, &used, &all);
  std::map<Key, Eigen::Index> index;
  for (size_t i = 0; i < all.size(); ++i) index[encode(all[i])] = static_cast<Eigen::Index>(i);

  // Transition matrix: a reference to page j moves it to the front; a miss drops the last.
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(all.size() * n);
  std::vector<uint32_t> next(entries);
  for (size_t s = 0; s < all.size(); ++s) {
    const std::vector<uint32_t>& st = all[s];
    for (uint32_t j = 0; j < n; ++j) {
      next[0] = j;
      size_t w = 1;
      for (uint32_t x : st)
        if (x != j && w < entries) next[w++] = x;
      t.emplace_back(static_cast<Eigen::Index>(s), index.at(encode(next)), p[j]);
    }
  }
  Eigen::SparseMatrix<double> pm(static_cast<Eigen::Index>(all.size()), static_cast<Eigen::Index>(all.size()));
  pm.setFromTriplets(t.begin(), t.end());  // duplicates (a hit on the front page) are summed
  const bool direct = solver == LruSolver::kDirect || (solver == LruSolver::kAuto && all.size() <= kLruDirectMaxStates);
  const Eigen::VectorXd pi = direct ? dtmc_stationary(pm) : dtmc_stationary_iterative(pm);
  double hit = 0;
  for (size_t s = 0; s < all.size(); ++s) {
    double in = 0;
    for (uint32_t x : all[s]) in += p[x];
    hit += pi[static_cast<Eigen::Index>(s)] * in;
  }
  return hit;
}

std::vector<double> zipf_popularity(size_t n, double alpha) {
  std::vector<double> p(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::pow(static_cast<double>(i + 1), -alpha);
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace iopf::analytic
