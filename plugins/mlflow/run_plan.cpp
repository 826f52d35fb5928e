#include "run_plan.hpp"

#include "http.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace secmlops::plugins::mlflow {
namespace {

using nlohmann::json;

const char* type_name(EventType t) {
  switch (t) {
    case EventType::RunStart:
      return "run_start";
    case EventType::Param:
      return "param";
    case EventType::Metric:
      return "metric";
    case EventType::Tag:
      return "tag";
    case EventType::Dataset:
      return "dataset";
    case EventType::Artifact:
      return "artifact";
    case EventType::RunEnd:
      return "run_end";
  }
  return "?";
}

bool allowed_key_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == ' ' || c == ':' || c == '/';
}

// Rough JSON size of an item, to keep a request under MLflow's (and proxies') 1 MB.
size_t approx_size(const std::string& k, const std::string& v) {
  return k.size() + v.size() * 2 + 40;
}
constexpr size_t kBatchByteBudget = 900 * 1024;

std::string shorten(const std::string& kind, const std::string& key, const std::string& value,
                    size_t limit, bool refuse, std::vector<std::string>& record) {
  if (utf8_length(value) <= limit) return value;
  if (refuse)
    throw EventError("mlflow: " + kind + " '" + key + "' has " +
                     std::to_string(utf8_length(value)) + " characters; the limit is " +
                     std::to_string(limit) + " (configure long_values=truncate to shorten it)");
  record.push_back(key);
  return utf8_prefix(value, limit);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json to_json(const Event& e) {
  json j = {{"type", type_name(e.type)},
            {"key", e.key},
            {"value", e.value},
            {"path", e.path},
            {"step", e.step},
            {"ts", e.timestamp_ms}};
  if (!e.schema.empty()) j["schema"] = e.schema;
  if (!e.profile.empty()) j["profile"] = e.profile;
  // JSON has no NaN/Infinity: keep them as MLflow's own spellings.
  if (std::isnan(e.number))
    j["number"] = "NaN";
  else if (std::isinf(e.number))
    j["number"] = e.number > 0 ? "Infinity" : "-Infinity";
  else
    j["number"] = e.number;
  return j;
}

Event event_from_json(const json& j) {
  try {
    Event e;
    std::string t = j.at("type").get<std::string>();
    bool found = false;
    for (int i = 1; i <= 7; ++i)
      if (t == type_name(static_cast<EventType>(i))) {
        e.type = static_cast<EventType>(i);
        found = true;
      }
    if (!found) throw std::invalid_argument("unknown event type '" + t + "'");
    e.key = j.at("key").get<std::string>();
    e.value = j.at("value").get<std::string>();
    e.path = j.at("path").get<std::string>();
    e.step = j.at("step").get<int64_t>();
    e.timestamp_ms = j.at("ts").get<int64_t>();
    e.schema = j.value("schema", "");
    e.profile = j.value("profile", "");
    const auto& n = j.at("number");
    if (n.is_string()) {
      auto s = n.get<std::string>();
      e.number = s == "NaN" ? NAN : s == "Infinity" ? INFINITY : s == "-Infinity" ? -INFINITY : 0;
    } else {
      e.number = n.get<double>();
    }
    return e;
  } catch (const json::exception& ex) {
    throw std::invalid_argument(std::string("malformed spooled event: ") + ex.what());
  }
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string utf8_prefix(const std::string& s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return s.substr(0, i);
      ++chars;
    }
  }
  return s;
}

std::string sanitise_key(const std::string& key) {
  std::string cleaned;
  for (size_t i = 0; i < key.size(); ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x80) {
      if ((c & 0xC0) != 0x80) cleaned += '_';  // one '_' per non-ASCII character
    } else {
      cleaned += allowed_key_char(c) ? static_cast<char>(c) : '_';
    }
  }
  // MLflow refuses keys that normalise to another path: "a//b", "/a", "./a", "..", "a/".
  std::string out;
  size_t start = 0;
  while (start <= cleaned.size()) {
    size_t end = cleaned.find('/', start);
    if (end == std::string::npos) end = cleaned.size();
    std::string part = cleaned.substr(start, end - start);
    if (part == "..") part = "__";
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    start = end + 1;
  }
  if (out.empty()) throw EventError("mlflow: key '" + key + "' is empty once made valid");
  if (out.size() > kMaxKeyLength)
    throw EventError("mlflow: key '" + key.substr(0, 60) + "…' has " + std::to_string(key.size()) +
                     " characters; MLflow allows " + std::to_string(kMaxKeyLength));
  return out;
}

void validate_event(const Event& e) {
  switch (e.type) {
    case EventType::RunStart:
      if (e.key.size() > 500)
        throw EventError("mlflow: experiment names are limited to 500 characters");
      break;
    case EventType::Param:
    case EventType::Metric:
    case EventType::Tag:
      (void)sanitise_key(e.key);
      break;
    case EventType::Dataset:
      if (e.key.empty()) throw EventError("mlflow: a dataset needs a name");
      if (e.key.size() > kMaxDatasetNameLength)
        throw EventError("mlflow: dataset names are limited to 500 characters");
      if (e.path.size() > kMaxDatasetSourceLength)
        throw EventError("mlflow: dataset sources are limited to 65535 characters");
      break;
    case EventType::Artifact:
      if (e.path.empty()) throw EventError("mlflow: an artifact needs a local file path");
      if (e.key.find("..") != std::string::npos)
        throw EventError("mlflow: artifact path '" + e.key + "' must not contain '..'");
      break;
    case EventType::RunEnd:
      // MLflow silently ignores unknown statuses (the run stays RUNNING): check here.
      if (e.value != "FINISHED" && e.value != "FAILED" && e.value != "KILLED")
        throw EventError("mlflow: run status must be FINISHED, FAILED or KILLED, got '" + e.value +
                         "'");
      break;
  }
}

bool MetricPoint::operator==(const MetricPoint& o) const {
  bool same_value = value == o.value || (std::isnan(value) && std::isnan(o.value));
  return key == o.key && same_value && timestamp_ms == o.timestamp_ms && step == o.step;
}

std::string ArtifactFile::artifact_path() const {
  std::string base = std::filesystem::path(local_path).filename().string();
  std::string dir = artifact_dir;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  while (!dir.empty() && dir.front() == '/') dir.erase(0, 1);
  return dir.empty() ? base : dir + "/" + base;
}

std::vector<Batch> RunPlan::batches() const {
  std::vector<Batch> out;
  Batch cur;
  size_t bytes = 0;
  auto room = [&](size_t param_add, size_t tag_add, size_t metric_add, size_t item_bytes) {
    return cur.params.size() + param_add <= kMaxParamsPerBatch &&
           cur.tags.size() + tag_add <= kMaxTagsPerBatch &&
           cur.metrics.size() + metric_add <= kMaxMetricsPerBatch &&
           cur.items() + 1 <= kMaxItemsPerBatch &&
           (cur.items() == 0 || bytes + item_bytes <= kBatchByteBudget);
  };
  auto close = [&] {
    if (cur.items() > 0) out.push_back(std::move(cur));
    cur = Batch{};
    bytes = 0;
  };
  for (const auto& [k, v] : params) {
    size_t b = approx_size(k, v);
    if (!room(1, 0, 0, b)) close();
    cur.params.emplace_back(k, v);
    bytes += b;
  }
  for (const auto& [k, v] : tags) {
    size_t b = approx_size(k, v);
    if (!room(0, 1, 0, b)) close();
    cur.tags.emplace_back(k, v);
    bytes += b;
  }
  for (const auto& m : metrics) {
    size_t b = approx_size(m.key, "") + 40;
    if (!room(0, 0, 1, b)) close();
    cur.metrics.push_back(m);
    bytes += b;
  }
  close();
  return out;
}

PlanBuilder::PlanBuilder(const ValueLimits& limits, int64_t now_ms)
    : limits_(limits), now_ms_(now_ms) {
  plan_.start_time_ms = now_ms;
}

void PlanBuilder::record(const char* key, const std::vector<std::string>& what) {
  if (what.empty()) return;
  std::string v = utf8_prefix(join(what), limits_.tag_value);
  plan_.tags[key] = v;
  delta_.tags[key] = v;
  delta_bytes_ += approx_size(key, v);
}

void PlanBuilder::add(const Event& e) {
  validate_event(e);
  const size_t renamed = plan_.renamed_keys.size(), truncated_p = plan_.truncated_params.size(),
               truncated_t = plan_.truncated_tags.size(),
               conflicting = plan_.conflicting_params.size();
  auto key_of = [&](const std::string& raw) {
    std::string k = sanitise_key(raw);
    if (k != raw) plan_.renamed_keys.push_back(raw.substr(0, 100) + "->" + k);
    return k;
  };
  switch (e.type) {
    case EventType::RunStart:
      plan_.experiment = e.key;
      plan_.run_name = e.value;
      if (e.timestamp_ms > 0) plan_.start_time_ms = e.timestamp_ms;
      break;
    case EventType::Param: {
      std::string k = key_of(e.key);
      std::string v = shorten("param", k, e.value, limits_.param_value, limits_.refuse_long_values,
                              plan_.truncated_params);
      auto [it, inserted] = plan_.params.emplace(k, v);
      if (inserted) {
        delta_.params.emplace(k, v);
        delta_bytes_ += approx_size(k, v);
      } else if (it->second != v) {
        // Params are immutable in MLflow: never send a second, different value.
        plan_.conflicting_params.push_back(k);
      }
      break;
    }
    case EventType::Metric: {
      MetricPoint m{key_of(e.key), e.number, e.timestamp_ms > 0 ? e.timestamp_ms : now_ms_, e.step};
      delta_bytes_ += approx_size(m.key, "") + 40;
      plan_.metrics.push_back(m);
      delta_.metrics.push_back(std::move(m));
      break;
    }
    case EventType::Tag: {
      std::string k = key_of(e.key);
      std::string v = shorten("tag", k, e.value, limits_.tag_value, limits_.refuse_long_values,
                              plan_.truncated_tags);
      plan_.tags[k] = v;
      delta_.tags[k] = v;
      delta_bytes_ += approx_size(k, v);
      break;
    }
    case EventType::Dataset: {
      DatasetInput d;
      d.name = e.key;
      d.digest = e.value;
      if (d.digest.size() > kMaxDigestLength) {
        // MLflow caps digests at 36 characters: keep a prefix there, the full one as a tag.
        d.tags.emplace_back("secmlops.digest", utf8_prefix(d.digest, 500));
        d.digest = d.digest.substr(0, kMaxDigestLength);
      }
      bool http = e.path.rfind("http://", 0) == 0 || e.path.rfind("https://", 0) == 0;
      d.source_type = http ? "http" : "local";
      d.source = nlohmann::json{{http ? "url" : "uri", e.path}}.dump();
      // MLflow refuses the whole log-inputs call for an over-long schema or profile: leave
      // such a field out rather than the dataset.
      if (e.schema.size() <= kMaxDatasetSchemaLength) d.schema = e.schema;
      if (e.profile.size() <= kMaxDatasetProfileLength) d.profile = e.profile;
      plan_.datasets.push_back(d);
      delta_.datasets.push_back(std::move(d));
      break;
    }
    case EventType::Artifact:
      plan_.artifacts.push_back({e.path, e.key});
      delta_.artifacts.push_back({e.path, e.key});
      break;
    case EventType::RunEnd:
      plan_.status = delta_.status = e.value;
      plan_.end_time_ms = delta_.end_time_ms = e.timestamp_ms > 0 ? e.timestamp_ms : now_ms_;
      plan_.ended = delta_.ended = true;
      break;
  }
  if (plan_.truncated_params.size() != truncated_p)
    record("secmlops.truncated_params", plan_.truncated_params);
  if (plan_.truncated_tags.size() != truncated_t)
    record("secmlops.truncated_tags", plan_.truncated_tags);
  if (plan_.renamed_keys.size() != renamed) record("secmlops.renamed_keys", plan_.renamed_keys);
  if (plan_.conflicting_params.size() != conflicting)
    record("secmlops.conflicting_params", plan_.conflicting_params);
}

RunPlan PlanBuilder::take_delta() {
  RunPlan out = std::move(delta_);
  delta_ = RunPlan{};
  delta_bytes_ = 0;
  out.experiment = plan_.experiment;
  out.run_name = plan_.run_name;
  out.start_time_ms = plan_.start_time_ms;
  if (!out.ended) out.status = "RUNNING";
  return out;
}

bool PlanBuilder::fits_one_batch(const Event& e) const {
  // Room is kept for the four record tags any event may update.
  constexpr size_t kRecords = 4;
  size_t params = delta_.params.size() + (e.type == EventType::Param ? 1 : 0);
  size_t tags = delta_.tags.size() + (e.type == EventType::Tag ? 1 : 0) + kRecords;
  size_t metrics = delta_.metrics.size() + (e.type == EventType::Metric ? 1 : 0);
  size_t bytes = delta_bytes_ + approx_size(e.key, e.value) + 40 * (kRecords + 1);
  return params <= kMaxParamsPerBatch && tags <= kMaxTagsPerBatch &&
         metrics <= kMaxMetricsPerBatch && params + tags + metrics <= kMaxItemsPerBatch &&
         bytes <= kBatchByteBudget;
}

void PlanBuilder::end_unfinished(int64_t now_ms) {
  if (plan_.ended) return;
  plan_.status = delta_.status = "KILLED";
  plan_.end_time_ms = delta_.end_time_ms = now_ms;
  plan_.ended = delta_.ended = true;
}

RunPlan build_plan(const std::vector<Event>& events, const ValueLimits& limits, int64_t now_ms) {
  PlanBuilder b(limits, now_ms);
  for (const auto& e : events) b.add(e);
  b.end_unfinished(now_ms);
  return b.plan();
}

std::string local_source_uri(const std::string& path) {
  // "scheme:/…" (RFC 3986 scheme characters) is already a URI.
  auto colon = path.find(':');
  if (colon != std::string::npos && colon > 0 && colon + 1 < path.size() &&
      path[colon + 1] == '/' && std::isalpha(static_cast<unsigned char>(path[0])) &&
      std::all_of(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      }))
    return path;
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  std::string p = (ec ? std::filesystem::path(path) : abs.lexically_normal()).string();
  return "file://" + url_encode(p, true);
}

}  // namespace secmlops::plugins::mlflow
