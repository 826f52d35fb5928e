#pragma once

#include "http.hpp"
#include "run_plan.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::plugins::mlflow {

struct ExperimentInfo {
  std::string id, name, artifact_location, lifecycle_stage;
};

struct RunRef {
  std::string run_id, experiment_id, artifact_uri;
};

// MLflow's REST tracking API (/api/2.0/mlflow/...) with its limits and quirks handled: every
// call retries what is retryable within the current delivery's retry budget, validates what the
// server would silently accept, and turns errors (JSON or HTML) into one-line MlflowError
// messages.
class RestStore {
 public:
  using Sleep = std::function<void(double)>;
  using Log = std::function<void(const std::string&)>;
  RestStore(const Settings& settings, Sleep sleep = {}, Log log = {});

  // Starts a delivery: a fresh retry budget that every later call shares until the next one.
  void begin_delivery();
  [[nodiscard]] const RetryBudget& budget() const { return budget_; }

  // get-by-name → create → get-by-name again when a concurrent creator won the race.
  ExperimentInfo ensure_experiment(const std::string& name);
  RunRef create_run(const std::string& experiment_id, const std::string& run_name, int64_t start_ms,
                    const std::vector<std::pair<std::string, std::string>>& tags);
  RunRef get_run(const std::string& run_id);
  // The run of `experiment_id` carrying tag key=value (the client's idempotency key), if any.
  std::optional<RunRef> find_run_by_tag(const std::string& experiment_id, const std::string& key,
                                        const std::string& value);
  // One log-batch request (the caller splits by MLflow's limits, see RunPlan::batches). When
  // `maybe_sent` is set, or on any re-send after an ambiguous failure, metric points already in
  // the run's history are left out: a metric re-sent would otherwise be stored twice.
  void log_batch(const std::string& run_id, const Batch& batch, bool maybe_sent);
  std::vector<MetricPoint> metric_history(const std::string& run_id, const std::string& key);
  void log_inputs(const std::string& run_id, const std::vector<DatasetInput>& datasets);
  // PUT to the proxied artifact store under the run's real artifact_uri.
  void upload_artifact(const RunRef& run, const ArtifactFile& artifact);
  void update_run(const std::string& run_id, const std::string& status, int64_t end_ms);
  void set_model_version_tag(const std::string& name, const std::string& version,
                             const std::string& key, const std::string& value);

  // mlflow-artifacts:/<p> → <tracking>/api/2.0/mlflow-artifacts/artifacts/<p>/<rel>. Other
  // schemes (s3://, file://, …) throw MlflowError: the client cannot write there itself.
  [[nodiscard]] std::string artifact_url(const std::string& artifact_uri,
                                         const std::string& rel) const;
  [[nodiscard]] std::string run_page(const std::string& experiment_id,
                                     const std::string& run_id) const;

 private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body, const std::string& what);
  nlohmann::json parse_ok(const HttpResponse& r, const std::string& what);
  MlflowError failure(const std::string& what, const HttpResponse& r) const;

  Settings settings_;
  std::string base_;
  Sleep sleep_;
  Log log_;
  std::unique_ptr<HttpClient> http_;
  RetryBudget budget_;
};

}  // namespace secmlops::plugins::mlflow
