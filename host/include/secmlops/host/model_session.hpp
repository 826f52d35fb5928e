#pragma once

#include "secmlops/host/emitted.hpp"
#include "secmlops/host/job.hpp"
#include "secmlops/host/key_values.hpp"
#include "secmlops/host/matrix.hpp"
#include "secmlops/host/plugin_instance.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::host {

// A model plugin instance with the host-side checks every caller needs: shapes are validated
// before anything crosses the ABI, outputs are allocated by the host, and errors become
// PluginError with the plugin's own explanation.
class ModelSession {
 public:
  explicit ModelSession(const Plugin& plugin, const KeyValues& config = {});

  void fit(const DenseMatrix& x, const std::vector<int32_t>& y, const KeyValues& params,
           Emitted* emitted = nullptr);
  [[nodiscard]] secmlops_model_info info() const;
  [[nodiscard]] DenseMatrix predict_proba(const DenseMatrix& x) const;
  [[nodiscard]] std::vector<int32_t> predict(const DenseMatrix& x) const;
  [[nodiscard]] bool has_gradient() const;
  [[nodiscard]] DenseMatrix loss_gradient(const DenseMatrix& x,
                                          const std::vector<int32_t>& y) const;
  [[nodiscard]] Emitted describe() const;
  [[nodiscard]] std::vector<uint8_t> export_onnx() const;
  // Returns false when the plugin answers UNSUPPORTED (the graph is not one it represents).
  bool import_onnx(const std::vector<uint8_t>& bytes);
  // The plugin's explanation of its last failed or declined call (e.g. why import_onnx
  // answered UNSUPPORTED).
  [[nodiscard]] std::string last_error() const { return instance_.last_error(); }

  [[nodiscard]] const Plugin& plugin() const { return instance_.plugin(); }
  // Rows evaluated through predict_proba and loss_gradient since creation.
  [[nodiscard]] uint64_t queries() const { return queries_.load(); }
  // The host-mediated handle handed to attacks (counts queries, honours `cancel`).
  [[nodiscard]] secmlops_model_handle handle(std::shared_ptr<CancelToken> cancel = nullptr);

 private:
  [[nodiscard]] bool can(uint64_t capability) const;
  void check_features(const DenseMatrix& x) const;
  void check_labels(const DenseMatrix& x, const std::vector<int32_t>& y, uint32_t classes) const;

  Instance instance_;
  const secmlops_model_api* api_;
  mutable std::atomic<uint64_t> queries_{0};
  std::shared_ptr<CancelToken> handle_cancel_;
};

// A job that records metrics and properties (fit, describe, attacks).
class RecordingJob final : public JobContext {
 public:
  explicit RecordingJob(Emitted* sink) : sink_(sink) {}
  secmlops_status on_metric(const char* key, double value, int64_t step) override;
  secmlops_status on_property(const char* key, const char* value) override;

 private:
  Emitted* sink_;
};

}  // namespace secmlops::host
