#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "model_data.hpp"
#include "secmlops/host/digest.hpp"
#include "secmlops/host/report_render.hpp"
#include "secmlops/host/robustness.hpp"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace secmlops::cli {
namespace {

struct AttackArgs {
  std::string model, attack = "fgsm", data, label, out, format = "text", norm, targeted;
  std::vector<double> eps;
  std::optional<double> eps_step;
  std::optional<int> max_iter;
  std::optional<uint64_t> seed;
  std::optional<std::string> clip_min, clip_max;
  std::vector<std::string> immutable;
  std::vector<std::string> params;
  bool no_empirical = false;
};

std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ','))
      if (!part.empty()) out.push_back(part);
  }
  return out;
}

// Immutable features by column name or index.
std::string immutable_indices(const std::vector<std::string>& items, const std::vector<std::string>& features) {
  std::string out;
  for (const auto& f : split_commas(items)) {
    auto it = std::find(features.begin(), features.end(), f);
    size_t idx;
    if (it != features.end()) {
      idx = static_cast<size_t>(it - features.begin());
    } else {
      char* end = nullptr;
      unsigned long v = std::strtoul(f.c_str(), &end, 10);
      if (end == f.c_str() || *end != '\0' || v >= features.size())
        throw std::invalid_argument("--immutable: '" + f + "' is neither a feature column nor an index below " +
                                    std::to_string(features.size()));
      idx = v;
    }
    out += (out.empty() ? "" : ",") + std::to_string(idx);
  }
  return out;
}

void print_text(const v1::AttackReport& r) {
  std::cout << fmt::format("attack {} ({}) on model {}: {} samples, labels: {}{}\n", r.attack(), r.method(),
                           r.model(), r.samples(), r.labels_source(), r.targeted() ? ", targeted" : "");
  std::cout << fmt::format("clean accuracy {:.4f}\n", r.clean_accuracy());
  std::cout << fmt::format("{:>10} {:>10} {:>9} {:>9} {:>10} {:>10} {:>8} {:>10}\n", "eps", "adv_acc", "success",
                           "flip", "mean_linf", "mean_l2", "mean_l0", "queries");
  for (const auto& p : r.curve())
    std::cout << fmt::format("{:>10.4g} {:>10.4f} {:>9.4f} {:>9.4f} {:>10.4g} {:>10.4g} {:>8.3g} {:>10}\n", p.eps(),
                             p.adversarial_accuracy(), p.success_rate(), p.flip_rate(), p.perturbation().mean_linf(),
                             p.perturbation().mean_l2(), p.perturbation().mean_l0(), p.model_queries());
  if (r.has_empirical_robustness())
    std::cout << fmt::format("empirical robustness (minimal FGSM, ART's definition): {:.6g}\n",
                             r.empirical_robustness());
}

void run_attack_command(Context& ctx, const AttackArgs& a, const MlflowOptions& mlflow_options) {
  MlflowRun run(ctx, mlflow_options, "attack",
                "attack " + a.attack + " " + std::filesystem::path(a.model).filename().string());
  auto attack = ctx.registry().find(SECMLOPS_KIND_ATTACK, a.attack);
  if (!attack) {
    std::string names;
    for (const auto& p : ctx.registry().by_kind(SECMLOPS_KIND_ATTACK)) names += (names.empty() ? "" : ", ") + p.name();
    throw std::invalid_argument("no attack plugin named '" + a.attack + "' (available: " +
                                (names.empty() ? "none" : names) + ")");
  }
  auto model = host::load_model_onnx(ctx.registry(), std::filesystem::path(a.model));
  std::optional<std::string> label;
  if (!a.label.empty()) label = a.label;
  auto data = load_data(a.data, label, model.features);

  host::AttackRequest req;
  req.attack = &*attack;
  req.x = data.x;
  host::LabelEncoder encoder(model.class_labels);
  if (label) req.y_true = encoder.encode(data.labels, &data.table);
  if (!a.targeted.empty()) {
    auto target = encoder.encode({a.targeted});
    req.targets.assign(data.x.rows, target[0]);
  }
  req.eps = a.eps;
  auto& p = req.params;
  if (!a.norm.empty()) p.emplace_back("norm", a.norm);
  if (a.eps_step) p.emplace_back("eps_step", fmt::format("{:.17g}", *a.eps_step));
  if (a.max_iter) p.emplace_back("max_iter", std::to_string(*a.max_iter));
  if (a.seed) p.emplace_back("seed", std::to_string(*a.seed));
  if (a.clip_min) p.emplace_back("clip_min", *a.clip_min);
  if (a.clip_max) p.emplace_back("clip_max", *a.clip_max);
  if (!a.immutable.empty()) p.emplace_back("immutable", immutable_indices(a.immutable, data.features));
  for (const auto& kv : a.params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--param '" + kv + "' is not of the form key=value");
    p.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  auto fgsm = ctx.registry().find(SECMLOPS_KIND_ATTACK, "fgsm");
  const host::Plugin* fgsm_ptr = fgsm ? &*fgsm : nullptr;
  if (!a.no_empirical && fgsm_ptr) req.fgsm_for_empirical_robustness = fgsm_ptr;

  host::DenseMatrix x_adv;
  int64_t point_step = 0;  // the curve goes to MLflow point by point, as it is computed
  if (run) req.on_point = [&](const v1::RobustnessPoint& p, const host::DenseMatrix&) { host::record_attack_point(*run, point_step++, p); };
  auto report = host::run_robustness(*model.session, req, &x_adv);

  if (!a.out.empty()) {
    // The adversarial examples of the last eps, with the model's adversarial prediction.
    std::ofstream out(a.out, std::ios::trunc);
    auto pred = model.session->predict(x_adv);
    for (size_t c = 0; c < data.features.size(); ++c) out << (c ? "," : "") << host::csv_escape(data.features[c]);
    out << ",adversarial_prediction\n";
    for (uint64_t r = 0; r < x_adv.rows; ++r) {
      for (uint64_t c = 0; c < x_adv.cols; ++c) out << (c ? "," : "") << fmt::format("{:.17g}", x_adv(r, c));
      out << "," << host::csv_escape(encoder.decode(pred[r])) << "\n";
    }
    if (!out) throw std::runtime_error(a.out + ": cannot write the adversarial examples");
  }
  if (a.format == "json")
    std::cout << host::to_json(report);
  else
    print_text(report);
  if (run) {
    host::record_attack(*run, report, true);
    run->dataset(std::filesystem::path(a.data).filename().string(), host::sha256_file(a.data), a.data);
    if (!a.out.empty()) run->artifact(a.out, "adversarial");
    run.finish("FINISHED");
  }
}

void register_attack(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("attack", "measure a model's robustness with an attack plugin");
  auto a = std::make_shared<AttackArgs>();
  cmd->add_option("--model", a->model, "ONNX model (from `secmlops train` or a converter)")->required();
  cmd->add_option("--attack", a->attack, "attack plugin: fgsm, pgd, hsj, transfer, …")->capture_default_str();
  cmd->add_option("--data", a->data, "CSV file with the samples to attack")->required();
  cmd->add_option("--label", a->label, "label column (default: the model's predictions are the labels)");
  cmd->add_option("--eps", a->eps, "perturbation budget(s), comma-separated: one run per value (robustness curve)")
      ->delimiter(',');
  cmd->add_option("--eps-step", a->eps_step, "step size (ART default 0.1)");
  cmd->add_option("--norm", a->norm, "inf, 1 or 2")->check(CLI::IsMember({"inf", "1", "2"}));
  cmd->add_option("--max-iter", a->max_iter, "iterations (pgd, hsj, transfer)");
  cmd->add_option("--targeted", a->targeted, "target class label: every sample is pushed towards it");
  cmd->add_option("--clip-min", a->clip_min, "lower value bound: one number or one per feature (a,b,…)");
  cmd->add_option("--clip-max", a->clip_max, "upper value bound: one number or one per feature (a,b,…)");
  cmd->add_option("--immutable", a->immutable, "features that must not change (column names or indices)");
  cmd->add_option("--seed", a->seed, "seed of random starts and black-box directions");
  cmd->add_option("--param", a->params, "further attack parameter key=value (see docs/attacks.md)");
  cmd->add_flag("--no-empirical-robustness", a->no_empirical, "skip ART's empirical robustness (a minimal FGSM)");
  cmd->add_option("--out", a->out, "write the adversarial examples of the last eps as CSV");
  cmd->add_option("--format", a->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, a, mlflow] { run_attack_command(ctx, *a, *mlflow); });
}

}  // namespace

SECMLOPS_CLI_COMMAND(attack, register_attack)

}  // namespace secmlops::cli
