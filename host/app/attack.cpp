#include "secmlops/app/data.hpp"
#include "secmlops/app/model_results.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/app/run_scope.hpp"
#include "secmlops/host/csv.hpp"
#include "secmlops/host/robustness.hpp"

#include <chrono>
#include <cmath>

namespace secmlops::app {
namespace {

void add_metric(v1::AttackResult& r, const std::string& key, double value) {
  auto* m = r.add_metrics();
  m->set_key(key);
  m->set_value(value);
}

void write_examples(const std::string& path, const Table& data, const host::DenseMatrix& x_adv,
                    const std::vector<int32_t>& pred, const std::vector<std::string>& classes) {
  std::string out;
  for (size_t c = 0; c < data.features.size(); ++c) {
    if (c) out += ',';
    out += host::csv_escape(data.features[c]);
  }
  out += ",adversarial_prediction\n";
  std::vector<std::string> labels(classes.size());
  for (size_t l = 0; l < classes.size(); ++l) labels[l] = host::csv_escape(classes[l]);
  host::append_rows(out, x_adv.rows, x_adv.cols * 24 + 16, [&](std::string& text, uint64_t r) {
    for (uint64_t c = 0; c < x_adv.cols; ++c) {
      if (c) text += ',';
      host::append_number(text, x_adv(r, c));
    }
    auto l = static_cast<size_t>(pred[r]);
    text += ',';
    text += l < labels.size() ? labels[l] : std::to_string(l);
    text += '\n';
  });
  write_text_file(path, out, "adversarial examples");
}

}  // namespace

v1::AttackResult attack(const Environment& env, const v1::AttackRequest& req) {
  const auto t0 = std::chrono::steady_clock::now();
  auto plugin = find_plugin(env.registry, SECMLOPS_KIND_ATTACK, req.attack());
  if (!req.out().empty() && !env.files.may_write())
    fail(AppError::Code::invalid_argument,
         "this door does not write files: leave `out` empty and set return_examples");
  for (double e : req.eps())
    if (!std::isfinite(e) || e < 0)
      fail(AppError::Code::invalid_argument,
           "eps must be finite and non-negative, got " + format_number(e));
  auto m = use_model(env, req.model_id(), req.model_path());
  const std::string model_name = !req.model_name().empty() ? req.model_name() : m.name;
  if ((plugin.capability_bits() & SECMLOPS_CAP_NEEDS_GRADIENT) && !m.session->has_gradient())
    fail(AppError::Code::failed_precondition,
         "attack " + plugin.name() + " needs loss gradients, which model " + model_name + " (" +
             m.session->plugin().name() +
             ") does not provide: use a black-box attack (hsj, transfer)");
  const std::vector<int32_t> labels(req.labels().begin(), req.labels().end());
  auto data = model_input(env, m, req.has_features() ? &req.features() : nullptr, labels,
                          req.has_csv() ? &req.csv() : nullptr, Provenance::digest);
  RunScope run(env, req.mlflow(), "attack", "attack " + plugin.name() + " " + model_name);

  if (req.labels_from() != "" && req.labels_from() != "true" && req.labels_from() != "predicted")
    fail(AppError::Code::invalid_argument, "labels_from must be \"true\" or \"predicted\", got '" +
                                               req.labels_from().substr(0, 40) + "'");
  host::AttackRequest a;
  a.attack = &plugin;
  a.x = data.x;
  if (has_labels(data) && req.labels_from() != "predicted")
    a.y_true = encode_labels(data, m.classes);
  const uint32_t n_classes = m.session->info().n_classes;
  if (req.targets_size() != 0) {
    if (req.targets_size() != 1 && static_cast<uint64_t>(req.targets_size()) != data.x.rows)
      fail(AppError::Code::invalid_argument, "got " + std::to_string(req.targets_size()) +
                                                 " targets for " + std::to_string(data.x.rows) +
                                                 " rows");
    for (int32_t t : req.targets())
      if (t < 0 || static_cast<uint32_t>(t) >= n_classes)
        fail(AppError::Code::invalid_argument,
             "target " + std::to_string(t) + " is outside 0.." + std::to_string(n_classes - 1));
    if (req.targets_size() == 1)
      a.targets.assign(data.x.rows, req.targets(0));
    else
      a.targets.assign(req.targets().begin(), req.targets().end());
  }
  a.params = to_key_values(req.params());
  for (const auto& [k, v] : a.params)
    if (k == "eps")
      fail(AppError::Code::invalid_argument,
           "give eps as the request's eps list, not as a parameter");
  a.eps.assign(req.eps().begin(), req.eps().end());
  std::optional<host::Plugin> fgsm;
  if (req.empirical_robustness())
    if ((fgsm = env.registry.find(SECMLOPS_KIND_ATTACK, "fgsm")))
      a.fgsm_for_empirical_robustness = &*fgsm;
  a.cancel = env.cancel;

  v1::AttackResult result;
  const uint64_t runs = std::max<uint64_t>(1, a.eps.size());
  uint64_t done = 0;
  a.on_point = [&](const v1::RobustnessPoint& p, const host::AttackOutput& out) {
    // The plugin's own figures, one step per eps; query counts are the host's.
    for (const auto& [key, v] : out.emitted.metrics) {
      if (key == "attack.model_queries") continue;
      auto* mm = result.add_attack_metrics();
      mm->set_key(key);
      mm->set_value(v.first);
      mm->set_step(static_cast<int64_t>(done));
    }
    auto* q = result.add_attack_metrics();
    q->set_key("attack.model_queries");
    q->set_value(static_cast<double>(out.queries));
    q->set_step(static_cast<int64_t>(done));
    if (run) host::record_attack_point(*run, static_cast<int64_t>(done), p);  // live in MLflow
    ++done;
    v1::ProgressEvent ev;
    ev.set_kind("attack");
    ev.set_phase("progress");
    ev.set_item(plugin.name() + " on " + model_name);
    ev.set_eps(p.eps());
    ev.set_done(done);
    ev.set_total(runs);
    env.report(ev);
  };
  host::DenseMatrix x_adv;
  auto report = host::run_robustness(*m.session, a, &x_adv);
  report.set_model_name(model_name);
  report.set_dataset_sha256(data.record.sha256());
  uint64_t queries = 0;
  for (const auto& p : report.curve()) queries += p.model_queries();
  report.set_queries(queries);
  report.set_duration_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  const auto& last = report.curve(report.curve_size() - 1);
  result.set_clean_accuracy(report.clean_accuracy());
  result.set_adversarial_accuracy(last.adversarial_accuracy());
  result.set_queries(queries);
  add_metric(result, "clean_accuracy", report.clean_accuracy());
  add_metric(result, "adversarial_accuracy", last.adversarial_accuracy());
  add_metric(result, "attack_success_rate", last.success_rate());
  add_metric(result, "mean_linf", last.perturbation().mean_linf());
  add_metric(result, "mean_l2", last.perturbation().mean_l2());
  add_metric(result, "queries", static_cast<double>(queries));
  if (req.return_examples() || !req.out().empty()) {
    auto adv = m.session->predict(x_adv);
    if (req.return_examples()) {
      auto* e = result.mutable_adversarial_examples();
      e->set_rows(x_adv.rows);
      e->set_cols(x_adv.cols);
      e->mutable_values()->Assign(x_adv.data.begin(), x_adv.data.end());
      result.mutable_adversarial_labels()->Assign(adv.begin(), adv.end());
    }
    if (!req.out().empty())
      write_examples(env.files.resolve(req.out()).string(), data, x_adv, adv, m.classes);
  }
  *result.mutable_report() = report;

  if (run) {
    host::record_attack(*run, report, true);  // the curve's points went out as computed
    describe(data);
    record_dataset(*run, data.record);
    if (!req.out().empty()) run->artifact(env.files.resolve(req.out()).string(), "adversarial");
    run.finish("FINISHED");
  }
  return result;
}

}  // namespace secmlops::app
