#pragma once

#include "cli_context.hpp"
#include "secmlops/host/run_recorder.hpp"

#include <memory>
#include <string>

namespace secmlops::cli {

// What --mlflow and its companions asked for.
struct MlflowOptions {
  bool enabled = false;
  std::string uri;         // --mlflow [URI]; "" → $MLFLOW_TRACKING_URI, else ./mlruns
  std::string experiment;  // --mlflow-experiment; "" → $MLFLOW_EXPERIMENT_NAME, else "secmlops"
  std::string run_name;    // --mlflow-run-name; "" → "<command> <first input>"
  std::string model;       // --mlflow-model NAME:VERSION → verdict tags on that model version
};

// Adds --mlflow [URI], --mlflow-experiment, --mlflow-run-name and --mlflow-model to a command.
std::shared_ptr<MlflowOptions> add_mlflow_options(CLI::App* cmd);

// The reporter configuration: the options plus MLflow's environment variables
// (MLFLOW_TRACKING_URI/USERNAME/PASSWORD/TOKEN/INSECURE_TLS/SERVER_CERT_PATH,
// MLFLOW_HTTP_REQUEST_MAX_RETRIES/TIMEOUT/BACKOFF_FACTOR, SECMLOPS_MLFLOW_RETRY_TIME,
// SECMLOPS_MLFLOW_SPOOL_DIR; "Created by" from $USER, else the reporter's own fallback).
host::KeyValues mlflow_config(const MlflowOptions& options);

// One command's run, when --mlflow was given (otherwise every call is a no-op):
//   MlflowRun run(ctx, *opts, "scan", "scan model.pkl");
//   if (run) host::record_scan(*run, report, ...);
//   run.finish("FINISHED");   // prints where the run went; a run never finished ends FAILED
class MlflowRun {
 public:
  MlflowRun(Context& ctx, const MlflowOptions& options, const std::string& command,
            const std::string& default_run_name);
  ~MlflowRun();
  explicit operator bool() const { return recorder_ != nullptr; }
  host::RunRecorder& operator*() { return *recorder_; }
  host::RunRecorder* operator->() { return recorder_.get(); }
  // RUN_END + delivery; prints "mlflow: run <id> → <url or dir>" (or where it was spooled) to
  // stderr. Returns false (after printing why) when the reporter failed.
  bool finish(const std::string& status);

 private:
  std::unique_ptr<host::RunRecorder> recorder_;
};

// The scan command's run: record_scan plus the JSON and SARIF reports as artifacts (reports/,
// record_scan_reports), then finish (FINISHED; the verdict is a tag). `exit_code` is the scan's (0 pass, 1 fail, 2 error).
void finish_scan_run(MlflowRun& run, Context& ctx, const v1::ScanReport& report,
                     const std::string& fail_on, int exit_code);

}  // namespace secmlops::cli
