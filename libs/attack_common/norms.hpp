#pragma once

#include "options.hpp"
#include "oracle.hpp"

#include <secmlops/models/rng.hpp>

namespace secmlops::plugins::attacks {

// The project's seeded generator and distributions (the same draws on every platform).
using Rng = models::Rng;

// PGD's momentum (ART's `decay`): the accumulated L1-normalised gradients of the rows being
// stepped, one row per row of the batch.
struct Momentum {
  RowMatrix* rows = nullptr;
  double decay = 0;
};

// The per-step arithmetic of FGSM/PGD (ART's FastGradientMethod._compute), fused so that one
// pass over a row does direction, step, clip and projection while it sits in the cache. The
// operations and their order per coordinate are exactly ART's (see docs/attacks.md); only the
// summation order inside the L1/L2 row norms may differ from NumPy's (last-bit differences).
// Per-feature vectors are expanded once.
class StepKernel {
 public:
  // `step` is per feature (eps for FGSM, eps_step for PGD); `eps` is the projection budget.
  StepKernel(const GradientAttackOptions& o, const Eigen::VectorXd& eps,
             const Eigen::VectorXd& step, Eigen::Index d);

  // Unit step direction of a loss gradient row, in place: prepare() then normalise().
  void direction(double* g) const {
    prepare(g);
    normalise(g);
  }
  // Negated when targeted, NaN → 0, immutable features → 0 (ART's order).
  void prepare(double* g) const;
  // sign(g) for L∞, g/‖g‖₂ for L2 (0 when g = 0), for L1 a one-hot step sign(g_j)·e_j at
  // j = argmax|g_j| (first maximum): ART ≥ 1.18's _apply_norm.
  void normalise(double* g) const;
  // Momentum: m ← decay·m + g/‖g‖₁ (g/‖g‖₁ = 0 when g = 0), then g ← m; g prepared.
  static void accumulate(double* g, double* m, double decay, Eigen::Index d);
  // x ← clip(x + scale ⊙ direction) (NaN products count as 0); scale defaults to the step.
  void advance(double* x, const double* dir, const double* scale = nullptr) const;
  // x ← x0 + projection of (x − x0) onto the eps ball: L∞ exact (per feature), L2 and L1 by
  // rescaling with min(1, eps/‖δ‖) (ART ≥ 1.18's projection; per-feature eps broadcast).
  void project(double* x, const double* x0) const;

  // One whole step on the rows of x (rows first_row… of the batch) whose frozen flag is unset:
  // direction from g (overwritten; through the momentum when given), advance x, project onto
  // the ball around x0 when `project_ball`. g and x0 hold the same rows as x.
  void step(Eigen::Ref<RowMatrix> x, RowMatrix& g, const ConstRows& x0, bool project_ball,
            const std::vector<bool>* frozen = nullptr, Eigen::Index first_row = 0,
            const Momentum& momentum = {}) const;

 private:
  Norm norm_;
  double sign_;  // −1 for targeted attacks
  Eigen::Index d_;
  Eigen::VectorXd step_, eps_, lo_, hi_;  // lo_/hi_: ∓∞ where unbounded
  bool bounded_;
  std::vector<Eigen::Index> immutable_;
};

// x ← x0 + projection of (x − x0) onto the eps ball, every row (StepKernel::project).
void project(RowMatrix& x, const RowMatrix& x0, const Eigen::VectorXd& eps, Norm norm);

// A random start inside the eps ball, as ART 1.20's random_sphere: L∞ uniform in the box, L2
// uniform in the ball, L1 uniform in the ball (spacings of sorted uniforms, random signs);
// masked, added to x and clipped to the bounds. Each row draws from its own generator, seeded by
// o.seed, the restart and the row's values: a row gets the same start however the host splits
// the batch (the gRPC server attacks in batches), on any platform.
void random_init(Eigen::Ref<RowMatrix> x, const Eigen::VectorXd& eps,
                 const GradientAttackOptions& o, int restart);

// Per-row success: the prediction equals the target (targeted) or differs from the clean
// prediction (untargeted) — ART's compute_success_array.
std::vector<bool> success_array(Oracle& model, const Labels& clean_pred, const Labels& targets,
                                const ConstRows& x_adv, bool targeted);

// ART's random_eps: eps drawn from a normal(0, eps/2) truncated to [0, eps] and rounded to 10
// decimals, eps_step keeping its ratio to eps.
void draw_random_eps(GradientAttackOptions& o, Rng& rng);

}  // namespace secmlops::plugins::attacks
