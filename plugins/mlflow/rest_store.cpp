#include "rest_store.hpp"

#include <chrono>
#include <cmath>
#include <thread>

namespace secmlops::plugins::mlflow {
namespace {

using nlohmann::json;

json metric_value(double v) {
  // JSON numbers cannot carry NaN/Infinity; MLflow accepts these strings instead.
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

double metric_from_json(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    auto s = v.get<std::string>();
    if (s == "NaN") return NAN;
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
  }
  return 0;
}

json kv_list(const std::vector<std::pair<std::string, std::string>>& kv) {
  json a = json::array();
  for (const auto& [k, v] : kv) a.push_back({{"key", k}, {"value", v}});
  return a;
}

int64_t to_int64(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) return std::stoll(v.get<std::string>());
  return 0;
}

RunRef run_ref(const json& info) {
  RunRef r;
  r.run_id = info.value("run_id", info.value("run_uuid", ""));
  const auto& e = info.at("experiment_id");
  r.experiment_id = e.is_string() ? e.get<std::string>() : std::to_string(e.get<int64_t>());
  r.artifact_uri = info.value("artifact_uri", "");
  return r;
}

}  // namespace

RestStore::RestStore(const Settings& settings, Sleep sleep, Log log)
    : settings_(settings),
      base_(settings.rest_base()),
      sleep_(std::move(sleep)),
      log_(std::move(log)),
      http_(std::make_unique<HttpClient>(settings.http)),
      budget_(settings.retry) {
  if (!sleep_)
    sleep_ = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
}

void RestStore::begin_delivery() { budget_ = RetryBudget(settings_.retry); }

MlflowError RestStore::failure(const std::string& what, const HttpResponse& r) const {
  RetryClass rc = retry_class(r.status);
  return MlflowError(describe_error(what, r), r.status, error_code_of(r), rc != RetryClass::None);
}

json RestStore::parse_ok(const HttpResponse& r, const std::string& what) {
  if (r.status < 200 || r.status >= 300) throw failure(what, r);
  if (r.body.empty()) return json::object();
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded())
    throw MlflowError("mlflow: " + what + ": the server answered HTTP " + std::to_string(r.status) +
                          " with a body that is not JSON (is the tracking URI an MLflow server?)",
                      r.status, "", false);
  return j;
}

json RestStore::call(const std::string& method, const std::string& path, const json& body,
                     const std::string& what) {
  std::string url = base_ + path;
  std::string payload = method == "GET" ? "" : body.dump();
  auto r = with_retries(
      budget_, [&](int) { return http_->request(method, url, payload, "application/json"); },
      sleep_, what, log_);
  return parse_ok(r, what);
}

ExperimentInfo RestStore::ensure_experiment(const std::string& name) {
  auto get = [&]() -> std::optional<ExperimentInfo> {
    try {
      auto j =
          call("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + url_encode(name),
               json(), "experiments/get-by-name '" + name + "'");
      const auto& e = j.at("experiment");
      ExperimentInfo info;
      const auto& id = e.at("experiment_id");
      info.id = id.is_string() ? id.get<std::string>() : std::to_string(id.get<int64_t>());
      info.name = e.value("name", name);
      info.artifact_location = e.value("artifact_location", "");
      info.lifecycle_stage = e.value("lifecycle_stage", "active");
      return info;
    } catch (const MlflowError& err) {
      if (err.http_status() == 404 && err.error_code() == "RESOURCE_DOES_NOT_EXIST")
        return std::nullopt;
      throw;
    }
  };
  auto found = get();
  if (!found) {
    try {
      call("POST", "/api/2.0/mlflow/experiments/create", {{"name", name}},
           "experiments/create '" + name + "'");
    } catch (const MlflowError& err) {
      // A concurrent creator won the race (or the name belongs to a deleted experiment).
      if (err.error_code() != "RESOURCE_ALREADY_EXISTS") throw;
    }
    found = get();
    if (!found)
      throw MlflowError("mlflow: experiment '" + name + "' was created but cannot be read back", 0,
                        "", false);
  }
  if (found->lifecycle_stage == "deleted")
    throw MlflowError("mlflow: experiment '" + name + "' (id " + found->id +
                          ") is deleted; restore it (experiments/restore) or choose another name",
                      400, "INVALID_STATE", false);
  return *found;
}

RunRef RestStore::create_run(const std::string& experiment_id, const std::string& run_name,
                             int64_t start_ms,
                             const std::vector<std::pair<std::string, std::string>>& tags) {
  json body = {{"experiment_id", experiment_id}, {"start_time", start_ms}, {"tags", kv_list(tags)}};
  if (!run_name.empty()) body["run_name"] = run_name;
  if (!settings_.user.empty()) body["user_id"] = settings_.user;
  auto j = call("POST", "/api/2.0/mlflow/runs/create", body, "runs/create");
  return run_ref(j.at("run").at("info"));
}

RunRef RestStore::get_run(const std::string& run_id) {
  auto j = call("GET", "/api/2.0/mlflow/runs/get?run_id=" + url_encode(run_id), json(), "runs/get");
  return run_ref(j.at("run").at("info"));
}

std::optional<RunRef> RestStore::find_run_by_tag(const std::string& experiment_id,
                                                 const std::string& key, const std::string& value) {
  json body = {{"experiment_ids", {experiment_id}},
               {"filter", "tags.`" + key + "` = '" + value + "'"},
               {"run_view_type", "ACTIVE_ONLY"},
               {"max_results", 10}};
  auto j = call("POST", "/api/2.0/mlflow/runs/search", body, "runs/search");
  if (!j.contains("runs") || j["runs"].empty()) return std::nullopt;
  return run_ref(j["runs"][0].at("info"));
}

std::vector<MetricPoint> RestStore::metric_history(const std::string& run_id,
                                                   const std::string& key) {
  std::vector<MetricPoint> out;
  std::string token;
  for (int page = 0; page < 10000; ++page) {
    std::string path = "/api/2.0/mlflow/metrics/get-history?run_id=" + url_encode(run_id) +
                       "&metric_key=" + url_encode(key);
    if (!token.empty()) path += "&page_token=" + url_encode(token);
    auto j = call("GET", path, json(), "metrics/get-history '" + key + "'");
    if (j.contains("metrics"))
      for (const auto& m : j["metrics"])
        out.push_back({m.value("key", key), metric_from_json(m.value("value", json(0))),
                       to_int64(m.value("timestamp", json(0))),
                       to_int64(m.value("step", json(0)))});
    token = j.value("next_page_token", "");
    if (token.empty()) break;
  }
  return out;
}

void RestStore::log_batch(const std::string& run_id, const Batch& batch, bool maybe_sent) {
  std::string url = base_ + "/api/2.0/mlflow/runs/log-batch";
  auto r = with_retries(
      budget_,
      [&](int attempt) -> HttpResponse {
        std::vector<MetricPoint> metrics = batch.metrics;
        if ((attempt > 0 || maybe_sent) && !metrics.empty()) {
          // The earlier attempt may have been stored before its answer got lost: drop the
          // points the server already holds.
          std::map<std::string, std::vector<MetricPoint>> history;
          for (const auto& m : metrics)
            if (!history.count(m.key)) history[m.key] = metric_history(run_id, m.key);
          std::erase_if(metrics, [&](const MetricPoint& m) {
            const auto& h = history[m.key];
            return std::find(h.begin(), h.end(), m) != h.end();
          });
        }
        json body = {
            {"run_id", run_id}, {"params", kv_list(batch.params)}, {"tags", kv_list(batch.tags)}};
        json ms = json::array();
        for (const auto& m : metrics)
          ms.push_back({{"key", m.key},
                        {"value", metric_value(m.value)},
                        {"timestamp", m.timestamp_ms},
                        {"step", m.step}});
        body["metrics"] = ms;
        if (ms.empty() && batch.params.empty() && batch.tags.empty())
          return HttpResponse{200, "{}", "", {}};
        return http_->request("POST", url, body.dump(), "application/json");
      },
      sleep_, "runs/log-batch", log_);
  parse_ok(r, "runs/log-batch");
}

void RestStore::log_inputs(const std::string& run_id, const std::vector<DatasetInput>& datasets) {
  for (size_t first = 0; first < datasets.size(); first += 1000) {
    json list = json::array();
    for (size_t i = first; i < std::min(datasets.size(), first + 1000); ++i) {
      const auto& d = datasets[i];
      json dataset = {{"name", d.name},
                      {"digest", d.digest},
                      {"source_type", d.source_type},
                      {"source", d.source}};
      if (!d.schema.empty()) dataset["schema"] = d.schema;
      if (!d.profile.empty()) dataset["profile"] = d.profile;
      list.push_back({{"tags", kv_list(d.tags)}, {"dataset", dataset}});
    }
    call("POST", "/api/2.0/mlflow/runs/log-inputs", {{"run_id", run_id}, {"datasets", list}},
         "runs/log-inputs");
  }
}

std::string RestStore::artifact_url(const std::string& artifact_uri, const std::string& rel) const {
  const std::string scheme = "mlflow-artifacts:";
  if (artifact_uri.rfind(scheme, 0) != 0) {
    auto colon = artifact_uri.find(':');
    std::string s = colon == std::string::npos ? artifact_uri : artifact_uri.substr(0, colon);
    throw MlflowError(
        "mlflow: the run's artifact_uri '" + artifact_uri + "' uses the '" + s +
            "' scheme; only proxied artifacts (mlflow-artifacts:/, server started with "
            "--serve-artifacts) are supported",
        0, "UNSUPPORTED_ARTIFACT_URI", false);
  }
  std::string rest = artifact_uri.substr(scheme.size());
  std::string base = base_;
  if (rest.rfind("//", 0) == 0) {
    // mlflow-artifacts://host:port/<path>: that host, with the tracking URI's scheme.
    auto slash = rest.find('/', 2);
    std::string authority =
        rest.substr(2, slash == std::string::npos ? std::string::npos : slash - 2);
    std::string tscheme = base_.substr(0, base_.find("://"));
    base = tscheme + "://" + authority;
    rest = slash == std::string::npos ? "" : rest.substr(slash);
  }
  while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  return base + "/api/2.0/mlflow-artifacts/artifacts/" + url_encode(rest, true) + "/" +
         url_encode(rel, true);
}

void RestStore::upload_artifact(const RunRef& run, const ArtifactFile& artifact) {
  std::string url = artifact_url(run.artifact_uri, artifact.artifact_path());
  auto r = with_retries(
      budget_, [&](int) { return http_->put_file(url, artifact.local_path); }, sleep_,
      "artifact upload '" + artifact.artifact_path() + "'", log_);
  parse_ok(r, "artifact upload '" + artifact.artifact_path() + "'");
}

void RestStore::update_run(const std::string& run_id, const std::string& status, int64_t end_ms) {
  if (status != "RUNNING" && status != "SCHEDULED" && status != "FINISHED" && status != "FAILED" &&
      status != "KILLED")
    throw MlflowError("mlflow: invalid run status '" + status + "'", 0, "", false);
  call("POST", "/api/2.0/mlflow/runs/update",
       {{"run_id", run_id}, {"status", status}, {"end_time", end_ms}}, "runs/update");
}

void RestStore::set_model_version_tag(const std::string& name, const std::string& version,
                                      const std::string& key, const std::string& value) {
  call("POST", "/api/2.0/mlflow/model-versions/set-tag",
       {{"name", name},
        {"version", version},
        {"key", key},
        {"value", utf8_prefix(value, settings_.limits.model_version_tag_value)}},
       "model-versions/set-tag");
}

std::string RestStore::run_page(const std::string& experiment_id, const std::string& run_id) const {
  return base_ + "/#/experiments/" + experiment_id + "/runs/" + run_id;
}

}  // namespace secmlops::plugins::mlflow
