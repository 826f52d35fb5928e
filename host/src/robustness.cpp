#include "secmlops/host/robustness.hpp"
#include "secmlops/v1/report.pb.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

namespace secmlops::host {

double accuracy(const std::vector<int32_t>& predicted, const std::vector<int32_t>& truth) {
  if (predicted.empty()) return 0;
  size_t ok = 0;
  for (size_t i = 0; i < predicted.size(); ++i) ok += predicted[i] == truth[i];
  return static_cast<double>(ok) / static_cast<double>(predicted.size());
}

v1::RobustnessPoint robustness_point(const ModelSession& model, const DenseMatrix& x,
                                     const DenseMatrix& x_adv, const std::vector<int32_t>& y_true,
                                     const std::vector<int32_t>& targets) {
  if (x.rows != x_adv.rows || x.cols != x_adv.cols)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT,
                      "adversarial examples and inputs differ in shape");
  const auto clean = model.predict(x);
  const auto adv = model.predict(x_adv);
  const auto& truth = y_true.empty() ? clean : y_true;
  v1::RobustnessPoint p;
  p.set_adversarial_accuracy(accuracy(adv, truth));
  size_t correct = 0, succeeded = 0, flipped = 0;
  for (size_t i = 0; i < adv.size(); ++i) {
    flipped += adv[i] != clean[i];
    if (clean[i] != truth[i]) continue;
    ++correct;
    succeeded += targets.empty() ? adv[i] != truth[i] : adv[i] == targets[i];
  }
  p.set_success_rate(correct ? static_cast<double>(succeeded) / static_cast<double>(correct) : 0.0);
  p.set_flip_rate(adv.empty() ? 0.0
                              : static_cast<double>(flipped) / static_cast<double>(adv.size()));
  auto* n = p.mutable_perturbation();
  double sum_inf = 0, sum_l2 = 0, sum_l0 = 0, max_inf = 0, max_l2 = 0, max_l0 = 0;
  for (uint64_t r = 0; r < x.rows; ++r) {
    double linf = 0, l2 = 0, l0 = 0;
    for (uint64_t c = 0; c < x.cols; ++c) {
      double d = std::abs(x_adv(r, c) - x(r, c));
      linf = std::max(linf, d);
      l2 += d * d;
      l0 += d > 1e-12;
    }
    l2 = std::sqrt(l2);
    sum_inf += linf, sum_l2 += l2, sum_l0 += l0;
    max_inf = std::max(max_inf, linf), max_l2 = std::max(max_l2, l2), max_l0 = std::max(max_l0, l0);
  }
  const double rows = std::max<double>(1, static_cast<double>(x.rows));
  n->set_mean_linf(sum_inf / rows);
  n->set_max_linf(max_inf);
  n->set_mean_l2(sum_l2 / rows);
  n->set_max_l2(max_l2);
  n->set_mean_l0(sum_l0 / rows);
  n->set_max_l0(max_l0);
  return p;
}

namespace {
double row_norm(const DenseMatrix& m, uint64_t r, const std::string& norm,
                const DenseMatrix* minus = nullptr) {
  double acc = 0;
  for (uint64_t c = 0; c < m.cols; ++c) {
    double v = std::abs(m(r, c) - (minus ? (*minus)(r, c) : 0.0));
    if (norm == "inf")
      acc = std::max(acc, v);
    else if (norm == "1")
      acc += v;
    else
      acc += v * v;
  }
  return norm == "2" ? std::sqrt(acc) : acc;
}
}  // namespace

double empirical_robustness(const Plugin& fgsm, ModelSession& model, const DenseMatrix& x,
                            const KeyValues& params, const std::shared_ptr<CancelToken>& cancel) {
  KeyValues p = params;
  p.emplace_back("minimal", "true");
  // ART measures in the attack's own norm (crafter.norm): FGSM's default is L∞.
  std::string norm = "inf";
  for (const auto& [k, v] : params)
    if (k == "norm") norm = v == "2" || v == "l2" ? "2" : v == "1" || v == "l1" ? "1" : "inf";
  auto out = run_attack(fgsm, model, x, {}, p, cancel);
  const auto clean = model.predict(x);
  const auto adv = model.predict(out.x_adv);
  double sum = 0;
  size_t flipped = 0;
  for (uint64_t r = 0; r < x.rows; ++r) {
    if (adv[r] == clean[r]) continue;
    const double nx = row_norm(x, r, norm);
    ++flipped;
    sum += nx > 0 ? row_norm(out.x_adv, r, norm, &x) / nx : 0.0;
  }
  return flipped ? sum / static_cast<double>(flipped) : 0.0;
}

v1::AttackReport run_robustness(ModelSession& model, const AttackRequest& req,
                                DenseMatrix* last_x_adv) {
  if (req.attack == nullptr)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, "no attack plugin given");
  v1::AttackReport report;
  report.set_attack(req.attack->name());
  report.set_model(model.plugin().name());
  report.set_samples(req.x.rows);
  report.set_targeted(!req.targets.empty());
  for (const auto& [k, v] : req.params) (*report.mutable_params())[k] = v;
  report.set_labels_source(req.y_true.empty() ? "model predictions" : "given");
  const auto clean = model.predict(req.x);
  report.set_clean_accuracy(accuracy(clean, req.y_true.empty() ? clean : req.y_true));

  std::vector<std::optional<double>> eps_list;
  for (double e : req.eps) eps_list.emplace_back(e);
  if (eps_list.empty()) eps_list.emplace_back(std::nullopt);
  const auto& attack_labels = req.targets.empty() ? req.y_true : req.targets;
  for (const auto& eps : eps_list) {
    if (req.cancel && req.cancel->cancelled())
      throw PluginError(SECMLOPS_ERR_CANCELLED, "attack cancelled");
    KeyValues params = req.params;
    if (eps) {
      std::ostringstream s;
      s.precision(17);
      s << *eps;
      params.emplace_back("eps", s.str());
    }
    if (!req.targets.empty()) params.emplace_back("targeted", "true");
    auto t0 = std::chrono::steady_clock::now();
    auto out = run_attack(*req.attack, model, req.x, attack_labels, params, req.cancel);
    auto point = robustness_point(model, req.x, out.x_adv, req.y_true, req.targets);
    point.set_eps(eps.value_or(0));
    point.set_model_queries(out.queries);
    point.set_duration_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (const auto& [k, v] : out.emitted.properties)
      if (k == "attack.method") report.set_method(v);
    if (req.on_point) req.on_point(point, out);
    *report.add_curve() = point;
    if (last_x_adv) *last_x_adv = std::move(out.x_adv);
  }
  if (req.fgsm_for_empirical_robustness && *req.fgsm_for_empirical_robustness &&
      model.has_gradient()) {
    // Only the parameters a minimal FGSM understands carry over from the request's attack.
    static const std::set<std::string> shared = {"norm",      "eps",      "eps_step",
                                                 "eps_scale", "clip_min", "clip_max",
                                                 "immutable", "mask",     "seed"};
    KeyValues params;
    for (const auto& kv : req.params)
      if (shared.count(kv.first)) params.push_back(kv);
    if (!req.eps.empty()) {
      std::ostringstream s;
      s.precision(17);
      s << req.eps.back();
      params.emplace_back("eps", s.str());
    }
    report.set_empirical_robustness(empirical_robustness(**req.fgsm_for_empirical_robustness, model,
                                                         req.x, params, req.cancel));
  }
  return report;
}

}  // namespace secmlops::host
