#include "secmlops/host/model_session.hpp"

#include "secmlops/host/plugin_config.hpp"

#include <algorithm>

namespace secmlops::host {

secmlops_status RecordingJob::on_metric(const char* key, double value, int64_t step) {
  if (sink_ != nullptr) sink_->metrics.push_back({key, {value, step}});
  return SECMLOPS_OK;
}

secmlops_status RecordingJob::on_property(const char* key, const char* value) {
  if (sink_ != nullptr) sink_->properties.emplace_back(key, value);
  return SECMLOPS_OK;
}

namespace {
std::vector<secmlops_kv> to_kv(const KeyValues& kv) {
  std::vector<secmlops_kv> out;
  out.reserve(kv.size());
  for (const auto& [k, v] : kv) out.push_back({k.c_str(), v.c_str()});
  return out;
}
}  // namespace

namespace {
// Checks before anything is created: the kind, then the configuration against the declaration.
const Plugin& checked_model(const Plugin& plugin, const KeyValues& config) {
  if (plugin.kind() != SECMLOPS_KIND_MODEL)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, plugin.name() + " is not a model plugin");
  check_config(plugin, config, "option");
  return plugin;
}
}  // namespace

ModelSession::ModelSession(const Plugin& plugin, const KeyValues& config)
    : instance_(checked_model(plugin, config), config), api_(plugin.descriptor().model) {}

void ModelSession::fit(const DenseMatrix& x, const std::vector<int32_t>& y, const KeyValues& params,
                       Emitted* emitted) {
  if (x.rows == 0 || x.cols == 0)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, "training data is empty");
  if (y.size() != x.rows)
    throw PluginError(
        SECMLOPS_ERR_INVALID_ARGUMENT,
        "got " + std::to_string(y.size()) + " labels for " + std::to_string(x.rows) + " rows");
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] < 0)
      throw PluginError(
          SECMLOPS_ERR_INVALID_ARGUMENT,
          "label of row " + std::to_string(i) + " is negative (" + std::to_string(y[i]) + ")");
  check_config(plugin(), params, "parameter");
  auto kv = to_kv(params);
  auto m = x.view();
  RecordingJob job(emitted);
  instance_.check(api_->fit(instance_.raw(), job.handle(), &m, y.data(), kv.data(),
                            static_cast<uint32_t>(kv.size())),
                  "fit");
}

secmlops_model_info ModelSession::info() const {
  secmlops_model_info out{};
  out.struct_size = sizeof(out);
  instance_.check(api_->info(instance_.raw(), &out), "info");
  return out;
}

void ModelSession::check_features(const DenseMatrix& x) const {
  auto i = info();
  if (x.cols != i.n_features)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, "input has " + std::to_string(x.cols) +
                                                         " features, the model expects " +
                                                         std::to_string(i.n_features));
}

void ModelSession::check_labels(const DenseMatrix& x, const std::vector<int32_t>& y,
                                uint32_t classes) const {
  if (y.size() != x.rows)
    throw PluginError(
        SECMLOPS_ERR_INVALID_ARGUMENT,
        "got " + std::to_string(y.size()) + " labels for " + std::to_string(x.rows) + " rows");
  for (size_t r = 0; r < y.size(); ++r)
    if (y[r] < 0 || static_cast<uint32_t>(y[r]) >= classes)
      throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT,
                        "label " + std::to_string(y[r]) + " of row " + std::to_string(r) +
                            " is outside 0.." + std::to_string(classes - 1));
}

DenseMatrix ModelSession::predict_proba(const DenseMatrix& x) const {
  check_features(x);
  DenseMatrix out(x.rows, info().n_classes);
  auto m = x.view();
  RecordingJob job(nullptr);
  instance_.check(api_->predict_proba(instance_.raw(), job.handle(), &m, out.data.data()),
                  "predict_proba");
  queries_ += x.rows;
  return out;
}

std::vector<int32_t> ModelSession::predict(const DenseMatrix& x) const {
  return argmax_rows(predict_proba(x));
}

bool ModelSession::can(uint64_t capability) const {
  return (plugin().capability_bits() & capability) != 0;
}

bool ModelSession::has_gradient() const {
  // The family's capability, then the fitted model's own answer (abi.h, CAPABILITIES).
  return can(SECMLOPS_CAP_GRADIENT) && info().has_gradient != 0;
}

DenseMatrix ModelSession::loss_gradient(const DenseMatrix& x, const std::vector<int32_t>& y) const {
  if (!has_gradient())
    throw PluginError(SECMLOPS_ERR_UNSUPPORTED, plugin().name() + " has no loss gradient");
  check_features(x);
  check_labels(x, y, info().n_classes);
  DenseMatrix out(x.rows, x.cols);
  auto m = x.view();
  RecordingJob job(nullptr);
  instance_.check(api_->loss_gradient(instance_.raw(), job.handle(), &m, y.data(), out.data.data()),
                  "loss_gradient");
  return out;
}

Emitted ModelSession::describe() const {
  Emitted e;
  if (!can(SECMLOPS_CAP_DESCRIBE)) return e;
  RecordingJob job(&e);
  instance_.check(api_->describe(instance_.raw(), job.handle()), "describe");
  return e;
}

std::vector<uint8_t> ModelSession::export_onnx() const {
  if (!can(SECMLOPS_CAP_ONNX_EXPORT))
    throw PluginError(SECMLOPS_ERR_UNSUPPORTED, plugin().name() + " cannot export ONNX");
  const uint8_t* data = nullptr;
  uint64_t len = 0;
  RecordingJob job(nullptr);
  instance_.check(api_->export_onnx(instance_.raw(), job.handle(), &data, &len), "export_onnx");
  return std::vector<uint8_t>(data, data + len);
}

bool ModelSession::import_onnx(const std::vector<uint8_t>& bytes) {
  if (!can(SECMLOPS_CAP_ONNX_IMPORT)) return false;
  RecordingJob job(nullptr);
  secmlops_status s = api_->import_onnx(instance_.raw(), job.handle(), bytes.data(), bytes.size());
  if (s == SECMLOPS_ERR_UNSUPPORTED) return false;
  instance_.check(s, "import_onnx");
  return true;
}

secmlops_model_handle ModelSession::handle(std::shared_ptr<CancelToken> cancel) {
  handle_cancel_ = std::move(cancel);
  auto i = info();
  secmlops_model_handle h{};
  h.struct_size = sizeof(h);
  h.context = this;
  h.n_features = i.n_features;
  h.n_classes = i.n_classes;
  h.has_gradient = has_gradient() ? 1 : 0;
  h.predict_proba = [](void* ctx, const secmlops_matrix* x,
                       double* out) noexcept -> secmlops_status {
    auto* self = static_cast<ModelSession*>(ctx);
    if (x == nullptr || out == nullptr) return SECMLOPS_ERR_INVALID_ARGUMENT;
    if (self->handle_cancel_ && self->handle_cancel_->cancelled()) return SECMLOPS_ERR_CANCELLED;
    RecordingJob job(nullptr);
    job.set_cancel_token(self->handle_cancel_);
    self->queries_ += x->rows;
    return self->api_->predict_proba(self->instance_.raw(), job.handle(), x, out);
  };
  if (h.has_gradient)
    h.loss_gradient = [](void* ctx, const secmlops_matrix* x, const int32_t* y,
                         double* out) noexcept -> secmlops_status {
      auto* self = static_cast<ModelSession*>(ctx);
      if (x == nullptr || y == nullptr || out == nullptr) return SECMLOPS_ERR_INVALID_ARGUMENT;
      if (self->handle_cancel_ && self->handle_cancel_->cancelled()) return SECMLOPS_ERR_CANCELLED;
      RecordingJob job(nullptr);
      job.set_cancel_token(self->handle_cancel_);
      self->queries_ += x->rows;  // a gradient is a (white-box) query too
      return self->api_->loss_gradient(self->instance_.raw(), job.handle(), x, y, out);
    };
  return h;
}

}  // namespace secmlops::host
