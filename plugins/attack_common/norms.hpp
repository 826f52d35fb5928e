#pragma once

#include "oracle.hpp"
#include "options.hpp"

#include <random>

namespace secmlops::plugins::attacks {

using Rng = std::mt19937_64;

// ART's small constant that keeps normalisations away from division by zero.
inline constexpr double kTol = 10e-8;

// Unit step direction per row from a loss gradient: sign(g) for L∞, g/(‖g‖₂+tol) for L2, and for
// L1 a one-hot step sign(g_j)·e_j at j = argmax|g_j| (first maximum). NaN gradients count as 0;
// immutable features (mask 0) get no gradient.
void normalise_direction(RowMatrix& g, Norm norm, const Eigen::VectorXd& mask);

// x ← clip(x + step ⊙ direction): step is per feature; NaN steps count as 0.
void apply_step(RowMatrix& x, const RowMatrix& direction, const Eigen::VectorXd& step,
                const GradientAttackOptions& o);

// Clip every row to the value bounds (scalar or per feature).
void clip_to_bounds(RowMatrix& x, const GradientAttackOptions& o);

// x ← x0 + projection of (x − x0) onto the eps ball: L∞ exact (per feature), L2 and L1 by
// rescaling with min(1, eps/(‖δ‖+tol)) (per-feature eps broadcast as ART does).
void project(RowMatrix& x, const RowMatrix& x0, const Eigen::VectorXd& eps, Norm norm);

// A random start inside the eps ball (L∞ uniform in the box, L2 uniform in the ball, L1 as ART's
// random_sphere), masked, added to x and clipped to the bounds.
void random_init(RowMatrix& x, const Eigen::VectorXd& eps, const GradientAttackOptions& o, Rng& rng);

// Per-row success: the prediction equals the target (targeted) or differs from the clean
// prediction (untargeted) — ART's compute_success_array.
std::vector<bool> success_array(Oracle& model, const Labels& clean_pred, const Labels& targets,
                                const RowMatrix& x_adv, bool targeted);

// ART's random_eps: eps drawn from a normal(0, eps/2) truncated to [0, eps], eps_step keeping its
// ratio to eps, both rounded to 10 decimals.
void draw_random_eps(GradientAttackOptions& o, Rng& rng);

}  // namespace secmlops::plugins::attacks
