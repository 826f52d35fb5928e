#include "cli_context.hpp"
#include "model_data.hpp"

#include <spdlog/fmt/fmt.h>

#include <iostream>
#include <memory>

namespace secmlops::cli {
namespace {

struct DescribeArgs {
  std::string model, data, label, format = "text";
};

void run_describe(Context& ctx, const DescribeArgs& a) {
  auto model = host::load_model_onnx(ctx.registry(), std::filesystem::path(a.model));
  auto info = model.session->info();
  auto described = model.session->describe();

  // The training figures recorded by `secmlops train`, when present.
  std::optional<host::ClassificationMetrics> train;
  auto meta = [&](const char* key) -> std::optional<std::string> {
    auto it = model.metadata.find(key);
    return it == model.metadata.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  if (auto acc = meta(host::kMetaTrainAccuracy), loss = meta(host::kMetaTrainLogLoss); acc && loss) {
    host::ClassificationMetrics m;
    m.accuracy = std::strtod(acc->c_str(), nullptr);
    m.log_loss = std::strtod(loss->c_str(), nullptr);
    if (auto rows = meta(host::kMetaTrainRows)) m.rows = std::strtoull(rows->c_str(), nullptr, 10);
    train = m;
  }
  std::optional<host::ClassificationMetrics> held_out;
  if (!a.data.empty()) {
    if (a.label.empty()) throw std::invalid_argument("--data needs --label to measure accuracy");
    auto data = load_data(a.data, a.label, model.features);
    host::LabelEncoder enc(model.class_labels);
    held_out = host::classification_metrics(model.session->predict_proba(data.x), enc.encode(data.labels, &data.table));
  }
  std::optional<host::OverfittingReport> report;
  if (train && held_out) report = host::overfitting_report(*train, *held_out);

  if (a.format == "json") {
    nlohmann::json j = {{"model", a.model},
                        {"plugin", model.session->plugin().name()},
                        {"n_features", info.n_features},
                        {"n_classes", info.n_classes},
                        {"has_gradient", info.has_gradient != 0},
                        {"class_labels", model.class_labels},
                        {"describe", to_json(described)}};
    if (!model.features.empty()) j["features"] = model.features;
    if (train) j["train"] = to_json(*train);
    if (held_out) j["held_out"] = to_json(*held_out);
    if (report) j["overfitting"] = to_json(*report);
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("{}: model plugin {}, {} features, {} classes, input gradients: {}\n", a.model,
                           model.session->plugin().name(), info.n_features, info.n_classes,
                           info.has_gradient ? "yes" : "no");
  std::cout << "classes: ";
  for (size_t i = 0; i < model.class_labels.size(); ++i) std::cout << (i ? ", " : "") << model.class_labels[i];
  std::cout << "\n";
  for (const auto& [k, v] : described.metrics) std::cout << fmt::format("  {:<22} {:.6g}\n", k, v.first);
  for (const auto& [k, v] : described.properties) std::cout << fmt::format("  {:<22} {}\n", k, v);
  if (report) {
    print_report(std::cout, *report);
  } else {
    if (train) print_metrics(std::cout, "train", *train);
    if (held_out) print_metrics(std::cout, "held-out", *held_out);
    if (held_out && !train)
      std::cout << "no training figures recorded in the model: overfitting cannot be assessed\n";
  }
}

void register_describe(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("describe", "show a model's complexity and, with labelled data, its overfitting");
  auto a = std::make_shared<DescribeArgs>();
  cmd->add_option("--model", a->model, "ONNX model file")->required();
  cmd->add_option("--data", a->data, "held-out CSV file to compare with the training figures");
  cmd->add_option("--label", a->label, "label column of --data");
  cmd->add_option("--format", a->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->callback([&ctx, a] { run_describe(ctx, *a); });
}

}  // namespace

SECMLOPS_CLI_COMMAND(describe, register_describe)

}  // namespace secmlops::cli
