// The MLflow reporter plugin: SDK glue around the core in core/ (see docs/mlflow.md).
#include "reporter.hpp"

#include <secmlops/sdk/plugin.hpp>

namespace sdk = secmlops::sdk;
namespace core = secmlops::plugins::mlflow;

namespace {

core::KeyValues to_kv(const sdk::Config& c) {
  core::KeyValues kv;
  for (const auto& e : c.entries()) kv.push_back(e);
  return kv;
}

core::Sink sink_of(sdk::Job& job) {
  core::Sink s;
  s.log = [&job](int level, const std::string& m) {
    job.log(static_cast<secmlops_log_level>(level), m);
  };
  s.property = [&job](const std::string& k, const std::string& v) { job.property(k, v); };
  return s;
}

// Exceptions of the core become the statuses the host understands.
template <class F>
void translate(F&& f) {
  try {
    f();
  } catch (const core::EventError& e) {
    throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, e.what());
  } catch (const core::MlflowError& e) {
    throw sdk::Error(SECMLOPS_ERR_IO, e.what());
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, e.what());
  }
}

class MlflowReporter : public sdk::Reporter {
 public:
  static constexpr const char* name = "mlflow";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "MLflow tracking: REST server (retries, spool + sync) or an mlruns/ file store";
  static constexpr const char* license = "Apache-2.0";
  // docs/mlflow.md describes each key; parse_settings checks ranges and choices.
  static constexpr secmlops_option options[] = {
      sdk::option(SECMLOPS_OPTION_STRING, "tracking_uri",
                  "http(s):// server, file:DIR or a directory (empty: ./mlruns)"),
      sdk::option(SECMLOPS_OPTION_STRING, "experiment", "experiment name", "Default"),
      sdk::option(
          SECMLOPS_OPTION_BOOL, "environment",
          "take keys not given from MLFLOW_* variables, experiment secmlops (as the commands do)",
          "false"),
      sdk::option(SECMLOPS_OPTION_STRING, "spool_dir",
                  "where undeliverable runs wait for `mlflow sync`"),
      sdk::option(SECMLOPS_OPTION_STRING, "mode", "report, or sync (deliver the spool)", "report"),
      sdk::option(SECMLOPS_OPTION_STRING, "model_name",
                  "registered model that gets the verdict tags"),
      sdk::option(SECMLOPS_OPTION_STRING, "model_version", "its version"),
      sdk::option(SECMLOPS_OPTION_STRING, "user",
                  "mlflow.user of the run (default: the login name)"),
      sdk::option(SECMLOPS_OPTION_STRING, "username", "HTTP Basic user"),
      sdk::option(SECMLOPS_OPTION_STRING, "password", "HTTP Basic password"),
      sdk::option(SECMLOPS_OPTION_STRING, "token", "bearer token"),
      sdk::option(SECMLOPS_OPTION_BOOL, "insecure_tls", "skip certificate checks", "false"),
      sdk::option(SECMLOPS_OPTION_STRING, "ca_bundle", "PEM bundle of trusted CAs"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "connect_timeout", "seconds to connect", "10"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "timeout", "seconds per request", "120"),
      sdk::option(SECMLOPS_OPTION_INT, "max_retries", "retries of a run's delivery in all", "5"),
      sdk::option(SECMLOPS_OPTION_INT, "max_retries_500", "of which after an HTTP 500", "2"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "backoff_base", "first backoff delay in seconds", "0.5"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "backoff_max", "longest backoff delay in seconds", "30"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "retry_time", "seconds a delivery may spend failing",
                  "60"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "batch_interval", "seconds events gather before a send",
                  "0.5"),
      sdk::option(SECMLOPS_OPTION_INT, "max_param_value", "longest parameter value", "6000"),
      sdk::option(SECMLOPS_OPTION_INT, "max_tag_value", "longest tag value", "8000"),
      sdk::option(SECMLOPS_OPTION_STRING, "long_values", "truncate or refuse longer values",
                  "truncate")};

  explicit MlflowReporter(const sdk::Config& config) {
    translate([&] {
      reporter_ = std::make_unique<core::Reporter>(
          core::parse_settings(core::with_environment(to_kv(config))));
    });
  }

  void on_event(sdk::Job& job, const sdk::RunEvent& e) {
    core::Event ev;
    ev.type = static_cast<core::EventType>(e.type);
    if (e.type < SECMLOPS_EVENT_RUN_START || e.type > SECMLOPS_EVENT_RUN_END)
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                       "mlflow: unknown event type " + std::to_string(e.type));
    ev.key = std::string(e.key);
    ev.value = std::string(e.value);
    ev.path = std::string(e.path);
    ev.number = e.number;
    ev.step = e.step;
    ev.timestamp_ms = e.timestamp_ms;
    ev.schema = std::string(e.schema);
    ev.profile = std::string(e.profile);
    translate([&] { reporter_->on_event(ev, sink_of(job)); });
  }

  void flush(sdk::Job& job) {
    translate([&] { reporter_->flush(sink_of(job)); });
  }

 private:
  std::unique_ptr<core::Reporter> reporter_;
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(MlflowReporter)
