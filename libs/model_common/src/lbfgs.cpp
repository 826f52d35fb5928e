#include "secmlops/models/lbfgs.hpp"

#include "secmlops/models/params.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <deque>

namespace secmlops::models {

LbfgsResult lbfgs_minimize(const Objective& f, Eigen::VectorXd& x, const LbfgsOptions& o,
                           const IterationHook& hook) {
  using Eigen::VectorXd;
  LbfgsResult r;
  const Eigen::Index n = x.size();
  VectorXd g(n), g_new(n), x_new(n), d(n);
  double fx = f(x, g);
  r.evaluations = 1;
  std::deque<VectorXd> s_hist, y_hist;
  std::deque<double> rho_hist;
  std::vector<double> alpha(static_cast<size_t>(o.memory));

  for (r.iterations = 0; r.iterations < o.max_iter;) {
    r.grad_norm_inf = g.lpNorm<Eigen::Infinity>();
    if (r.grad_norm_inf <= o.gtol) {
      r.converged = true;
      r.reason = "gradient below tol";
      break;
    }
    // Two-loop recursion: d = -H g.
    d = -g;
    const size_t m = s_hist.size();
    for (size_t i = m; i-- > 0;) {
      alpha[i] = rho_hist[i] * s_hist[i].dot(d);
      d -= alpha[i] * y_hist[i];
    }
    if (m > 0) d *= s_hist.back().dot(y_hist.back()) / y_hist.back().squaredNorm();
    for (size_t i = 0; i < m; ++i) {
      double beta = rho_hist[i] * y_hist[i].dot(d);
      d += (alpha[i] - beta) * s_hist[i];
    }
    double slope = g.dot(d);
    if (!(slope < 0)) {  // not a descent direction: restart from steepest descent
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      d = -g;
      slope = -g.squaredNorm();
    }
    double step = (m == 0) ? std::min(1.0, 1.0 / std::max(g.norm(), 1e-12)) : 1.0;
    double f_new = 0;
    bool accepted = false;
    for (int ls = 0; ls < o.max_line_search; ++ls) {
      x_new = x + step * d;
      f_new = f(x_new, g_new);
      ++r.evaluations;
      if (std::isfinite(f_new) && f_new <= fx + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    ++r.iterations;
    if (!accepted) {
      r.reason = "line search failed (objective cannot decrease further)";
      r.converged = r.grad_norm_inf <= 10 * o.gtol;
      break;
    }
    VectorXd s = x_new - x, y = g_new - g;
    double sy = s.dot(y);
    if (sy > 1e-12 * y.squaredNorm()) {
      if (static_cast<int>(s_hist.size()) == o.memory) {
        s_hist.pop_front(), y_hist.pop_front(), rho_hist.pop_front();
      }
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(y));
      rho_hist.push_back(1.0 / sy);
    }
    double f_prev = fx;
    x.swap(x_new);
    g.swap(g_new);
    fx = f_new;
    if (hook && !hook(r.iterations, fx)) {
      r.reason = "stopped";
      break;
    }
    if (f_prev - fx <= o.ftol * std::max({std::abs(f_prev), std::abs(fx), 1.0})) {
      r.converged = true;
      r.reason = "objective change below ftol";
      break;
    }
  }
  if (r.reason.empty()) r.reason = "max_iter reached";
  r.objective = fx;
  r.grad_norm_inf = g.lpNorm<Eigen::Infinity>();
  return r;
}

std::map<std::string, std::string> solver_metadata(const LbfgsResult& r) {
  return {{"secmlops.solver_iterations", std::to_string(r.iterations)},
          {"secmlops.solver_converged", r.converged ? "1" : "0"},
          {"secmlops.solver_status", r.reason}};
}

LbfgsResult solver_from_metadata(const std::map<std::string, std::string>& metadata) {
  LbfgsResult r;
  auto get = [&](const char* k) {
    auto it = metadata.find(k);
    return it == metadata.end() ? std::string() : it->second;
  };
  r.reason = get("secmlops.solver_status");
  if (r.reason.empty()) {
    r.reason = "imported (no solver statistics in the file)";
    r.iterations = -1;
    return r;
  }
  // A value that is not a number reads as unknown (-1), as when there are no statistics.
  const auto iterations = parse_integer(get("secmlops.solver_iterations"));
  r.iterations =
      iterations && *iterations >= 0 && *iterations <= INT_MAX ? static_cast<int>(*iterations) : -1;
  r.converged = get("secmlops.solver_converged") == "1";
  return r;
}

}  // namespace secmlops::models
