#include "cli_context.hpp"
#include "model_text.hpp"
#include "option_table.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/fmt/fmt.h>

#include <iostream>
#include <memory>

namespace secmlops::cli {
namespace {

struct DescribeArgs {
  std::string model, data, label, format = "text";
};

void print_text(const v1::DescribeResponse& r) {
  const auto& m = r.model();
  std::cout << fmt::format("{}: model plugin {}, {} features, {} classes, input gradients: {}\n",
                           r.source(), m.plugin(), m.n_features(), m.n_classes(),
                           m.has_gradient() ? "yes" : "no");
  std::cout << "classes: ";
  for (int i = 0; i < r.classes_size(); ++i) std::cout << (i ? ", " : "") << r.classes(i);
  std::cout << "\n";
  for (const auto& x : r.metrics())
    std::cout << fmt::format("  {:<22} {:.6g}\n", x.key(), x.value());
  for (const auto& p : r.properties())
    std::cout << fmt::format("  {:<22} {}\n", p.key(), p.value());
  if (r.has_overfitting()) {
    print_overfitting(std::cout, r.overfitting());
    return;
  }
  if (r.has_train()) print_metrics(std::cout, "train", r.train());
  if (r.has_held_out()) print_metrics(std::cout, "held-out", r.held_out());
  if (r.has_held_out() && !r.has_train())
    std::cout << "no training figures recorded in the model: overfitting cannot be assessed\n";
}

void register_describe(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "describe", "show a model's complexity and, with labelled data, its overfitting");
  auto a = std::make_shared<DescribeArgs>();
  add_options(cmd,
              {
                  {"--model", &a->model, "model file (ONNX)", kRequired},
                  {"--data", &a->data, "held-out CSV file to compare with the training figures"},
                  {"--label", &a->label, "label column of --data"},
                  text_or_json(&a->format, "DescribeResponse"),
              });
  cmd->callback([&ctx, a] {
    if (!a->data.empty() && a->label.empty())
      throw CLI::ValidationError("--data", "needs --label to measure accuracy");
    v1::ModelRef req;
    req.set_model_path(a->model);
    if (!a->data.empty()) {
      req.mutable_data()->set_path(a->data);
      req.mutable_data()->set_label_column(a->label);
      req.mutable_data()->set_has_header(true);
    }
    auto r = app::describe(ctx.env(), req);
    if (a->format == "json")
      std::cout << host::to_json(r);
    else
      print_text(r);
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(describe, register_describe)

}  // namespace secmlops::cli
