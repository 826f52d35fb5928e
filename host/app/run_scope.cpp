#include "secmlops/app/run_scope.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdlib>

namespace secmlops::app {
host::KeyValues mlflow_config(const v1::RunRecording& r, const RunPolicy& policy) {
  host::KeyValues kv;
  if (!r.tracking_uri().empty()) {
    if (!policy.request_may_set_uri)
      fail(
          AppError::Code::permission_denied,
          "this server records runs only to its own tracking URI: leave mlflow.tracking_uri empty");
    kv.emplace_back("tracking_uri", r.tracking_uri());
  } else if (!policy.default_tracking_uri.empty()) {
    kv.emplace_back("tracking_uri", policy.default_tracking_uri);
  }
  if (!r.experiment().empty()) kv.emplace_back("experiment", r.experiment());
  if (!r.registered_model().empty()) {
    const auto& m = r.registered_model();
    auto colon = m.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == m.size())
      fail(AppError::Code::invalid_argument,
           "registered model: expected NAME:VERSION, got '" + m + "'");
    kv.emplace_back("model_name", m.substr(0, colon));
    kv.emplace_back("model_version", m.substr(colon + 1));
  }
  // MLflow's environment variables (credentials, retries, the URI and experiment when not given)
  // are the reporter's to read; the policy only says whether it may.
  if (policy.use_environment)
    kv.emplace_back("environment", "true");
  else if (r.experiment().empty())
    kv.emplace_back("experiment", "secmlops");
  return kv;
}

RunScope::RunScope(const Environment& env, const v1::RunRecording& recording,
                   const std::string& operation, const std::string& default_run_name)
    : env_(env) {
  if (!recording.enabled()) return;
  recorder_ = std::make_unique<host::RunRecorder>(env.registry, mlflow_config(recording, env.runs),
                                                  env.runs.reporter);
  recorder_->start("", recording.run_name().empty() ? default_run_name : recording.run_name());
  recorder_->tag("secmlops.command", operation);
  if (!recording.parent_run_id().empty())
    recorder_->tag("mlflow.parentRunId", recording.parent_run_id());
}

RunScope::~RunScope() {
  // An operation that threw: the run must not stay RUNNING forever.
  if (recorder_ && !recorder_->finished()) finish(env_.cancelled() ? "KILLED" : "FAILED");
}

void RunScope::finish(const std::string& status) {
  if (!recorder_ || recorder_->finished()) return;
  try {
    recorder_->finish(status);
  } catch (const std::exception& e) {
    spdlog::error("mlflow: {}", e.what());
    if (env_.notice) env_.notice(std::string("mlflow: ") + e.what());
    return;
  }
  const auto& r = *recorder_;
  std::string msg;
  if (std::string spooled = r.property("mlflow.spooled"); !spooled.empty()) {
    msg = "mlflow: tracking server unreachable; run kept in " + spooled +
          " (deliver it with `secmlops mlflow sync`)";
  } else {
    std::string where = r.property("mlflow.run_url");
    if (where.empty()) where = r.property("mlflow.run_dir");
    msg = "mlflow: run " + r.property("mlflow.run_id") + " (experiment " +
          r.property("mlflow.experiment_id") + ") " + where;
  }
  spdlog::info("{}", msg);
  if (env_.notice) env_.notice(msg);
}

std::string RunScope::run_id() const {
  return recorder_ ? recorder_->property("mlflow.run_id") : "";
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "secmlops-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    fail(AppError::Code::internal, "cannot create a temporary directory");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace secmlops::app
