#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "model_text.hpp"
#include "option_table.hpp"
#include "secmlops/app/data.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <iostream>
#include <memory>

namespace secmlops::cli {
namespace {

struct AttackArgs {
  std::string model, attack = "fgsm", data, label, out, format = "text", norm, targets, labels_from;
  std::vector<double> eps;
  std::optional<double> eps_step;
  std::optional<int> max_iter, num_random_init;
  std::optional<double> decay;
  bool minimal = false;
  std::optional<uint64_t> seed;
  std::optional<std::string> clip_min, clip_max;
  std::vector<std::string> immutable;
  std::vector<std::string> params;
  bool no_empirical = false;
};

// Immutable features by column name or index, as the attack parameter (indices).
std::string immutable_indices(const std::vector<std::string>& items,
                              const std::vector<std::string>& features) {
  std::string out;
  for (const auto& f : split_commas(items)) {
    auto it = std::find(features.begin(), features.end(), f);
    size_t idx;
    if (it != features.end()) {
      idx = static_cast<size_t>(it - features.begin());
    } else {
      char* end = nullptr;
      unsigned long v = std::strtoul(f.c_str(), &end, 10);
      if (end == f.c_str() || *end != '\0' || (!features.empty() && v >= features.size()))
        throw std::invalid_argument("--immutable: '" + f +
                                    "' is neither a feature column nor an index below " +
                                    std::to_string(features.size()));
      idx = v;
    }
    out += (out.empty() ? "" : ",") + std::to_string(idx);
  }
  return out;
}

void add_param(v1::AttackRequest& req, const std::string& key, const std::string& value) {
  auto* kv = req.add_params();
  kv->set_key(key);
  kv->set_value(value);
}

void register_attack(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("attack", "measure a model's robustness with an attack plugin");
  auto a = std::make_shared<AttackArgs>();
  add_options(
      cmd,
      {
          {"--model", &a->model, "model file (from `secmlops train` or a converter)", kRequired},
          {"--attack", &a->attack, "attack plugin: fgsm, pgd, hsj, transfer, …", kShowDefault},
          {"--data", &a->data, "CSV file with the samples to attack", kRequired},
          {"--label", &a->label, "label column (default: the model's predictions are the labels)"},
          {"--eps", &a->eps,
           "perturbation budget(s), comma-separated: one run per value (robustness curve)",
           kCommaList},
          {"--eps-step", &a->eps_step, "step size (ART default 0.1)"},
          {"--norm", &a->norm, "inf, 1 or 2", 0, {"inf", "1", "2"}},
          {"--max-iter", &a->max_iter, "iterations (pgd, hsj, transfer)"},
          {"--targets,--targeted", &a->targets,
           "targeted attack: a class name (every row is pushed towards it) or a file with one "
           "class name per row"},
          {"--labels",
           &a->labels_from,
           "true: attack with the --label column's labels; predicted: with the model's "
           "predictions (ART's default), the --label column still excluded from the features",
           0,
           {"true", "predicted"}},
          {"--decay", &a->decay,
           "momentum PGD: decay factor of the accumulated gradient (pgd, transfer)"},
          {"--num-random-init", &a->num_random_init,
           "random starts (fgsm, pgd, transfer; 0 = start at x)"},
          {"--minimal", &a->minimal,
           "FGSM: the smallest eps (in steps of --eps-step) that flips each sample"},
          {"--clip-min", &a->clip_min, "lower value bound: one number or one per feature (a,b,…)"},
          {"--clip-max", &a->clip_max, "upper value bound: one number or one per feature (a,b,…)"},
          {"--immutable", &a->immutable, "features that must not change (column names or indices)"},
          {"--seed", &a->seed, "seed of random starts and black-box directions"},
          {"--param", &a->params, "further attack parameter key=value (see docs/attacks.md)"},
          {"--no-empirical-robustness", &a->no_empirical,
           "skip ART's empirical robustness (a minimal FGSM)"},
          {"--out", &a->out, "write the adversarial examples of the last eps as CSV"},
          text_or_json(&a->format, "AttackReport"),
      });
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, a, mlflow] {
    auto& env = ctx.env();
    v1::AttackRequest req;
    req.set_attack(a->attack);
    req.set_model_path(a->model);
    req.mutable_csv()->set_path(a->data);
    req.mutable_csv()->set_label_column(a->label);
    req.mutable_csv()->set_has_header(true);
    for (double e : a->eps) req.add_eps(e);
    if (!a->norm.empty()) add_param(req, "norm", a->norm);
    if (a->eps_step) add_param(req, "eps_step", app::format_number(*a->eps_step));
    if (a->max_iter) add_param(req, "max_iter", std::to_string(*a->max_iter));
    if (a->decay) add_param(req, "decay", app::format_number(*a->decay));
    if (a->num_random_init) add_param(req, "num_random_init", std::to_string(*a->num_random_init));
    if (a->minimal) add_param(req, "minimal", "true");
    req.set_labels_from(a->labels_from);
    if (a->seed) add_param(req, "seed", std::to_string(*a->seed));
    if (a->clip_min) add_param(req, "clip_min", *a->clip_min);
    if (a->clip_max) add_param(req, "clip_max", *a->clip_max);
    add_key_values(a->params, "--param", *req.mutable_params());
    req.set_empirical_robustness(!a->no_empirical);
    req.set_out(a->out);
    *req.mutable_mlflow() = to_recording(*mlflow);
    if (!a->immutable.empty() || !a->targets.empty()) {
      // Names of features and classes come from the model file.
      auto model = app::use_model(env, "", a->model);
      if (!a->immutable.empty())
        add_param(req, "immutable", immutable_indices(a->immutable, model.features));
      if (!a->targets.empty()) {
        std::vector<std::string> names;
        std::error_code ec;
        if (std::filesystem::is_regular_file(a->targets, ec)) {
          std::ifstream in(a->targets);
          for (std::string line; std::getline(in, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) names.push_back(line);
          }
        } else {
          names.push_back(a->targets);
        }
        for (const auto& n : names) {
          auto it = std::find(model.classes.begin(), model.classes.end(), n);
          if (it == model.classes.end())
            throw CLI::ValidationError("--targets", "'" + n + "' is not a class of the model");
          req.add_targets(static_cast<int32_t>(it - model.classes.begin()));
        }
      }
    }
    auto result = app::attack(env, req);
    if (a->format == "json")
      std::cout << host::to_json(result.report());
    else
      print_attack(std::cout, result.report());
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(attack, register_attack)

}  // namespace secmlops::cli
