#include "secmlops/app/data.hpp"
#include "secmlops/app/model_results.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/app/run_scope.hpp"
#include "secmlops/host/digest.hpp"
#include "secmlops/host/model_eval.hpp"
#include "secmlops/host/model_io.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>

namespace secmlops::app {
namespace {

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail(AppError::Code::failed_precondition, path + ": cannot write the model");
}

}  // namespace

v1::TrainResponse train(const Environment& env, const v1::TrainRequest& req, TrainedModel* keep) {
  const auto t0 = std::chrono::steady_clock::now();
  // The model's library is opened on another core while the data is read; an unknown or refused
  // plugin is still the first error.
  auto opening = std::async(std::launch::async, [&] {
    return find_plugin(env.registry, SECMLOPS_KIND_MODEL, req.plugin());
  });
  double test_size = 0;
  host::KeyValues params;
  Table data;
  try {
    if (!req.out().empty() && !env.files.may_write())
      fail(AppError::Code::invalid_argument,
           "this door keeps trained models itself: leave `out` empty");
    test_size = req.has_test_size() ? req.test_size() : 0.25;
    if (!(test_size >= 0 && test_size <= 0.99))
      fail(AppError::Code::invalid_argument,
           "test_size must be in [0, 0.99], got " + format_number(test_size));
    params = to_key_values(req.params());
    const std::vector<int32_t> labels(req.labels().begin(), req.labels().end());
    data = load_request_data(env, req.has_features() ? &req.features() : nullptr, labels,
                             req.has_csv() ? &req.csv() : nullptr, LabelRule::last_by_default, {},
                             Provenance::digest);
  } catch (...) {
    (void)opening.get();
    throw;
  }
  auto plugin = opening.get();
  if (!has_labels(data)) fail(AppError::Code::invalid_argument, "training needs labels");
  // The dataset's full record (column statistics, personal data) is read on another core while
  // the model fits; both only read the table.
  auto full_record =
      std::async(std::launch::async, [&data] { return described_record(data, true); });
  const std::string dataset_name = data.record.name();
  RunScope run(env, req.mlflow(), "train", "train " + req.plugin() + " " + dataset_name);

  // CSV labels are names; matrix labels are class numbers 0..k-1 as given.
  host::LabelEncoder encoder;
  std::vector<int32_t> y;
  if (!data.label_numbers.empty()) {
    int32_t top = *std::max_element(data.label_numbers.begin(), data.label_numbers.end());
    std::vector<std::string> names;
    for (int32_t c = 0; c <= top; ++c) names.push_back(std::to_string(c));
    encoder = host::LabelEncoder(names);
    y = data.label_numbers;
  } else {
    const auto names = label_names(data);
    encoder = host::LabelEncoder::fit(names);
    y = encoder.encode(names, &data.csv);
  }
  if (encoder.classes().size() < 2)
    throw host::DataError(dataset_name + ": the labels hold a single class ('" +
                          encoder.classes().front() + "')");

  auto split = host::train_test_split(data.x.rows, test_size, req.seed());
  // Without test rows the training rows are the table's, in order: no copy of the matrix.
  const bool every_row = split.test.empty();
  host::DenseMatrix x_taken;
  if (!every_row) x_taken = host::take_rows(data.x, split.train);
  const host::DenseMatrix& x_train = every_row ? data.x : x_taken;
  const std::vector<int32_t> y_train = every_row ? y : host::take(y, split.train);
  std::vector<char> seen(encoder.classes().size(), 0);
  for (int32_t v : y_train) seen[static_cast<size_t>(v)] = 1;
  for (size_t c = 0; c < seen.size(); ++c)
    if (!seen[c])
      throw host::DataError(
          dataset_name + ": class '" + encoder.classes()[c] +
          "' has no row in the training split; use more data or a smaller test size");

  v1::ProgressEvent ev;
  ev.set_kind("train");
  ev.set_phase("progress");
  ev.set_item(req.name().empty() ? req.plugin() : req.name());
  ev.set_message("fitting on " + std::to_string(split.train.size()) + " rows");
  env.report(ev);
  env.throw_if_cancelled("training");

  auto session = std::make_unique<host::ModelSession>(plugin, to_key_values(req.config()));
  host::Emitted fit_emitted;
  session->fit(x_train, y_train, params, &fit_emitted);
  env.throw_if_cancelled("training");

  v1::TrainResponse r;
  *r.mutable_model() = summarise_model(*session, req.name());
  add_metrics(fit_emitted, *r.mutable_metrics());
  data.record = full_record.get();
  data.described = true;
  *r.mutable_dataset() = data.record;
  auto* lineage = r.mutable_dataset()->mutable_lineage();
  lineage->add_transformations("train_test_split(test_size=" + format_number(test_size) +
                               ", seed=" + std::to_string(req.seed()) + ")");
  for (const auto& f : data.features) r.add_features(f);
  for (const auto& c : encoder.classes()) r.add_classes(c);
  for (const auto& [k, v] : params) (*r.mutable_params())[k] = v;
  r.set_train_rows(split.train.size());
  r.set_test_rows(split.test.size());
  auto train_m = host::classification_metrics(session->predict_proba(x_train), y_train);
  *r.mutable_train() = to_proto(train_m);
  std::optional<host::OverfittingReport> report;
  if (!split.test.empty()) {
    auto x_test = host::take_rows(data.x, split.test);
    auto test_m =
        host::classification_metrics(session->predict_proba(x_test), host::take(y, split.test));
    report = host::overfitting_report(train_m, test_m);
    *r.mutable_overfitting() = to_proto(*report);
  }
  auto described = session->describe();
  add_metrics(described, *r.mutable_complexity());
  add_properties(described, *r.mutable_properties());

  // The model as ONNX with what describe and attacks need later: class names, feature columns,
  // training figures. Plugins that cannot export are kept in memory only.
  std::map<std::string, std::string> meta = {
      {host::kMetaClassLabels, nlohmann::json(encoder.classes()).dump()},
      {host::kMetaFeatures, nlohmann::json(data.features).dump()},
      {host::kMetaLabelColumn, data.record.label_column()},
      {host::kMetaTrainAccuracy, format_number(train_m.accuracy)},
      {host::kMetaTrainLogLoss, format_number(train_m.log_loss)},
      {host::kMetaTrainRows, std::to_string(train_m.rows)}};
  const bool exports = (plugin.capability_bits() & SECMLOPS_CAP_ONNX_EXPORT) != 0;
  if (exports) {
    auto bytes = session->export_onnx();
    for (const auto& [k, v] : meta) host::add_onnx_metadata(bytes, k, v);
    r.set_model_sha256(
        host::sha256_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()}));
    if (!req.out().empty()) {
      auto path = env.files.resolve(req.out());
      write_file(path.string(), bytes);
      r.set_out(req.out());
    }
  } else if (!req.out().empty()) {
    fail(AppError::Code::failed_precondition,
         "model plugin " + plugin.name() + " cannot export ONNX, so `out` cannot be written");
  }
  r.set_duration_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  if (run) {
    host::record_model(*run, req.plugin(), train_m.accuracy,
                       report ? report->test.accuracy : train_m.accuracy, described);
    for (const auto& [k, v] : params) run->param("model.param." + k, v);
    if (report) {
      run->metric("model.log_loss_gap", report->log_loss_gap);
      run->tag("model.overfitting", report->flagged ? "flagged" : "ok");
    }
    record_dataset(*run, r.dataset());
    if (!r.out().empty()) run->artifact(env.files.resolve(r.out()).string(), "model");
    run.finish("FINISHED");
  }
  if (keep) {
    keep->session = std::move(session);
    keep->classes = encoder.classes();
    keep->features = data.features;
    keep->metadata = meta;
  }
  return r;
}

}  // namespace secmlops::app
