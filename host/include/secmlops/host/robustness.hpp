#pragma once

#include "secmlops/host/attack_runner.hpp"
#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/host/registry.hpp"

#include <functional>
#include <optional>

namespace secmlops::host {

// Metrics of one attack result, computed by the host the same way for every attack.
// `y_true` are the true labels (empty: the model's clean predictions); `targets` are the attack's
// targets when it was targeted (success = prediction equals the target), empty otherwise.
v1::RobustnessPoint robustness_point(const ModelSession& model, const DenseMatrix& x,
                                     const DenseMatrix& x_adv, const std::vector<int32_t>& y_true,
                                     const std::vector<int32_t>& targets);

double accuracy(const std::vector<int32_t>& predicted, const std::vector<int32_t>& truth);

// ART's empirical robustness: a minimal FGSM (eps grown by eps_step up to eps) is run and the mean
// of ‖δ‖/‖x‖ over the samples whose prediction flipped is returned (0 when none flipped). The norm
// measured is the attack's: params["norm"] when given, else FGSM's default L∞ — as ART's metric
// (crafter.norm) does.
double empirical_robustness(const Plugin& fgsm, ModelSession& model, const DenseMatrix& x,
                            const KeyValues& params,
                            const std::shared_ptr<CancelToken>& cancel = nullptr);

struct AttackRequest {
  const Plugin* attack = nullptr;
  DenseMatrix x;
  std::vector<int32_t> y_true;   // may be empty
  std::vector<int32_t> targets;  // non-empty for a targeted attack
  KeyValues params;              // without eps (the curve sets it)
  std::vector<double> eps;       // one run per value, in order; empty = the attack's own default
  // When set (and the model has gradients), ART's empirical robustness is computed with it.
  std::optional<const Plugin*> fgsm_for_empirical_robustness;
  std::shared_ptr<CancelToken> cancel;
  // Called after each eps with the point and the attack's output: adversarial examples and what
  // the plugin reported (for streaming, progress and the plugin's own metrics).
  std::function<void(const v1::RobustnessPoint&, const AttackOutput&)> on_point;
};

// Runs the attack once per eps and measures each result: the robustness curve.
v1::AttackReport run_robustness(ModelSession& model, const AttackRequest& request,
                                DenseMatrix* last_x_adv = nullptr);

}  // namespace secmlops::host
