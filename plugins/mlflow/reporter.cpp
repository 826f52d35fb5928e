#include "reporter.hpp"

#include <unistd.h>

#include <chrono>

namespace secmlops::plugins::mlflow {

Reporter::Reporter(Settings settings, RestStore::Sleep sleep)
    : settings_(std::move(settings)), sleep_(std::move(sleep)) {
  if (settings_.mode == "report" && settings_.is_file_store())
    files_ = std::make_unique<FileStore>(settings_.file_store_root());
}

Reporter::~Reporter() { stop_sending(); }

namespace {
// A file store has no model registry: say so once instead of silently dropping the request.
void warn_no_registry(const Settings& s, const Sink& sink) {
  if (!s.model_name.empty())
    sink.log(3, "mlflow: model version tags (" + s.model_name + ":" + s.model_version +
                    ") need a tracking server; the file store has no model registry");
}

MlflowError as_mlflow_error(const std::exception& e) {
  if (const auto* m = dynamic_cast<const MlflowError*>(&e)) return *m;
  return MlflowError(e.what(), 0, "", false);
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
  // Sources are recorded as absolute URIs: a relative path means nothing to a later reader.
  if (e.type == EventType::Dataset && !e.path.empty()) e.path = local_source_uri(e.path);
  if (e.type == EventType::RunStart && e.key.empty()) e.key = settings_.experiment;
  if (e.type == EventType::RunEnd) ended_ = true;
  if (files_) {
    if (e.type == EventType::RunStart) {
      warn_no_registry(settings_, sink);
      file_run_ = files_->start_run(e.key, e.value, e.timestamp_ms, settings_.user);
      file_plan_ = std::make_unique<PlanBuilder>(settings_.limits, e.timestamp_ms);
      started_ = true;
      sink.property("mlflow.run_id", file_run_->run_id);
      sink.property("mlflow.experiment_id", file_run_->experiment_id);
      sink.property("mlflow.run_dir", file_run_->dir.string());
    }
    file_plan_->add(e);
    files_->append(*file_run_, file_plan_->take_delta(), settings_.user);
    return;
  }
  if (e.type == EventType::RunStart) {
    start_rest_run(e, sink);  // a spool that cannot be written fails the start, not a later event
    started_ = true;
    return;
  }
  e = spool_->append(std::move(e));
  {
    std::lock_guard lock(mutex_);
    // Once delivery stopped, the spool alone holds the run.
    if (live_ && !live_error_) pending_.push_back(std::move(e));
  }
  wake_.notify_one();
  emit_warnings(sink);
}

void Reporter::start_rest_run(const Event& start, const Sink& sink) {
  nlohmann::json header = {{"version", 2},
                           {"tracking_uri", settings_.tracking_uri},
                           {"experiment", start.key},
                           {"user", settings_.user},
                           {"created_ms", start.timestamp_ms},
                           // The limits shape the batches: a replay must shorten identically.
                           {"max_param_value", settings_.limits.param_value},
                           {"max_tag_value", settings_.limits.tag_value}};
  spool_ = std::make_unique<SpoolWriter>(settings_.spool_dir, random_hex32(), header);
  Event e = spool_->append(start);
  progress_ = std::make_unique<Progress>(settings_.spool_dir / (spool_->key() + ".progress"));
  ValueLimits limits = settings_.limits;
  limits.refuse_long_values = false;  // refused in on_event already
  RestStore& rest = store(settings_.tracking_uri);
  rest.begin_delivery();
  live_ = std::make_unique<RunDelivery>(rest, *progress_, settings_, spool_->key(), limits);
  try {
    const RunRef& run = live_->open(e, settings_.experiment);
    sink.property("mlflow.run_id", run.run_id);
    sink.property("mlflow.experiment_id", run.experiment_id);
    sink.property("mlflow.run_url", live_->run_page());
    sender_ = std::thread([this] { send_loop(); });
  } catch (const std::exception& err) {
    // The command goes on; its events are spooled and flush says what happened.
    live_error_ = as_mlflow_error(err);
    live_.reset();
    sink.log(3, std::string(err.what()) + "; the run's events are spooled");
  }
}

void Reporter::send_loop() {
  const auto gather = std::chrono::duration<double>(settings_.batch_interval_s);
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait(lock, [&] { return stop_ || !pending_.empty(); });
    // Let the events of a burst gather into one request; flush sends whatever is left.
    if (stop_ || wake_.wait_for(lock, gather, [&] { return stop_; })) break;
    std::vector<Event> chunk;
    chunk.swap(pending_);
    lock.unlock();
    std::optional<MlflowError> error;
    try {
      live_->deliver(chunk);
    } catch (const std::exception& e) {
      error = as_mlflow_error(e);
    }
    auto warnings = live_->take_warnings();
    lock.lock();
    warnings_.insert(warnings_.end(), warnings.begin(), warnings.end());
    if (error) {
      live_error_ = std::move(error);
      pending_.clear();
      break;
    }
  }
}

void Reporter::stop_sending() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
}

void Reporter::emit_warnings(const Sink& sink) {
  std::vector<std::string> warnings;
  {
    std::lock_guard lock(mutex_);
    warnings.swap(warnings_);
  }
  for (const auto& w : warnings) sink.log(3, w);
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
  if (!started_ || !ended_ || flushed_ || files_) return;
  flushed_ = true;
  stop_sending();
  spool_->sync();
  if (live_ && !live_error_) {
    try {
      live_->deliver(pending_);
      pending_.clear();
    } catch (const std::exception& e) {
      live_error_ = as_mlflow_error(e);
    }
    warnings_ = live_->take_warnings();
  }
  emit_warnings(sink);
  const std::string file = spool_->path().string();
  if (!live_error_) {
    // Removed while still holding the spool file's lock, so that no concurrent sync races us.
    remove_spooled(spool_->path());
    spool_.reset();
    return;
  }
  spool_.reset();  // unlocked: `mlflow sync` may take it from here
  sink.property("mlflow.spooled", file);
  const MlflowError& e = *live_error_;
  if (e.transient()) {
    sink.log(3, std::string(e.what()) + "; the run is kept in " + file +
                    " — deliver it later with `secmlops mlflow sync`");
    return;
  }
  throw MlflowError(std::string(e.what()) + " (the run is kept in " + file +
                        "; fix the cause, then run `secmlops mlflow sync`)",
                    e.http_status(), e.error_code(), false);
}

void Reporter::deliver_spooled(const std::filesystem::path& file, const Sink& sink) {
  SpooledRun spooled = read_spool(file);
  std::string uri = settings_.tracking_uri;
  if (uri.empty() || settings_.is_file_store()) uri = spooled.header.value("tracking_uri", "");
  if (uri.empty())
    throw MlflowError("mlflow: spool file '" + file.string() + "' names no tracking URI", 0, "",
                      false);
  if (spooled.events.empty() || spooled.events.front().type != EventType::RunStart)
    throw MlflowError("mlflow: spool file '" + file.string() + "' does not start with RUN_START", 0,
                      "", false);
  Settings s = settings_;
  s.user = spooled.header.value("user", settings_.user);
  ValueLimits limits = settings_.limits;
  limits.refuse_long_values = false;  // accepted when spooled: deliver, shortened if need be
  limits.param_value = spooled.header.value("max_param_value", limits.param_value);
  limits.tag_value = spooled.header.value("max_tag_value", limits.tag_value);
  Progress progress(file.parent_path() / (spooled.key + ".progress"));
  RestStore& rest = store(uri);
  rest.begin_delivery();
  RunDelivery d(rest, progress, s, spooled.key, limits);
  try {
    d.open(spooled.events.front(), spooled.header.value("experiment", settings_.experiment));
    d.deliver(std::span<const Event>(spooled.events).subspan(1));
    d.end_unfinished();
    for (const auto& w : d.take_warnings()) sink.log(3, w);
    sink.property("mlflow.run_id", d.run().run_id);
    sink.property("mlflow.experiment_id", d.run().experiment_id);
    sink.property("mlflow.run_url", d.run_page());
    remove_spooled(file);
  } catch (const MlflowError& e) {
    for (const auto& w : d.take_warnings()) sink.log(3, w);
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
