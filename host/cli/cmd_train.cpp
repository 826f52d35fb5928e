#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "model_text.hpp"
#include "option_table.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/fmt/fmt.h>

#include <iostream>
#include <memory>

namespace secmlops::cli {
namespace {

struct TrainArgs {
  std::string model, data, label, out, format = "text", name;
  std::vector<std::string> params, config;
  double test_size = 0.25;
  uint64_t seed = 0;
};

void print_text(const v1::TrainResponse& r) {
  std::cout << fmt::format("trained {} on {} of {} rows, {} features, {} classes\n",
                           r.model().plugin(), r.train_rows(), r.train_rows() + r.test_rows(),
                           r.features_size(), r.classes_size());
  if (r.has_overfitting())
    print_overfitting(std::cout, r.overfitting());
  else
    print_metrics(std::cout, "train", r.train());
  if (!r.out().empty())
    std::cout << "wrote " << r.out() << " (sha256 " << r.model_sha256() << ")\n";
}

void register_train(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("train", "train a model plugin on a CSV file and save it as ONNX");
  auto a = std::make_shared<TrainArgs>();
  add_options(cmd,
              {
                  {"--model", &a->model, "model plugin name (see `secmlops plugins`)", kRequired},
                  {"--data", &a->data, "CSV file with a header row", kRequired},
                  {"--label", &a->label, "name of the label column", kRequired},
                  {"--param", &a->params, "model parameter key=value (repeatable)"},
                  {"--config", &a->config, "model plugin configuration key=value (repeatable)"},
                  {"--test-size", &a->test_size,
                   "fraction of rows held out for the overfitting report (0 = none)", kShowDefault},
                  {"--seed", &a->seed, "seed of the train/test split", kShowDefault},
                  {"--name", &a->name, "the model's name in reports"},
                  {"--out", &a->out, "where to write the ONNX model", kRequired},
                  text_or_json(&a->format, "TrainResponse"),
              });
  cmd->get_option("--test-size")->check(CLI::Range(0.0, 0.99));
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, a, mlflow] {
    v1::TrainRequest req;
    req.set_plugin(a->model);
    req.mutable_csv()->set_path(a->data);
    req.mutable_csv()->set_label_column(a->label);
    req.mutable_csv()->set_has_header(true);
    add_key_values(a->params, "--param", *req.mutable_params());
    add_key_values(a->config, "--config", *req.mutable_config());
    req.set_test_size(a->test_size);
    req.set_seed(a->seed);
    req.set_name(a->name);
    req.set_out(a->out);
    *req.mutable_mlflow() = to_recording(*mlflow);
    auto r = app::train(ctx.env(), req);
    if (a->format == "json")
      std::cout << host::to_json(r);
    else
      print_text(r);
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(train, register_train)

}  // namespace secmlops::cli
