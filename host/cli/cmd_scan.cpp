#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "secmlops/host/report_render.hpp"
#include "secmlops/host/scan_engine.hpp"

#include <iostream>
#include <map>

namespace secmlops::cli {
namespace {

// Exit codes: 0 nothing at or above the threshold, 1 findings at or above it, 2 a file could
// not be scanned. 1 wins over 2: a payload found before a parse error matters more.
int scan_exit_code(const v1::ScanReport& report, v1::Severity threshold) {
  bool hit = false, failed = false;
  for (const auto& f : report.files()) {
    if (f.status() == v1::ERROR || f.status() == v1::PARTIAL) failed = true;
    for (const auto& fi : f.findings())
      if (fi.severity() >= threshold) hit = true;
  }
  return hit ? 1 : failed ? 2 : 0;
}

}  // namespace

namespace {

void register_scan(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("scan", "scan model files and directories for code-execution risks");
  struct Args {
    std::vector<std::filesystem::path> paths;
    std::string format = "text";
    std::string fail_on = "HIGH";
    double timeout = 300;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("paths", args->paths, "files or directories (recursive)")->required();
  cmd->add_option("--format", args->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--fail-on", args->fail_on, "exit 1 when a finding reaches this severity")
      ->transform(CLI::IsMember({"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}, CLI::ignore_case))
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout, "seconds allowed per file (0 = no limit)")
      ->capture_default_str();
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, args, mlflow] {
    std::string threshold_name = args->fail_on;
    for (auto& c : threshold_name) c = static_cast<char>(std::toupper(c));
    v1::Severity threshold = v1::HIGH;
    v1::Severity_Parse(threshold_name, &threshold);

    host::ScanOptions options;
    options.limits.seconds_per_file = args->timeout;
    MlflowRun run(ctx, *mlflow, "scan", "scan " + args->paths.front().filename().string());
    host::ScanEngine engine(ctx.registry(), options);
    auto report = engine.scan_paths(args->paths);
    if (args->format == "json")
      std::cout << host::to_json(report);
    else
      host::render_text(report, std::cout);
    ctx.exit_code = scan_exit_code(report, threshold);
    finish_scan_run(run, ctx, report, threshold_name, ctx.exit_code);
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(scan, register_scan)

}  // namespace secmlops::cli
