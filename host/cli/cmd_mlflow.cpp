#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "secmlops/app/run_scope.hpp"
#include "secmlops/host/run_recorder.hpp"

#include <iostream>

namespace secmlops::cli {
namespace {

// `secmlops mlflow sync`: delivers the runs that were spooled while the tracking server was
// unreachable. Replays are idempotent (see docs/mlflow.md).
void register_mlflow(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("mlflow", "MLflow tracking helpers");
  cmd->require_subcommand(1);
  auto* sync = cmd->add_subcommand("sync", "deliver spooled runs to the tracking server");
  struct Args {
    std::string spool;
    std::string uri;
  };
  auto args = std::make_shared<Args>();
  sync->add_option(
      "--spool", args->spool,
      "spool directory (default: $SECMLOPS_MLFLOW_SPOOL_DIR, else ~/.cache/secmlops/mlflow-spool)");
  sync->add_option("--tracking-uri", args->uri,
                   "deliver to this server instead of the one each run was meant for");
  sync->callback([&ctx, args] {
    MlflowOptions o;
    o.uri = args->uri;
    host::KeyValues config = app::mlflow_config(to_recording(o), app::RunPolicy{});
    config.emplace_back("mode", "sync");
    if (!args->spool.empty()) config.emplace_back("spool_dir", args->spool);
    host::RunRecorder recorder(ctx.registry(), config);
    int failed_flush = 0;
    try {
      recorder.flush();
    } catch (const std::exception& e) {
      std::cerr << "secmlops: " << e.what() << "\n";
      failed_flush = 1;
    }
    size_t synced = 0, failed = 0;
    for (const auto& [k, v] : recorder.emitted().properties) {
      if (k == "mlflow.synced") {
        ++synced;
        std::cout << "synced run " << v << "\n";
      } else if (k == "mlflow.run_url") {
        std::cout << "  " << v << "\n";
      } else if (k == "mlflow.sync_failed") {
        ++failed;
        std::cout << "still spooled: " << v << "\n";
      }
    }
    std::cout << synced << " run(s) synced, " << failed << " still spooled\n";
    ctx.exit_code = (failed > 0 || failed_flush) ? 1 : 0;
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(mlflow, register_mlflow)

}  // namespace secmlops::cli
