// Stationary distributions of finite Markov chains, solved with Eigen: the shared core of the
// analytic cross-checks (M/M/c/K, the exact LRU chain) and of the MMPP arrival process.
//
// Models: an irreducible continuous-time chain given by its generator Q (Q_ij >= 0 the rate
// from i to j, rows summing to 0) or a discrete-time chain given by its transition matrix P
// (rows summing to 1). pi solves pi Q = 0 (pi P = pi) with sum(pi) = 1: the transposed system
// with its last equation replaced by the normalisation, solved by LU (dense: partial
// pivoting; sparse: Eigen's SparseLU with COLAMD ordering), or for large discrete-time chains
// by power iteration.
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
// Discrete time, by power iteration (pi <- pi P from uniform) until the L1 change of an
// iteration is below tol: for chains whose LU fills in (the exact LRU chain beyond a few
// thousand states). The chain must also be aperiodic. Throws std::runtime_error when
// max_iterations pass without convergence.
Eigen::VectorXd dtmc_stationary_iterative(const Eigen::SparseMatrix<double>& p, double tol = 1e-14,
                                          int max_iterations = 1000000);

}  // namespace iopf::analytic
