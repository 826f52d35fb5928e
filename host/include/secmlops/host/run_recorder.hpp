#pragma once

#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/host/reporter_session.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
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

  // RUN_START: the run exists once this returns (file store, or a reachable tracking server),
  // and run_id() / experiment_id() / run_location() say where. "" experiment: the reporter's.
  void start(const std::string& experiment, const std::string& run_name);
  // A nested run: also tagged mlflow.parentRunId, by which MLflow's UI shows it under the parent
  // (pass the parent's run_id()).
  void start(const std::string& experiment, const std::string& run_name,
             const std::string& parent_run_id);
  void param(const std::string& key, const std::string& value);
  // A numeric param in the shortest text that reads back as the same double (0.05, 1e-07).
  void param_number(const std::string& key, double value);
  void metric(const std::string& key, double value, int64_t step = 0);
  // A metric point computed at `timestamp_ms` (milliseconds since the epoch), not now.
  void metric_at(const std::string& key, double value, int64_t step, int64_t timestamp_ms);
  void tag(const std::string& key, const std::string& value);
  // A dataset input; `schema` and `profile` are MLflow's JSON for them ("" = none).
  void dataset(const std::string& name, const std::string& digest, const std::string& source,
               const std::string& schema = "", const std::string& profile = "");
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
  // The run's id and experiment id on the tracking server or file store ("" when the run could
  // not be created: the server was unreachable and the run is spooled).
  [[nodiscard]] std::string run_id() const { return property("mlflow.run_id"); }
  [[nodiscard]] std::string experiment_id() const { return property("mlflow.experiment_id"); }
  // The run page URL (tracking server) or run directory (file store).
  [[nodiscard]] std::string run_location() const;

 private:
  void send(secmlops_event_type type, const std::string& key, const std::string& value,
            const std::string& path, double number = 0, int64_t step = 0, int64_t timestamp_ms = 0,
            const std::string& schema = "", const std::string& profile = "");
  ReporterSession session_;
  bool started_ = false, finished_ = false;
};

// Shortest decimal text that reads back as exactly `value` (std::to_chars): 0.05, 1e-07.
std::string number_text(double value);

// file_uri (an absolute, percent-encoded file:// URI of a local path) is in dataset_record.hpp.

// A scan report as a run: counts per severity, files, verdict, scanner versions, scanned files
// as dataset inputs (SHA-256 digest: the report's, else the file hashed now; a file that can be
// read no more is left out rather than logged without a digest). `verdict` is "pass", "fail" or
// "error" (the scan's exit status).
void record_scan(RunRecorder& run, const v1::ScanReport& report, const Registry& registry,
                 const std::string& fail_on, const std::string& verdict);

// Bytes the program holds (not a file of its own) as the artifact `artifact_dir`/`file_name`;
// the name is the caller's, never taken from input.
void record_content(RunRecorder& run, const std::string& file_name, std::string_view content,
                    const std::string& artifact_dir);

// The scan report as artifacts under reports/: scan-report.json, scan-report.sarif, and the
// same SARIF as scan-report.sarif.json, which MLflow's artifact viewer previews.
void record_scan_reports(RunRecorder& run, const v1::ScanReport& report);

// Attack results (the report schema's AttackReport), one metric step per eps of the curve
// (step i ↔ the i-th eps, also logged as attack.eps).
void record_attack(RunRecorder& run, const v1::AttackReport& report);
// The same when the curve's points were already recorded live with record_attack_point (from
// AttackRequest::on_point): only params, tags and the run-wide metrics are added.
void record_attack(RunRecorder& run, const v1::AttackReport& report, bool points_recorded);
// One point of the robustness curve as it is computed: step `step` of every curve metric.
void record_attack_point(RunRecorder& run, int64_t step, const v1::RobustnessPoint& point);

// A trained model: accuracies, the train/test gap and what describe() emitted (complexity).
void record_model(RunRecorder& run, const std::string& model, double train_accuracy,
                  double test_accuracy, const Emitted& description);

}  // namespace secmlops::host
