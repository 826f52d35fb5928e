#include "secmlops/host/attack_runner.hpp"

#include "secmlops/host/plugin_config.hpp"

namespace secmlops::host {

AttackOutput run_attack(const Plugin& attack, ModelSession& model, const DenseMatrix& x,
                        const std::vector<int32_t>& y, const KeyValues& params,
                        const std::shared_ptr<CancelToken>& cancel) {
  if (attack.kind() != SECMLOPS_KIND_ATTACK)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, attack.name() + " is not an attack plugin");
  auto info = model.info();
  if (x.cols != info.n_features)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, "input has " + std::to_string(x.cols) +
                                                         " features, the model expects " +
                                                         std::to_string(info.n_features));
  if (!y.empty() && y.size() != x.rows)
    throw PluginError(
        SECMLOPS_ERR_INVALID_ARGUMENT,
        "got " + std::to_string(y.size()) + " labels for " + std::to_string(x.rows) + " rows");
  for (size_t r = 0; r < y.size(); ++r)
    if (y[r] < 0 || static_cast<uint32_t>(y[r]) >= info.n_classes)
      throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT,
                        "label " + std::to_string(y[r]) + " of row " + std::to_string(r) +
                            " is outside 0.." + std::to_string(info.n_classes - 1));
  if ((attack.capability_bits() & SECMLOPS_CAP_NEEDS_GRADIENT) && !model.has_gradient())
    throw PluginError(SECMLOPS_ERR_UNSUPPORTED,
                      attack.name() + " needs loss gradients, which model " +
                          model.plugin().name() + " does not provide (use a black-box attack)");

  check_config(attack, params, "parameter");
  Instance inst(attack, {});
  AttackOutput out;
  out.x_adv = DenseMatrix(x.rows, x.cols);
  std::vector<secmlops_kv> kv;
  for (const auto& [k, v] : params) kv.push_back({k.c_str(), v.c_str()});
  RecordingJob job(&out.emitted);
  job.set_cancel_token(cancel);
  uint64_t before = model.queries();
  auto handle = model.handle(cancel);
  auto m = x.view();
  inst.check(attack.descriptor().attack->generate(
                 inst.raw(), job.handle(), &handle, &m, y.empty() ? nullptr : y.data(), kv.data(),
                 static_cast<uint32_t>(kv.size()), out.x_adv.data.data()),
             "generate");
  out.queries = model.queries() - before;
  return out;
}

}  // namespace secmlops::host
