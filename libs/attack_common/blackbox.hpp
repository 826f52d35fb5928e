#pragma once

#include "norms.hpp"

namespace secmlops::plugins::attacks {

// HopSkipJump (Chen, Jordan, Wainwright 2020): a decision-based attack that needs only the
// model's predicted labels. Runs all samples in lockstep so that every model query is a batch.
struct HopSkipJumpOptions {
  Norm norm = Norm::L2;  // L2 or Inf
  bool targeted = false;
  int max_iter = 10;    // boundary-walk iterations (ART's default is 50; see docs/attacks.md)
  int max_eval = 1000;  // max gradient-estimation queries per sample and iteration
  int init_eval = 64;   // gradient-estimation queries at the first iteration (grows with √t)
  int init_size = 100;  // random draws tried to find an adversarial starting point
  double eps = 0;       // optional budget: perturbations are projected onto the eps ball (0 = none)
  Eigen::VectorXd clip_min, clip_max;  // bounds; empty = the data's range
  Eigen::VectorXd mask;                // 0 = immutable feature
  uint64_t seed = 0;
  size_t chunk = 64;  // samples per gradient-estimation query batch (bounds memory)

  static HopSkipJumpOptions from_config(const sdk::Config& config, uint64_t n_features);
};

// Returns adversarial examples; samples for which no adversarial start was found stay as x.
RowMatrix hop_skip_jump(Oracle& model, const RowMatrix& x, Labels y, const HopSkipJumpOptions& o);

// Transfer attack: a multinomial logistic-regression surrogate is fitted to the target model's
// predictions on x and Gaussian-perturbed copies of x (queries counted by the oracle), then PGD
// (or FGSM when max_iter is 1) runs on the surrogate; the examples are returned for the host to
// evaluate on the target.
struct TransferOptions {
  GradientAttackOptions attack;  // the attack run on the surrogate
  int augment = 10;              // perturbed copies of each sample used to query the target
  double noise = 0.1;            // their Gaussian noise, in units of each feature's std
  double l2 = 1e-3;              // surrogate regularisation
  int fit_iter = 200;            // surrogate optimisation steps

  static TransferOptions from_config(const sdk::Config& config, uint64_t n_features);
};

RowMatrix transfer_attack(Oracle& target, const RowMatrix& x, Labels y, const TransferOptions& o);

}  // namespace secmlops::plugins::attacks
