#pragma once

#include "core/settings.hpp"

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

enum class EventType { RunStart = 1, Param, Metric, Tag, Dataset, Artifact, RunEnd };

// One reporter event, owned (the ABI's strings only live for the call).
struct Event {
  EventType type = EventType::Tag;
  std::string key, value, path;
  double number = 0;
  int64_t step = 0;
  int64_t timestamp_ms = 0;
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

// Builds a plan from the events of one run (RUN_START first). Over-long values are shortened
// and recorded (or refused with limits.refuse_long_values). `now_ms` stands in for missing
// timestamps. Throws EventError for events no server would accept.
RunPlan build_plan(const std::vector<Event>& events, const ValueLimits& limits, int64_t now_ms);

int64_t now_millis();

}  // namespace secmlops::plugins::mlflow
