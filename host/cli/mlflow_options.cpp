#include "mlflow_options.hpp"

#include "secmlops/host/report_render.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace secmlops::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

std::shared_ptr<MlflowOptions> add_mlflow_options(CLI::App* cmd) {
  auto o = std::make_shared<MlflowOptions>();
  cmd->add_option_function<std::vector<std::string>>(
         "--mlflow",
         [o](const std::vector<std::string>& v) {
           o->enabled = true;
           if (!v.empty()) o->uri = v.back();
         },
         "log this run to MLflow: a tracking server URL, file:DIR or a directory "
         "(default: $MLFLOW_TRACKING_URI, else ./mlruns); write --mlflow=URI before other "
         "arguments")
      ->expected(0, 1)
      ->check([](const std::string& v) -> std::string {
        // `--mlflow model.pkl` would silently take the model as the tracking URI.
        std::error_code ec;
        if (std::filesystem::is_regular_file(v, ec))
          return "'" + v +
                 "' is a file, not a tracking URI: write --mlflow=URI, or put --mlflow last";
        return "";
      });
  cmd->add_option("--mlflow-experiment", o->experiment,
                  "MLflow experiment (default: $MLFLOW_EXPERIMENT_NAME, else secmlops)");
  cmd->add_option("--mlflow-run-name", o->run_name, "MLflow run name");
  cmd->add_option("--mlflow-model", o->model,
                  "NAME:VERSION of a registered model version that also gets the verdict tags");
  return o;
}

host::KeyValues mlflow_config(const MlflowOptions& o) {
  host::KeyValues kv;
  std::string uri = !o.uri.empty() ? o.uri : env("MLFLOW_TRACKING_URI");
  kv.emplace_back("tracking_uri", uri);
  std::string experiment = !o.experiment.empty() ? o.experiment : env("MLFLOW_EXPERIMENT_NAME");
  kv.emplace_back("experiment", experiment.empty() ? "secmlops" : experiment);
  if (!o.model.empty()) {
    auto colon = o.model.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == o.model.size())
      throw CLI::ValidationError("--mlflow-model", "expected NAME:VERSION, got '" + o.model + "'");
    kv.emplace_back("model_name", o.model.substr(0, colon));
    kv.emplace_back("model_version", o.model.substr(colon + 1));
  }
  auto from_env = [&](const char* var, const char* key) {
    if (std::string v = env(var); !v.empty()) kv.emplace_back(key, v);
  };
  from_env("MLFLOW_TRACKING_USERNAME", "username");
  from_env("MLFLOW_TRACKING_PASSWORD", "password");
  from_env("MLFLOW_TRACKING_TOKEN", "token");
  from_env("MLFLOW_TRACKING_INSECURE_TLS", "insecure_tls");
  from_env("MLFLOW_TRACKING_SERVER_CERT_PATH", "ca_bundle");
  from_env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "max_retries");
  from_env("MLFLOW_HTTP_REQUEST_TIMEOUT", "timeout");
  from_env("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "backoff_base");
  from_env("SECMLOPS_MLFLOW_RETRY_TIME", "retry_time");
  from_env("SECMLOPS_MLFLOW_SPOOL_DIR", "spool_dir");
  from_env("USER", "user");
  return kv;
}

MlflowRun::MlflowRun(Context& ctx, const MlflowOptions& options, const std::string& command,
                     const std::string& default_run_name) {
  if (!options.enabled) return;
  recorder_ = std::make_unique<host::RunRecorder>(ctx.registry(), mlflow_config(options));
  recorder_->start("", options.run_name.empty() ? default_run_name : options.run_name);
  recorder_->tag("secmlops.command", command);
}

MlflowRun::~MlflowRun() {
  // A command that threw before finishing: the run must not stay RUNNING forever.
  if (recorder_ && !recorder_->finished()) finish("FAILED");
}

bool MlflowRun::finish(const std::string& status) {
  if (!recorder_ || recorder_->finished()) return true;
  try {
    recorder_->finish(status);
  } catch (const std::exception& e) {
    std::cerr << "secmlops: " << e.what() << "\n";
    return false;
  }
  const auto& r = *recorder_;
  if (std::string spooled = r.property("mlflow.spooled"); !spooled.empty()) {
    std::cerr << "mlflow: tracking server unreachable; run kept in " << spooled
              << " (deliver it with `secmlops mlflow sync`)\n";
    return true;
  }
  std::string where = r.property("mlflow.run_url");
  if (where.empty()) where = r.property("mlflow.run_dir");
  std::cerr << "mlflow: run " << r.property("mlflow.run_id") << " (experiment "
            << r.property("mlflow.experiment_id") << ") " << where << "\n";
  return true;
}

void finish_scan_run(MlflowRun& run, Context& ctx, const v1::ScanReport& report,
                     const std::string& fail_on, int exit_code) {
  if (!run) return;
  const char* verdict = exit_code == 1 ? "fail" : exit_code == 2 ? "error" : "pass";
  try {
    host::record_scan(*run, report, ctx.registry(), fail_on, verdict);
    host::record_scan_reports(*run, report);
  } catch (const std::exception& e) {
    std::cerr << "secmlops: mlflow: " << e.what() << "\n";
  }
  run.finish("FINISHED");
}

}  // namespace secmlops::cli
