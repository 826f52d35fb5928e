#pragma once

#include "settings.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace secmlops::plugins::mlflow {

// MLflow's limits (mlflow/utils/validation.py, unchanged from 1.30 to 3.6).
inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsPerBatch = 100;
inline constexpr size_t kMaxTagsPerBatch = 100;
inline constexpr size_t kMaxItemsPerBatch = 1000;
inline constexpr size_t kMaxKeyLength = 250;
inline constexpr size_t kMaxDigestLength = 36;
inline constexpr size_t kMaxDatasetNameLength = 500;
inline constexpr size_t kMaxDatasetSourceLength = 65535;
inline constexpr size_t kMaxDatasetSchemaLength = 1048575;
inline constexpr size_t kMaxDatasetProfileLength = 16384;

enum class EventType { RunStart = 1, Param, Metric, Tag, Dataset, Artifact, RunEnd };

// One reporter event, owned (the ABI's strings only live for the call).
struct Event {
  EventType type = EventType::Tag;
  std::string key, value, path;
  double number = 0;
  int64_t step = 0;
  int64_t timestamp_ms = 0;
  std::string schema, profile;  // DATASET: MLflow's JSON for them ("" = none)
};

nlohmann::json to_json(const Event& e);
Event event_from_json(const nlohmann::json& j);  // throws std::invalid_argument

// A problem with an event that no retry can fix (bad key, bad status, over-long value with
// long_values=refuse). The reporter turns it into INVALID_ARGUMENT.
class EventError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// MLflow key syntax: ^[/\w.\- :]*$, ≤ 250 chars, no "..", no leading "/", no "//". Returns the
// key made valid (disallowed characters → '_'); throws EventError for empty or over-long keys.
std::string sanitise_key(const std::string& key);
// Validates an event before it is accepted (status values, key lengths, required fields).
void validate_event(const Event& e);
// Number of Unicode code points of UTF-8 text (MLflow counts characters, not bytes).
size_t utf8_length(const std::string& s);
// The first `max_chars` code points of s.
std::string utf8_prefix(const std::string& s, size_t max_chars);

struct MetricPoint {
  std::string key;
  double value = 0;
  int64_t timestamp_ms = 0;
  int64_t step = 0;
  bool operator==(const MetricPoint& o) const;
};

struct DatasetInput {
  std::string name, digest, source_type, source;
  std::string schema, profile;  // JSON text, "" = none
  std::vector<std::pair<std::string, std::string>> tags;
};

struct ArtifactFile {
  std::string local_path;    // file to upload
  std::string artifact_dir;  // directory inside the run's artifacts ("" = root)
  [[nodiscard]] std::string artifact_path() const;  // dir/basename
};

// A request of log-batch.
struct Batch {
  std::vector<MetricPoint> metrics;
  std::vector<std::pair<std::string, std::string>> params, tags;
  [[nodiscard]] size_t items() const { return metrics.size() + params.size() + tags.size(); }
};

// Everything one run delivers, derived deterministically from its events: replaying the same
// events yields the same batches, which is what makes per-batch progress markers meaningful.
struct RunPlan {
  std::string experiment;
  std::string run_name;
  int64_t start_time_ms = 0;
  std::map<std::string, std::string> params;  // first value wins
  std::vector<MetricPoint> metrics;
  std::map<std::string, std::string> tags;  // last value wins
  std::vector<DatasetInput> datasets;
  std::vector<ArtifactFile> artifacts;
  std::string status = "FINISHED";
  int64_t end_time_ms = 0;
  bool ended = false;
  // What the client changed, so that the run says so (recorded as secmlops.* tags).
  std::vector<std::string> truncated_params, truncated_tags, renamed_keys, conflicting_params;

  [[nodiscard]] std::vector<Batch> batches() const;
};

// Builds a run from its events one at a time, in order (RUN_START first), so that a run can be
// delivered while it is produced: take_delta() hands over what changed since the last call.
// Over-long values are shortened and recorded (or refused with limits.refuse_long_values);
// the records (secmlops.truncated_params, …) are tags re-sent whenever they grow. `now_ms`
// stands in for missing timestamps. add() throws EventError for events no server would accept.
class PlanBuilder {
 public:
  PlanBuilder(const ValueLimits& limits, int64_t now_ms);
  void add(const Event& e);
  // Everything added so far.
  [[nodiscard]] const RunPlan& plan() const { return plan_; }
  // New params, changed tags, new metrics, datasets and artifacts since the last call, and the
  // status once RUN_END was added (ended). Experiment, run name and start time are the run's.
  RunPlan take_delta();
  // Whether the pending delta plus `e` still fits one log-batch request.
  [[nodiscard]] bool fits_one_batch(const Event& e) const;
  // A run whose producer stopped without RUN_END (crash, kill) did not finish normally.
  void end_unfinished(int64_t now_ms);

 private:
  void record(const char* key, const std::vector<std::string>& what);
  ValueLimits limits_;
  int64_t now_ms_;
  RunPlan plan_, delta_;
  size_t delta_bytes_ = 0;
};

// The whole run at once: every event through a PlanBuilder, ended KILLED without RUN_END.
RunPlan build_plan(const std::vector<Event>& events, const ValueLimits& limits, int64_t now_ms);

// An absolute file:// URI (percent-encoded like Python's Path.as_uri()) for a local path;
// URIs with a scheme (file:, http:, s3:, …) are returned unchanged.
std::string local_source_uri(const std::string& path);

int64_t now_millis();

}  // namespace secmlops::plugins::mlflow
