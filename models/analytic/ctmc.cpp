#include "models/analytic/ctmc.hpp"

#include <Eigen/LU>
#include <Eigen/SparseLU>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace iopf::analytic {
namespace {

// Rejects a solution that is not a probability vector (a singular or ill-posed system).
Eigen::VectorXd checked(const Eigen::VectorXd& pi) {
  for (Eigen::Index i = 0; i < pi.size(); ++i)
    if (!std::isfinite(pi[i]) || pi[i] < -1e-9) throw std::runtime_error("ctmc: no unique stationary distribution");
  Eigen::VectorXd out = pi.cwiseMax(0.0);
  return out / out.sum();
}

}  // namespace

Eigen::VectorXd ctmc_stationary(const Eigen::MatrixXd& q) {
  const Eigen::Index n = q.rows();
  if (n == 0 || q.cols() != n) throw std::invalid_argument("ctmc: generator must be square and non-empty");
  Eigen::MatrixXd a = q.transpose();
  a.row(n - 1).setOnes();
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  b[n - 1] = 1;
  const Eigen::FullPivLU<Eigen::MatrixXd> lu(a);
  if (!lu.isInvertible()) throw std::runtime_error("ctmc: no unique stationary distribution (reducible chain)");
  return checked(lu.solve(b));
}

Eigen::VectorXd ctmc_stationary(const Eigen::SparseMatrix<double>& q) {
  const Eigen::Index n = q.rows();
  if (n == 0 || q.cols() != n) throw std::invalid_argument("ctmc: generator must be square and non-empty");
  // A = Q^T with row n-1 replaced by ones: entry (j, i) = Q(i, j) for j != n-1.
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(static_cast<size_t>(q.nonZeros() + n));
  for (Eigen::Index k = 0; k < q.outerSize(); ++k)
    for (Eigen::SparseMatrix<double>::InnerIterator it(q, k); it; ++it)
      if (it.col() != n - 1) t.emplace_back(it.col(), it.row(), it.value());
  for (Eigen::Index i = 0; i < n; ++i) t.emplace_back(n - 1, i, 1.0);
  Eigen::SparseMatrix<double> a(n, n);
  a.setFromTriplets(t.begin(), t.end());
  a.makeCompressed();
  Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu;
  lu.compute(a);
  if (lu.info() != Eigen::Success) throw std::runtime_error("ctmc: no unique stationary distribution (reducible chain)");
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  b[n - 1] = 1;
  return checked(lu.solve(b));
}

Eigen::VectorXd dtmc_stationary(const Eigen::SparseMatrix<double>& p) {
  Eigen::SparseMatrix<double> eye(p.rows(), p.cols());
  eye.setIdentity();
  return ctmc_stationary(Eigen::SparseMatrix<double>(p - eye));
}

Eigen::VectorXd dtmc_stationary_iterative(const Eigen::SparseMatrix<double>& p, double tol, int max_iterations) {
  const Eigen::Index n = p.rows();
  if (n == 0 || p.cols() != n) throw std::invalid_argument("dtmc: transition matrix must be square and non-empty");
  const Eigen::SparseMatrix<double> pt = p.transpose();
  Eigen::VectorXd x = Eigen::VectorXd::Constant(n, 1.0 / static_cast<double>(n));
  for (int it = 0; it < max_iterations; ++it) {
    Eigen::VectorXd y = pt * x;
    y /= y.sum();
    const double change = (y - x).lpNorm<1>();
    x.swap(y);
    if (change < tol) return checked(x);
  }
  throw std::runtime_error("dtmc: power iteration did not converge");
}

}  // namespace iopf::analytic
