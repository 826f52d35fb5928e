#include "secmlops/app/model_results.hpp"
#include "secmlops/host/dataset_record.hpp"

namespace secmlops::app {

host::KeyValues to_key_values(const google::protobuf::RepeatedPtrField<v1::KeyValue>& kv) {
  host::KeyValues out;
  out.reserve(static_cast<size_t>(kv.size()));
  for (const auto& e : kv) out.emplace_back(e.key(), e.value());
  return out;
}

v1::ClassificationMetrics to_proto(const host::ClassificationMetrics& m) {
  v1::ClassificationMetrics p;
  p.set_rows(m.rows);
  p.set_accuracy(m.accuracy);
  p.set_log_loss(m.log_loss);
  return p;
}

host::ClassificationMetrics from_proto(const v1::ClassificationMetrics& m) {
  host::ClassificationMetrics h;
  h.rows = m.rows();
  h.accuracy = m.accuracy();
  h.log_loss = m.log_loss();
  return h;
}

v1::OverfittingReport to_proto(const host::OverfittingReport& r) {
  v1::OverfittingReport p;
  *p.mutable_train() = to_proto(r.train);
  *p.mutable_held_out() = to_proto(r.test);
  p.set_accuracy_gap(r.accuracy_gap);
  p.set_log_loss_gap(r.log_loss_gap);
  p.set_accuracy_gap_threshold(host::kOverfitAccuracyGap);
  p.set_log_loss_gap_threshold(host::kOverfitLogLossGap);
  p.set_flagged(r.flagged);
  p.set_verdict(r.verdict);
  return p;
}

void add_metrics(const host::Emitted& e, google::protobuf::RepeatedPtrField<v1::Metric>& out) {
  for (const auto& [key, v] : e.metrics) {
    auto* m = out.Add();
    m->set_key(key);
    m->set_value(v.first);
    m->set_step(v.second);
  }
}

void add_properties(const host::Emitted& e, google::protobuf::RepeatedPtrField<v1::KeyValue>& out) {
  for (const auto& [key, value] : e.properties) {
    auto* p = out.Add();
    p->set_key(key);
    p->set_value(value);
  }
}

void record_dataset(host::RunRecorder& run, const v1::DatasetRecord& d) {
  const auto& source = d.lineage().source();
  const auto in = host::mlflow_dataset_input(d);
  run.dataset(d.name(), d.sha256(), source.empty() ? d.path() : source, in.schema, in.profile);
}

}  // namespace secmlops::app
