#include "deliver.hpp"

#include <filesystem>

namespace secmlops::plugins::mlflow {

RunDelivery::RunDelivery(RestStore& store, Progress& progress, const Settings& settings,
                         std::string run_key, const ValueLimits& limits)
    : store_(store),
      progress_(progress),
      settings_(settings),
      run_key_(std::move(run_key)),
      builder_(limits, now_millis()) {}

const RunRef& RunDelivery::open(const Event& run_start, const std::string& experiment) {
  builder_.add(run_start);
  (void)builder_.take_delta();
  position_ = 1;
  std::optional<RunRef> run = progress_.run();
  if (!run) {
    const RunPlan& plan = builder_.plan();
    std::string name = !plan.experiment.empty() ? plan.experiment
                       : !experiment.empty()    ? experiment
                                                : settings_.experiment;
    ExperimentInfo exp = store_.ensure_experiment(name);
    // A create whose answer was lost may have created the run: look for it first.
    if (progress_.attempted("create_run"))
      run = store_.find_run_by_tag(exp.id, kRunKeyTag, run_key_);
    if (!run) {
      std::vector<std::pair<std::string, std::string>> tags = {{kRunKeyTag, run_key_},
                                                               {"mlflow.source.name", "secmlops"},
                                                               {"mlflow.source.type", "LOCAL"}};
      if (!plan.run_name.empty()) tags.emplace_back("mlflow.runName", plan.run_name);
      if (!settings_.user.empty()) tags.emplace_back("mlflow.user", settings_.user);
      progress_.mark_attempt("create_run");
      run = store_.create_run(exp.id, plan.run_name, plan.start_time_ms, tags);
    }
    progress_.set_run(*run);
  }
  run_ = *run;
  return run_;
}

std::string RunDelivery::run_page() const {
  return store_.run_page(run_.experiment_id, run_.run_id);
}

std::vector<std::string> RunDelivery::take_warnings() { return std::exchange(warnings_, {}); }

void RunDelivery::deliver(std::span<const Event> events) {
  size_t i = 0;
  // What the server confirmed in an earlier delivery only rebuilds the plan.
  bool replayed = false;
  while (i < events.size() && position_ < progress_.done_upto()) {
    builder_.add(events[i++]);
    ++position_;
    replayed = true;
  }
  if (replayed) (void)builder_.take_delta();
  while (i < events.size()) {
    size_t first = position_;
    do {
      builder_.add(events[i++]);
      ++position_;
    } while (i < events.size() && builder_.fits_one_batch(events[i]));
    send_chunk(first, position_);
  }
}

void RunDelivery::send_chunk(size_t first, size_t end) {
  RunPlan delta = builder_.take_delta();
  // The chunk may already be (partly) stored when an earlier attempt covered it.
  bool maybe_sent = first < progress_.attempted_upto();
  progress_.mark_attempt_upto(end);
  for (const auto& batch : delta.batches()) store_.log_batch(run_.run_id, batch, maybe_sent);
  if (!delta.datasets.empty())
    store_.log_inputs(run_.run_id, delta.datasets);  // MLflow de-duplicates (name, digest)
  for (const auto& a : delta.artifacts) {
    if (!std::filesystem::exists(a.local_path)) {
      warnings_.push_back("mlflow: artifact '" + a.local_path + "' no longer exists; not uploaded");
      continue;
    }
    try {
      store_.upload_artifact(run_, a);  // a PUT overwrites: re-sending is harmless
    } catch (const MlflowError& e) {
      if (e.transient()) throw;
      warnings_.push_back(e.what());
    }
  }
  if (delta.ended) finish_run(delta);
  progress_.mark_done_upto(end);
}

void RunDelivery::finish_run(const RunPlan& delta) {
  if (!settings_.model_name.empty()) {
    // Verdict and counts also on the registered model version the run evaluated.
    for (const auto& [k, v] : builder_.plan().tags)
      if (k.rfind("secmlops.", 0) == 0 && k != kRunKeyTag)
        store_.set_model_version_tag(settings_.model_name, settings_.model_version, k, v);
    store_.set_model_version_tag(settings_.model_name, settings_.model_version, "secmlops.run_id",
                                 run_.run_id);
  }
  store_.update_run(run_.run_id, delta.status, delta.end_time_ms);
}

void RunDelivery::end_unfinished() {
  if (builder_.plan().ended) return;
  builder_.end_unfinished(now_millis());
  size_t at = position_;
  send_chunk(at, at);
}

}  // namespace secmlops::plugins::mlflow
