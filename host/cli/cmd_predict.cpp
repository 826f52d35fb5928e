#include "cli_context.hpp"
#include "model_data.hpp"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace secmlops::cli {
namespace {

struct PredictArgs {
  std::string model, data, label, out;
};

void run_predict(Context& ctx, const PredictArgs& a) {
  auto model = host::load_model_onnx(ctx.registry(), std::filesystem::path(a.model));
  std::optional<std::string> label;
  if (!a.label.empty()) label = a.label;
  auto data = load_data(a.data, label, model.features);
  auto proba = model.session->predict_proba(data.x);

  std::ostringstream csv;
  csv << "prediction";
  for (const auto& c : model.class_labels) csv << "," << host::csv_escape("p_" + c);
  csv << "\n";
  for (uint64_t r = 0; r < proba.rows; ++r) {
    const double* row = proba.data.data() + r * proba.cols;
    auto best = static_cast<size_t>(std::max_element(row, row + proba.cols) - row);
    csv << host::csv_escape(model.class_labels[best]);
    for (uint64_t c = 0; c < proba.cols; ++c) csv << fmt::format(",{:.9g}", row[c]);
    csv << "\n";
  }
  std::string summary;
  if (label) {
    host::LabelEncoder enc(model.class_labels);
    auto m = host::classification_metrics(proba, enc.encode(data.labels, &data.table));
    summary = fmt::format("{} rows  accuracy {:.4f}  log-loss {:.4f}\n", m.rows, m.accuracy, m.log_loss);
  }
  if (a.out.empty()) {
    std::cout << csv.str();
    std::cerr << summary;
  } else {
    std::ofstream out(a.out, std::ios::trunc);
    out << csv.str();
    if (!out) throw std::runtime_error(a.out + ": cannot write the predictions");
    std::cout << "model " << model.session->plugin().name() << ": wrote " << proba.rows << " predictions to "
              << a.out << "\n"
              << summary;
  }
}

void register_predict(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("predict", "predict classes and probabilities of a CSV file with an ONNX model");
  auto a = std::make_shared<PredictArgs>();
  cmd->add_option("--model", a->model, "ONNX model file (any model plugin's, or a converter's)")->required();
  cmd->add_option("--data", a->data, "CSV file with a header row")->required();
  cmd->add_option("--label", a->label, "label column: excluded from the features, used to report accuracy");
  cmd->add_option("--out", a->out, "write the predictions CSV here instead of stdout");
  cmd->callback([&ctx, a] { run_predict(ctx, *a); });
}

}  // namespace

SECMLOPS_CLI_COMMAND(predict, register_predict)

}  // namespace secmlops::cli
