#include "core/deliver.hpp"

#include <filesystem>

namespace secmlops::plugins::mlflow {

Delivery deliver(RestStore& store, const RunPlan& plan, const std::string& run_key,
                 Progress& progress, const Settings& settings) {
  Delivery d;
  std::optional<RunRef> run = progress.run();
  if (!run) {
    std::string experiment = plan.experiment.empty() ? settings.experiment : plan.experiment;
    ExperimentInfo exp = store.ensure_experiment(experiment);
    // A create whose answer was lost may have created the run: look for it first.
    if (progress.attempted("create_run")) run = store.find_run_by_tag(exp.id, kRunKeyTag, run_key);
    if (!run) {
      std::vector<std::pair<std::string, std::string>> tags = {{kRunKeyTag, run_key},
                                                               {"mlflow.source.name", "secmlops"},
                                                               {"mlflow.source.type", "LOCAL"}};
      if (!plan.run_name.empty()) tags.emplace_back("mlflow.runName", plan.run_name);
      if (!settings.user.empty()) tags.emplace_back("mlflow.user", settings.user);
      progress.mark_attempt("create_run");
      run = store.create_run(exp.id, plan.run_name, plan.start_time_ms, tags);
    }
    progress.set_run(*run);
  }
  d.run = *run;
  d.run_page = store.run_page(run->experiment_id, run->run_id);

  auto batches = plan.batches();
  for (size_t i = 0; i < batches.size(); ++i) {
    std::string step = "batch:" + std::to_string(i);
    if (progress.done(step)) continue;
    bool maybe_sent = progress.attempted(step);
    progress.mark_attempt(step);
    store.log_batch(run->run_id, batches[i], maybe_sent);
    progress.mark_done(step);
  }
  if (!plan.datasets.empty() && !progress.done("inputs")) {
    store.log_inputs(run->run_id, plan.datasets);  // MLflow de-duplicates (name, digest)
    progress.mark_done("inputs");
  }
  for (size_t i = 0; i < plan.artifacts.size(); ++i) {
    std::string step = "artifact:" + std::to_string(i);
    if (progress.done(step)) continue;
    const auto& a = plan.artifacts[i];
    if (!std::filesystem::exists(a.local_path)) {
      d.warnings.push_back("mlflow: artifact '" + a.local_path +
                           "' no longer exists; not uploaded");
      progress.mark_done(step);
      continue;
    }
    try {
      store.upload_artifact(*run, a);  // a PUT overwrites: re-sending is harmless
    } catch (const MlflowError& e) {
      if (e.transient()) throw;
      d.warnings.push_back(e.what());
    }
    progress.mark_done(step);
  }
  if (!settings.model_name.empty() && !progress.done("model_version_tags")) {
    // Verdict and counts also on the registered model version the run evaluated.
    for (const auto& [k, v] : plan.tags)
      if (k.rfind("secmlops.", 0) == 0 && k != kRunKeyTag)
        store.set_model_version_tag(settings.model_name, settings.model_version, k, v);
    store.set_model_version_tag(settings.model_name, settings.model_version, "secmlops.run_id",
                                run->run_id);
    progress.mark_done("model_version_tags");
  }
  if (!progress.done("end")) {
    store.update_run(run->run_id, plan.status, plan.end_time_ms);
    progress.mark_done("end");
  }
  return d;
}

}  // namespace secmlops::plugins::mlflow
