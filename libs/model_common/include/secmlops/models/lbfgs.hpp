// Limited-memory BFGS for smooth unconstrained objectives (logistic loss, squared hinge).
#pragma once

#include <Eigen/Dense>

#include <functional>
#include <map>
#include <string>

namespace secmlops::models {

struct LbfgsOptions {
  int max_iter = 100;
  int memory = 10;
  // Stop when max_i |grad_i| <= gtol (scipy's pgtol, which scikit-learn sets to its `tol`) or
  // when the objective stops decreasing: (f_prev - f) <= ftol * max(|f_prev|, |f|, 1).
  double gtol = 1e-4;
  double ftol = 64 * 2.220446049250313e-16;
  int max_line_search = 50;
};

struct LbfgsResult {
  int iterations = 0;
  int evaluations = 0;
  bool converged = false;
  double objective = 0;
  double grad_norm_inf = 0;
  std::string reason;
};

// Solver statistics kept in a model file's metadata (secmlops.solver_*), so that describe says
// the same about a model before and after export; unknown when the file does not carry them.
std::map<std::string, std::string> solver_metadata(const LbfgsResult& r);
LbfgsResult solver_from_metadata(const std::map<std::string, std::string>& metadata);

// Evaluates the objective at x and writes its gradient to grad (same size as x).
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& grad)>;
// Called once per iteration; return false to stop (cancellation).
using IterationHook = std::function<bool(int iteration, double objective)>;

// Minimises f starting from x (updated in place). Backtracking line search with the Armijo
// condition; curvature pairs with s·y <= 0 are skipped so the inverse Hessian stays positive.
LbfgsResult lbfgs_minimize(const Objective& f, Eigen::VectorXd& x, const LbfgsOptions& options,
                           const IterationHook& hook = {});

}  // namespace secmlops::models
