#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "option_table.hpp"
#include "progress.hpp"
#include "secmlops/app/pipeline.hpp"
#include "secmlops/host/printable.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace secmlops::cli {
namespace {

v1::PipelineRequest read_spec(const std::string& path, const std::vector<std::string>& sets) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CLI::ValidationError("SPEC", path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  v1::PipelineRequest req;
  req.set_spec(text.str());
  req.set_spec_name(path);
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CLI::ValidationError("--set", "'" + s + "' is not key.path=value");
    auto* kv = req.add_set();
    kv->set_key(s.substr(0, eq));
    kv->set_value(s.substr(eq + 1));
  }
  return req;
}

const char* status_name(v1::StepStatus s) {
  switch (s) {
    case v1::STEP_OK:
      return "ok";
    case v1::STEP_FAILED:
      return "FAILED";
    case v1::STEP_SKIPPED:
      return "skipped";
    case v1::STEP_CANCELLED:
      return "cancelled";
    default:
      return "?";
  }
}

void print_text(const v1::PipelineReport& r) {
  std::cout << fmt::format("pipeline {}: {} ({:.2f}s)\n", r.name(), r.verdict(),
                           r.duration_seconds());
  for (const auto& s : r.steps()) {
    std::cout << fmt::format("  {:<16} {:<8} {:<10} {:>7.2f}s", s.id(), s.kind(),
                             status_name(s.status()), s.duration_seconds());
    if (!s.error().empty()) std::cout << "  " << host::printable(s.error(), 2000);
    std::cout << "\n";
  }
  if (r.analyses_size() > 0) {
    std::cout << fmt::format("\n{:<22} {:<12} {:>8} {:>8} {:>7} {:>8} {:>16} {:>6}\n", "model",
                             "plugin", "train", "held-out", "overfit", "findings",
                             "worst adv. acc.", "risk");
    for (const auto& a : r.analyses())
      std::cout << fmt::format(
          "{:<22} {:<12} {:>8.4f} {:>8.4f} {:>7} {:>8} {:>16} {:>6}\n", a.model(), a.plugin(),
          a.train_accuracy(), a.held_out_accuracy(), a.overfitting() ? "yes" : "no", a.findings(),
          a.worst_attack().empty() ? std::string("-")
                                   : fmt::format("{:.3f} {}@{:g}", a.worst_adversarial_accuracy(),
                                                 a.worst_attack(), a.worst_eps()),
          a.risk());
  }
  if (r.gates_size() > 0) {
    std::cout << "\ngates:\n";
    for (const auto& g : r.gates())
      std::cout << fmt::format(
          "  {} {}{}: {}\n", g.passed() ? "pass" : "FAIL", g.condition(),
          g.subject().empty() ? "" : " [" + host::printable(g.subject(), 500) + "]",
          host::printable(g.detail(), 2000));
  }
  if (!r.dashboard_file().empty()) std::cout << "\ndashboard: " << r.dashboard_file() << "\n";
  std::cout << "\noutputs: " << r.output_dir() << " (pipeline-report.json";
  for (const auto& s : r.steps())
    if (s.kind() == "report" && s.outputs_size() > 0) std::cout << ", reports/";
  std::cout << ")\n";
  if (!r.mlflow_run_id().empty())
    std::cout << "mlflow: pipeline run " << r.mlflow_run_id()
              << (r.mlflow_run_url().empty() ? "" : " " + r.mlflow_run_url()) << "\n";
}

void register_pipeline(CLI::App& app, Context& ctx) {
  auto* cmd =
      app.add_subcommand("pipeline", "run or check a security pipeline spec (docs/pipelines.md)");
  cmd->require_subcommand(1);
  struct Args {
    std::string spec, format = "text", output;
    std::vector<std::string> sets;
  };
  auto a = std::make_shared<Args>();
  auto* run = cmd->add_subcommand(
      "run", "run a pipeline: exit 0 every gate passed, 1 a gate failed, 2 an error");
  add_options(run,
              {
                  {"spec", &a->spec, "pipeline spec (YAML)", kRequired},
                  {"--set", &a->sets,
                   "override a spec value: key.path=value (e.g. vars.samples=500; repeatable)"},
                  {"--output", &a->output,
                   "directory for the files the pipeline writes (default: the spec's output:)"},
                  text_or_json(&a->format, "PipelineReport"),
              });
  auto mlflow = add_mlflow_options(run);
  run->callback([&ctx, a, mlflow] {
    auto req = read_spec(a->spec, a->sets);
    *req.mutable_mlflow() = to_recording(*mlflow);
    req.set_output_dir(a->output);
    auto& env = ctx.env();
    env.progress = progress_printer(true);
    auto report = app::run_pipeline(env, req);
    if (a->format == "json")
      std::cout << host::to_json(report);
    else
      print_text(report);
    ctx.exit_code = app::pipeline_exit_code(report);
  });
  auto* validate =
      cmd->add_subcommand("validate", "check a spec without running it: exit 0 valid, 2 not");
  validate->add_option("spec", a->spec, "pipeline spec (YAML)")->required();
  validate->add_option("--set", a->sets, "override a spec value: key.path=value");
  validate->callback([&ctx, a] {
    auto v = app::validate_pipeline(ctx.env(), read_spec(a->spec, a->sets));
    if (!v.valid()) {
      for (const auto& e : v.errors()) std::cerr << e << "\n";
      ctx.exit_code = 2;
      return;
    }
    std::cout << a->spec << ": valid; steps in order: ";
    for (int i = 0; i < v.order_size(); ++i) std::cout << (i ? ", " : "") << v.order(i);
    std::cout << "\n";
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(pipeline, register_pipeline)

}  // namespace secmlops::cli
