#include "models/analytic/mmck.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "models/analytic/ctmc.hpp"

namespace iopf::analytic {

MmckResult solve_mmck(double lambda, double mu, uint32_t c, uint32_t k) {
  if (!(lambda > 0) || !(mu > 0) || !std::isfinite(lambda) || !std::isfinite(mu))
    throw std::invalid_argument("mmck: rates must be finite and > 0");
  if (c < 1 || k < c || k > kMaxMmckCapacity) throw std::invalid_argument("mmck: need 1 <= c <= K <= 2^20");
  // Rates scaled by 1 / (lambda + c mu): pi is unchanged and the matrix entries stay O(1).
  const double scale = 1.0 / (lambda + c * mu);
  const Eigen::Index n = static_cast<Eigen::Index>(k) + 1;
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(static_cast<size_t>(3 * n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const double birth = i < n - 1 ? lambda * scale : 0.0;
    const double death = static_cast<double>(std::min<Eigen::Index>(i, c)) * mu * scale;
    if (birth > 0) t.emplace_back(i, i + 1, birth);
    if (death > 0) t.emplace_back(i, i - 1, death);
    t.emplace_back(i, i, -(birth + death));
  }
  Eigen::SparseMatrix<double> q(n, n);
  q.setFromTriplets(t.begin(), t.end());
  const Eigen::VectorXd pi = ctmc_stationary(q);

  MmckResult r;
  r.pi.assign(pi.data(), pi.data() + n);
  double busy = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    r.mean_in_system += static_cast<double>(i) * pi[i];
    r.mean_in_queue += static_cast<double>(std::max<Eigen::Index>(i - c, 0)) * pi[i];
    busy += static_cast<double>(std::min<Eigen::Index>(i, c)) * pi[i];
  }
  r.blocking_probability = pi[n - 1];
  r.throughput_per_s = lambda * (1 - r.blocking_probability);
  r.mean_response_ns = 1e9 * r.mean_in_system / r.throughput_per_s;
  r.mean_wait_ns = 1e9 * r.mean_in_queue / r.throughput_per_s;
  r.utilization = busy / c;
  return r;
}

}  // namespace iopf::analytic
