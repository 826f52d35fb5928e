#pragma once

#include "secmlops/host/registry.hpp"
#include "secmlops/host/reporter_session.hpp"
#include "secmlops/v1/report.pb.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::host {

// Turns what a command did into reporter events (RUN_START … RUN_END) for one run, sent through
// a ReporterSession to a reporter plugin of the registry (by default "mlflow"). Metric, param
// and tag names are documented in docs/mlflow.md.
class RunRecorder {
 public:
  // Throws PluginError when the reporter plugin is not installed or refuses the config.
  RunRecorder(const Registry& registry, const KeyValues& config,
              const std::string& reporter = "mlflow");
  ~RunRecorder();
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  void start(const std::string& experiment, const std::string& run_name);
  void param(const std::string& key, const std::string& value);
  void metric(const std::string& key, double value, int64_t step = 0);
  void tag(const std::string& key, const std::string& value);
  void dataset(const std::string& name, const std::string& digest, const std::string& source);
  // Uploads a local file into `artifact_dir` of the run ("" = the run's artifact root).
  void artifact(const std::string& local_path, const std::string& artifact_dir = "");
  // RUN_END with FINISHED, FAILED or KILLED, then flush: delivery happens here.
  void finish(const std::string& status = "FINISHED");
  [[nodiscard]] bool finished() const { return finished_; }
  // Flush without a run of its own: a reporter configured with mode=sync replays its spool.
  void flush() { session_.flush(); }

  // What the reporter said: mlflow.run_id, mlflow.run_url / mlflow.run_dir, mlflow.spooled, …
  [[nodiscard]] const Emitted& emitted() const { return session_.emitted(); }
  [[nodiscard]] std::string property(const std::string& key) const;

 private:
  void send(secmlops_event_type type, const std::string& key, const std::string& value,
            const std::string& path, double number = 0, int64_t step = 0);
  ReporterSession session_;
  bool started_ = false, finished_ = false;
};

// A scan report as a run: counts per severity, files, verdict, scanner versions, scanned files
// as dataset inputs. `verdict` is "pass", "fail" or "error" (the scan's exit status).
void record_scan(RunRecorder& run, const v1::ScanReport& report, const Registry& registry,
                 const std::string& fail_on, const std::string& verdict);

// Attack results (the report schema's AttackReport), one metric step per eps of the curve
// (step i ↔ the i-th eps, also logged as attack.eps).
void record_attack(RunRecorder& run, const v1::AttackReport& report);

// A trained model: accuracies, the train/test gap and what describe() emitted (complexity).
void record_model(RunRecorder& run, const std::string& model, double train_accuracy,
                  double test_accuracy, const Emitted& description);

}  // namespace secmlops::host
