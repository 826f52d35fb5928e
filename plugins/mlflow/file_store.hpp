#pragma once

#include "run_plan.hpp"

#include <filesystem>
#include <string>

namespace secmlops::plugins::mlflow {

// Writes MLflow's file-store layout (mlflow/store/tracking/file_store.py), so that
// `mlflow ui --backend-store-uri ./mlruns` shows the runs:
//   mlruns/<exp_id>/meta.yaml                     experiment (id, name, artifact_location, …)
//   mlruns/<exp_id>/<run_id>/meta.yaml            run info (status as MLflow's int enum)
//   mlruns/<exp_id>/<run_id>/metrics/<key>        lines "timestamp value step"
//   mlruns/<exp_id>/<run_id>/params/<key>         the value
//   mlruns/<exp_id>/<run_id>/tags/<key>           the value
//   mlruns/<exp_id>/<run_id>/artifacts/...        copied files
//   mlruns/<exp_id>/datasets/<md5(name+digest)>/meta.yaml, <run>/inputs/<md5(ds+run)>/meta.yaml
class FileStore {
 public:
  struct Run {
    std::string experiment_id, run_id;
    std::filesystem::path dir;
    std::string artifact_uri;
  };

  explicit FileStore(std::filesystem::path root);

  // Finds or creates the experiment, then creates a RUNNING run.
  Run start_run(const std::string& experiment, const std::string& run_name, int64_t start_ms,
                const std::string& user);
  // Writes what a PlanBuilder delta holds (params, tags, appended metric points, dataset inputs,
  // copied artifacts) as it arrives; once the delta has ended, the run's status and end time.
  void append(const Run& run, const RunPlan& delta, const std::string& user);

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

 private:
  std::string ensure_experiment(const std::string& name);
  void write_run_meta(const Run& run, const std::string& run_name, int64_t start_ms,
                      std::optional<int64_t> end_ms, int status, const std::string& user);
  std::filesystem::path root_;
};

// MLflow's RunStatus enum as stored in meta.yaml.
int run_status_code(const std::string& status);

}  // namespace secmlops::plugins::mlflow
