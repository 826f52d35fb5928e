#include "cli_context.hpp"
#include "option_table.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/csv.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <iostream>
#include <memory>

namespace secmlops::cli {
namespace {

struct PredictArgs {
  std::string model, data, label, out, format = "csv";
};

// One buffer; probabilities in their shortest exact form.
std::string to_csv(const v1::PredictResponse& r) {
  std::string csv = "prediction";
  for (const auto& c : r.classes()) csv += "," + host::csv_escape("p_" + c);
  csv += "\n";
  const auto& p = r.probabilities();
  host::append_rows(csv, p.rows(), p.cols() * 24 + 16, [&](std::string& text, uint64_t row) {
    text += host::csv_escape(r.predicted(static_cast<int>(row)));
    for (uint64_t c = 0; c < p.cols(); ++c) {
      text += ',';
      host::append_number(text, p.values(static_cast<int>(row * p.cols() + c)));
    }
    text += '\n';
  });
  return csv;
}

void register_predict(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "predict", "predict classes and probabilities of a CSV file with a model file");
  auto a = std::make_shared<PredictArgs>();
  add_options(cmd, {
                       {"--model", &a->model,
                        "model file (ONNX: any model plugin's, or a converter's)", kRequired},
                       {"--data", &a->data, "CSV file with a header row", kRequired},
                       {"--label", &a->label,
                        "label column: excluded from the features, used to report accuracy"},
                       {"--out", &a->out, "write the output here instead of stdout"},
                       {"--format",
                        &a->format,
                        "csv (prediction and probabilities per row) or json (PredictResponse)",
                        kShowDefault,
                        {"csv", "json"}},
                   });
  cmd->callback([&ctx, a] {
    v1::PredictRequest req;
    req.set_model_path(a->model);
    req.mutable_csv()->set_path(a->data);
    req.mutable_csv()->set_label_column(a->label);
    req.mutable_csv()->set_has_header(true);
    auto r = app::predict(ctx.env(), req);
    std::string text = a->format == "json" ? host::to_json(r) : to_csv(r);
    std::string summary;
    if (r.has_metrics())
      summary = fmt::format("{} rows  accuracy {:.4f}  log-loss {:.4f}\n", r.metrics().rows(),
                            r.metrics().accuracy(), r.metrics().log_loss());
    if (a->out.empty()) {
      std::cout << text;
      std::cerr << summary;
      return;
    }
    std::ofstream out(a->out, std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error(a->out + ": cannot write the predictions");
    std::cout << "model " << r.model() << ": wrote " << r.probabilities().rows()
              << " predictions to " << a->out << "\n"
              << summary;
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(predict, register_predict)

}  // namespace secmlops::cli
