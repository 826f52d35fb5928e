#include "mlflow_options.hpp"

#include <filesystem>

namespace secmlops::cli {

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

v1::RunRecording to_recording(const MlflowOptions& o) {
  v1::RunRecording r;
  r.set_enabled(o.enabled);
  r.set_tracking_uri(o.uri);
  r.set_experiment(o.experiment);
  r.set_run_name(o.run_name);
  r.set_registered_model(o.model);
  return r;
}

}  // namespace secmlops::cli
