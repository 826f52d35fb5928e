#pragma once

#include "secmlops/host/model_session.hpp"
#include "secmlops/v1/model_service.pb.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::server {

// A model held by the server. A plugin instance serves one thread at a time, so every use of
// `session` holds `mu`.
struct StoredModel {
  std::mutex mu;
  std::string owner;  // the identity of the caller that created it (TokenAuth::identity)
  std::unique_ptr<host::ModelSession> session;
  v1::ModelSummary summary;
  std::vector<std::string> classes;   // class names (training data's labels), index = number
  std::vector<std::string> features;  // input column names, when known
  std::map<std::string, std::string> metadata;  // training figures, as a model file records them
};

// The caller a handler works for, on this thread (set around every handler's work): models are
// owned by the caller that created them, and other callers see NOT_FOUND.
class CallerScope {
 public:
  explicit CallerScope(std::string identity);
  ~CallerScope();
  CallerScope(const CallerScope&) = delete;
  CallerScope& operator=(const CallerScope&) = delete;

 private:
  std::string previous_;
};
const std::string& current_caller();

// The server-side model registry: ids → models, with limits on how many and how much memory.
class ModelStore {
 public:
  ModelStore(uint64_t max_models, uint64_t max_memory_bytes)
      : max_models_(max_models), max_memory_(max_memory_bytes) {}

  // Why a new model of `memory_bytes` cannot be added now (empty = it can).
  [[nodiscard]] std::string refuse_reason(uint64_t memory_bytes) const;
  // Assigns an id, creation time and owner (the current caller) and stores the model; returns
  // the reason on refusal.
  std::optional<std::string> add(const std::shared_ptr<StoredModel>& model);
  // get/remove/list see only the current caller's models.
  [[nodiscard]] std::shared_ptr<StoredModel> get(const std::string& id) const;
  bool remove(const std::string& id);
  [[nodiscard]] v1::ListModelsResponse list() const;

 private:
  [[nodiscard]] std::string refuse_reason_locked(uint64_t memory_bytes) const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<StoredModel>> models_;
  uint64_t memory_ = 0;
  uint64_t max_models_;
  uint64_t max_memory_;
};

}  // namespace secmlops::server
