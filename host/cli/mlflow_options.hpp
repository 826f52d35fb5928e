#pragma once

#include "cli_context.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/v1/common.pb.h"

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

// The request's recording settings (MLflow's environment variables are the reporter's to read).
v1::RunRecording to_recording(const MlflowOptions& options);

}  // namespace secmlops::cli
