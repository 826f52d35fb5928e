#include "core/reporter.hpp"

#include <unistd.h>

namespace secmlops::plugins::mlflow {

Reporter::Reporter(Settings settings, RestStore::Sleep sleep)
    : settings_(std::move(settings)), sleep_(std::move(sleep)) {
  if (settings_.mode == "report" && settings_.is_file_store())
    files_ = std::make_unique<FileStore>(settings_.file_store_root());
}

namespace {
// A file store has no model registry: say so once instead of silently dropping the request.
void warn_no_registry(const Settings& s, const Sink& sink) {
  if (!s.model_name.empty())
    sink.log(3, "mlflow: model version tags (" + s.model_name + ":" + s.model_version +
                    ") need a tracking server; the file store has no model registry");
}
}  // namespace

RestStore& Reporter::store(const std::string& uri) {
  if (!store_ || store_uri_ != uri) {
    Settings s = settings_;
    s.tracking_uri = uri;
    store_ = std::make_unique<RestStore>(s, sleep_);
    store_uri_ = uri;
  }
  return *store_;
}

void Reporter::on_event(const Event& in, const Sink& sink) {
  if (settings_.mode == "sync") throw EventError("mlflow: this instance only syncs the spool");
  Event e = in;
  if (e.timestamp_ms <= 0) e.timestamp_ms = now_millis();
  if (!started_ && e.type != EventType::RunStart)
    throw EventError("mlflow: the first event must be RUN_START");
  if (started_ && e.type == EventType::RunStart)
    throw EventError("mlflow: one instance reports one run");
  if (ended_) throw EventError("mlflow: event after RUN_END");
  validate_event(e);
  // Refuse what the final plan would refuse, now, while the caller can still react.
  if (settings_.limits.refuse_long_values) (void)build_plan({e}, settings_.limits, e.timestamp_ms);
  if (e.type == EventType::RunStart) {
    started_ = true;
    if (e.key.empty()) e.key = settings_.experiment;
    if (files_) {
      warn_no_registry(settings_, sink);
      file_run_ = files_->start_run(e.key, e.value, e.timestamp_ms, settings_.user);
      sink.property("mlflow.run_id", file_run_->run_id);
      sink.property("mlflow.experiment_id", file_run_->experiment_id);
      sink.property("mlflow.run_dir", file_run_->dir.string());
    } else {
      nlohmann::json header = {{"version", 1},
                               {"tracking_uri", settings_.tracking_uri},
                               {"experiment", e.key},
                               {"created_ms", e.timestamp_ms},
                               // The limits shape the batches: a replay must split identically.
                               {"max_param_value", settings_.limits.param_value},
                               {"max_tag_value", settings_.limits.tag_value}};
      spool_ = std::make_unique<SpoolWriter>(settings_.spool_dir, random_hex32(), header);
    }
  }
  if (e.type == EventType::RunEnd) ended_ = true;
  if (spool_) e = spool_->append(std::move(e));
  events_.push_back(std::move(e));
}

void Reporter::flush(const Sink& sink) {
  if (settings_.mode == "sync") {
    size_t left = sync(sink);
    if (left > 0)
      throw MlflowError("mlflow: " + std::to_string(left) +
                            " spooled run(s) could not be delivered yet; "
                            "they stay in " +
                            settings_.spool_dir.string(),
                        0, "", true);
    return;
  }
  if (!started_ || !ended_ || flushed_) return;
  flushed_ = true;
  if (files_) {
    files_->write(*file_run_, build_plan(events_, settings_.limits, now_millis()), settings_.user);
    return;
  }
  // Deliver while still holding the spool file's lock, so that no concurrent sync races us.
  spool_->sync();
  deliver_spooled(spool_->path(), sink);
  spool_.reset();
}

void Reporter::deliver_spooled(const std::filesystem::path& file, const Sink& sink) {
  SpooledRun spooled = read_spool(file);
  std::string uri = settings_.tracking_uri;
  if (uri.empty() || settings_.is_file_store()) uri = spooled.header.value("tracking_uri", "");
  if (uri.empty())
    throw MlflowError("mlflow: spool file '" + file.string() + "' names no tracking URI", 0, "",
                      false);
  ValueLimits limits = settings_.limits;
  limits.refuse_long_values = false;  // accepted when spooled: deliver, shortened if need be
  limits.param_value = spooled.header.value("max_param_value", limits.param_value);
  limits.tag_value = spooled.header.value("max_tag_value", limits.tag_value);
  RunPlan plan = build_plan(spooled.events, limits, now_millis());
  if (plan.experiment.empty())
    plan.experiment = spooled.header.value("experiment", settings_.experiment);
  Progress progress(file.parent_path() / (spooled.key + ".progress"));
  try {
    Delivery d = deliver(store(uri), plan, spooled.key, progress, settings_);
    for (const auto& w : d.warnings) sink.log(3, w);
    sink.property("mlflow.run_id", d.run.run_id);
    sink.property("mlflow.experiment_id", d.run.experiment_id);
    sink.property("mlflow.run_url", d.run_page);
    remove_spooled(file);
  } catch (const MlflowError& e) {
    sink.property("mlflow.spooled", file.string());
    if (e.transient()) {
      sink.log(3, std::string(e.what()) + "; the run is kept in " + file.string() +
                      " — deliver it later with `secmlops mlflow sync`");
      return;
    }
    throw MlflowError(std::string(e.what()) + " (the run is kept in " + file.string() +
                          "; fix the cause, then run `secmlops mlflow sync`)",
                      e.http_status(), e.error_code(), false);
  }
}

size_t Reporter::sync(const Sink& sink) {
  size_t left = 0;
  for (const auto& file : list_spool(settings_.spool_dir)) {
    int fd = try_lock(file);
    if (fd < 0) {
      sink.log(2, "mlflow: " + file.string() + " is still being written; skipped");
      ++left;
      continue;
    }
    Sink inner = sink;
    bool kept = false;
    inner.property = [&](const std::string& k, const std::string& v) {
      if (k == "mlflow.spooled")
        kept = true;
      else if (k == "mlflow.run_id")
        sink.property("mlflow.synced", v);
      else
        sink.property(k, v);
    };
    try {
      deliver_spooled(file, inner);
    } catch (const std::exception& e) {
      sink.log(4, e.what());
      kept = true;
    }
    ::close(fd);
    if (kept) {
      ++left;
      sink.property("mlflow.sync_failed", file.string());
    }
  }
  return left;
}

}  // namespace secmlops::plugins::mlflow
