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

  explicit MlflowReporter(const sdk::Config& config) {
    translate(
        [&] { reporter_ = std::make_unique<core::Reporter>(core::parse_settings(to_kv(config))); });
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
