#include "secmlops/app/data.hpp"
#include "secmlops/app/model_results.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/model_io.hpp"

namespace secmlops::app {
namespace {

// Columns of the request's data, checked against what the model takes.
void check_width(const Table& t, const ModelUse& m) {
  auto info = m.session->info();
  if (t.x.cols != info.n_features)
    fail(AppError::Code::invalid_argument, "the data has " + std::to_string(t.x.cols) +
                                               " feature columns, model " + m.name + " expects " +
                                               std::to_string(info.n_features));
}

}  // namespace

Table model_input(const Environment& env, const ModelUse& m, const v1::Matrix* features,
                  const std::vector<int32_t>& labels, const v1::CsvData* csv,
                  Provenance provenance) {
  auto t = load_request_data(env, features, labels, csv, LabelRule::none_unless_named, m.features,
                             provenance);
  check_width(t, m);
  return t;
}

v1::PredictResponse predict(const Environment& env, const v1::PredictRequest& req) {
  auto m = use_model(env, req.model_id(), req.model_path());
  auto data = model_input(env, m, req.has_features() ? &req.features() : nullptr, {},
                          req.has_csv() ? &req.csv() : nullptr, Provenance::shape);
  auto proba = m.session->predict_proba(data.x);
  v1::PredictResponse r;
  r.set_model(m.session->plugin().name());
  auto* p = r.mutable_probabilities();
  p->set_rows(proba.rows);
  p->set_cols(proba.cols);
  p->mutable_values()->Assign(proba.data.begin(), proba.data.end());
  auto labels = host::argmax_rows(proba);
  r.mutable_labels()->Assign(labels.begin(), labels.end());
  for (const auto& c : m.classes) r.add_classes(c);
  for (int32_t l : labels)
    r.add_predicted(static_cast<size_t>(l) < m.classes.size() ? m.classes[static_cast<size_t>(l)]
                                                              : std::to_string(l));
  if (has_labels(data))
    *r.mutable_metrics() =
        to_proto(host::classification_metrics(proba, encode_labels(data, m.classes)));
  return r;
}

v1::DescribeResponse describe(const Environment& env, const v1::ModelRef& req) {
  auto m = use_model(env, req.model_id(), req.model_path());
  v1::DescribeResponse r;
  *r.mutable_model() = summarise_model(*m.session, m.name);
  if (!req.model_id().empty()) r.mutable_model()->set_id(req.model_id());
  r.set_source(req.model_id().empty() ? req.model_path() : req.model_id());
  auto described = m.session->describe();
  add_metrics(described, *r.mutable_metrics());
  add_properties(described, *r.mutable_properties());
  for (const auto& c : m.classes) r.add_classes(c);
  for (const auto& f : m.features) r.add_features(f);

  // The training figures recorded by training, when present.
  auto meta = [&](const char* key) -> const std::string* {
    auto it = m.metadata.find(key);
    return it == m.metadata.end() ? nullptr : &it->second;
  };
  std::optional<host::ClassificationMetrics> train;
  if (const auto* acc = meta(host::kMetaTrainAccuracy), *loss = meta(host::kMetaTrainLogLoss);
      acc && loss) {
    host::ClassificationMetrics t;
    t.accuracy = std::strtod(acc->c_str(), nullptr);
    t.log_loss = std::strtod(loss->c_str(), nullptr);
    if (const auto* rows = meta(host::kMetaTrainRows))
      t.rows = std::strtoull(rows->c_str(), nullptr, 10);
    train = t;
    *r.mutable_train() = to_proto(t);
  }
  if (req.has_data() && (!req.data().text().empty() || !req.data().path().empty())) {
    if (req.data().label_column().empty())
      fail(AppError::Code::invalid_argument,
           "held-out data needs its label column to measure accuracy");
    auto data = model_input(env, m, nullptr, {}, &req.data(), Provenance::shape);
    auto held = host::classification_metrics(m.session->predict_proba(data.x),
                                             encode_labels(data, m.classes));
    *r.mutable_held_out() = to_proto(held);
    if (train) *r.mutable_overfitting() = to_proto(host::overfitting_report(*train, held));
  }
  return r;
}

}  // namespace secmlops::app
