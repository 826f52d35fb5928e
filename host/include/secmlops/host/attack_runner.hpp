#pragma once

#include "secmlops/host/model_session.hpp"

#include <optional>

namespace secmlops::host {

struct AttackOutput {
  DenseMatrix x_adv;
  Emitted emitted;       // what the attack reported (iterations, …)
  uint64_t queries = 0;  // model rows evaluated through the host during the attack
};

// Runs an attack plugin against a model session. `y` (true or target labels) may be empty:
// the attack then uses the model's predictions. Throws PluginError on bad input or failure.
AttackOutput run_attack(const Plugin& attack, ModelSession& model, const DenseMatrix& x,
                        const std::vector<int32_t>& y, const KeyValues& params,
                        const std::shared_ptr<CancelToken>& cancel = nullptr);

}  // namespace secmlops::host
