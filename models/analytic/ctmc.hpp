// Stationary distributions of finite Markov chains, solved with Eigen: the shared core of the
// analytic cross-checks (M/M/c/K, the exact LRU chain) and of the MMPP arrival process.
//
// Models: an irreducible continuous-time chain given by its generator Q (Q_ij >= 0 the rate
// from i to j, rows summing to 0) or a discrete-time chain given by its transition matrix P
// (rows summing to 1). pi solves pi Q = 0 (pi P = pi) with sum(pi) = 1: the transposed system
// with its last equation replaced by the normalisation, solved by LU (dense: partial
// pivoting; sparse: Eigen's SparseLU with COLAMD ordering).
// Does not model: reducible chains (the system is then singular: the functions throw
// std::runtime_error), transient behaviour.
// Figures: none (numerical; the tests compare against closed forms to 1e-9).
#pragma once
#include <Eigen/Dense>
#include <Eigen/SparseCore>

namespace iopf::analytic {

Eigen::VectorXd ctmc_stationary(const Eigen::MatrixXd& q);
Eigen::VectorXd ctmc_stationary(const Eigen::SparseMatrix<double>& q);
// Discrete time: solved as the chain with generator P - I.
Eigen::VectorXd dtmc_stationary(const Eigen::SparseMatrix<double>& p);

}  // namespace iopf::analytic
