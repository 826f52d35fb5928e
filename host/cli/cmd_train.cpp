#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "model_data.hpp"
#include "secmlops/host/digest.hpp"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <iostream>
#include <memory>

namespace secmlops::cli {
namespace {

struct TrainArgs {
  std::string model, data, label, out, format = "text";
  std::vector<std::string> params;
  double test_size = 0.25;
  uint64_t seed = 0;
};

host::KeyValues parse_params(const std::vector<std::string>& raw) {
  host::KeyValues kv;
  for (const auto& p : raw) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--param '" + p + "' is not of the form key=value");
    kv.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  return kv;
}

// Sends the training run to MLflow when --mlflow was given: accuracies, the overfitting gap,
// complexity, the dataset with its digest and the model file.
void report_to_mlflow(MlflowRun& run, const TrainArgs& a, const host::ClassificationMetrics& train,
                      const std::optional<host::OverfittingReport>& report, const host::Emitted& described,
                      const host::KeyValues& params) {
  if (!run) return;
  host::record_model(*run, a.model, train.accuracy, report ? report->test.accuracy : train.accuracy, described);
  for (const auto& [k, v] : params) run->param("model.param." + k, v);
  if (report) {
    run->metric("model.log_loss_gap", report->log_loss_gap);
    run->tag("model.overfitting", report->flagged ? "flagged" : "ok");
  }
  run->dataset(std::filesystem::path(a.data).filename().string(), host::sha256_file(a.data), a.data);
  run->artifact(a.out, "model");
  run.finish("FINISHED");
}

void run_train(Context& ctx, const TrainArgs& a, const MlflowOptions& mlflow_options) {
  MlflowRun run(ctx, mlflow_options, "train", "train " + a.model + " " + std::filesystem::path(a.data).filename().string());
  auto plugin = ctx.registry().find(SECMLOPS_KIND_MODEL, a.model);
  if (!plugin) {
    std::string names;
    for (const auto& p : ctx.registry().by_kind(SECMLOPS_KIND_MODEL)) names += (names.empty() ? "" : ", ") + p.name();
    throw std::invalid_argument("no model plugin named '" + a.model + "' (available: " +
                                (names.empty() ? "none" : names) + ")");
  }
  auto params = parse_params(a.params);
  auto data = load_data(a.data, a.label);
  auto encoder = host::LabelEncoder::fit(data.labels);
  auto y = encoder.encode(data.labels, &data.table);
  if (encoder.classes().size() < 2)
    throw host::DataError(a.data + ": label column '" + a.label + "' has a single class");

  auto split = host::train_test_split(data.x.rows, a.test_size, a.seed);
  auto x_train = host::take_rows(data.x, split.train);
  auto y_train = host::take(y, split.train);
  // Every class must be present in the training part for the model to learn it.
  std::vector<char> seen(encoder.classes().size(), 0);
  for (int32_t v : y_train) seen[static_cast<size_t>(v)] = 1;
  for (size_t c = 0; c < seen.size(); ++c)
    if (!seen[c])
      throw host::DataError(a.data + ": class '" + encoder.classes()[c] +
                            "' has no row in the training split; use more data or a smaller --test-size");

  host::ModelSession session(*plugin);
  host::Emitted fit_emitted;
  session.fit(x_train, y_train, params, &fit_emitted);
  auto train = host::classification_metrics(session.predict_proba(x_train), y_train);
  std::optional<host::OverfittingReport> report;
  if (!split.test.empty()) {
    auto x_test = host::take_rows(data.x, split.test);
    auto test = host::classification_metrics(session.predict_proba(x_test), host::take(y, split.test));
    report = host::overfitting_report(train, test);
  }

  auto bytes = session.export_onnx();
  host::add_onnx_metadata(bytes, host::kMetaClassLabels, nlohmann::json(encoder.classes()).dump());
  host::add_onnx_metadata(bytes, host::kMetaFeatures, nlohmann::json(data.features).dump());
  host::add_onnx_metadata(bytes, host::kMetaLabelColumn, a.label);
  host::add_onnx_metadata(bytes, host::kMetaTrainAccuracy, fmt::format("{:.17g}", train.accuracy));
  host::add_onnx_metadata(bytes, host::kMetaTrainLogLoss, fmt::format("{:.17g}", train.log_loss));
  host::add_onnx_metadata(bytes, host::kMetaTrainRows, std::to_string(train.rows));
  {
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error(a.out + ": cannot write the model");
  }
  auto described = session.describe();
  report_to_mlflow(run, a, train, report, described, params);

  if (a.format == "json") {
    nlohmann::json j = {{"model", a.model},
                        {"out", a.out},
                        {"rows", data.x.rows},
                        {"features", data.features},
                        {"classes", encoder.classes()},
                        {"params", nlohmann::json::object()},
                        {"train", to_json(train)},
                        {"describe", to_json(described)}};
    for (const auto& [k, v] : params) j["params"][k] = v;
    if (report) j["overfitting"] = to_json(*report);
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("trained {} on {} of {} rows, {} features, {} classes\n", a.model, split.train.size(),
                           data.x.rows, data.features.size(), encoder.classes().size());
  if (report)
    print_report(std::cout, *report);
  else
    print_metrics(std::cout, "train", train);
  std::cout << "wrote " << a.out << " (" << bytes.size() << " bytes)\n";
}

void register_train(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("train", "train a model plugin on a CSV file and save it as ONNX");
  auto a = std::make_shared<TrainArgs>();
  cmd->add_option("--model", a->model, "model plugin name (see `secmlops plugins`)")->required();
  cmd->add_option("--data", a->data, "CSV file with a header row")->required();
  cmd->add_option("--label", a->label, "name of the label column")->required();
  cmd->add_option("--param", a->params, "model parameter key=value (repeatable)");
  cmd->add_option("--test-size", a->test_size, "fraction of rows held out for the overfitting report (0 = none)")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "seed of the train/test split")->capture_default_str();
  cmd->add_option("--out", a->out, "where to write the ONNX model")->required();
  cmd->add_option("--format", a->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, a, mlflow] { run_train(ctx, *a, *mlflow); });
}

}  // namespace

SECMLOPS_CLI_COMMAND(train, register_train)

}  // namespace secmlops::cli
