#include "model_store.hpp"

#include <chrono>
#include <ctime>
#include <random>

namespace secmlops::server {
namespace {

std::string new_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[24];
  std::snprintf(buf, sizeof buf, "m-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::string now_rfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string ModelStore::refuse_reason(uint64_t memory_bytes) const {
  std::lock_guard lock(mu_);
  return refuse_reason_locked(memory_bytes);
}

std::string ModelStore::refuse_reason_locked(uint64_t memory_bytes) const {
  if (models_.size() >= max_models_)
    return "the server already holds " + std::to_string(models_.size()) + " models (limit " +
           std::to_string(max_models_) + "): delete some with ModelService.Delete";
  if (memory_ + memory_bytes > max_memory_)
    return "model memory limit reached: " + std::to_string(memory_) + " + " +
           std::to_string(memory_bytes) + " bytes > " + std::to_string(max_memory_) +
           ": delete models with ModelService.Delete";
  return {};
}

namespace {
thread_local std::string t_caller;
}  // namespace

CallerScope::CallerScope(std::string identity) : previous_(std::move(t_caller)) { t_caller = std::move(identity); }
CallerScope::~CallerScope() { t_caller = std::move(previous_); }
const std::string& current_caller() { return t_caller; }

std::optional<std::string> ModelStore::add(const std::shared_ptr<StoredModel>& model) {
  std::lock_guard lock(mu_);
  model->owner = current_caller();
  if (auto why = refuse_reason_locked(model->summary.memory_bytes()); !why.empty()) return why;
  std::string id;
  do id = new_id();
  while (models_.count(id) != 0);
  model->summary.set_id(id);
  model->summary.set_created_at(now_rfc3339());
  memory_ += model->summary.memory_bytes();
  models_.emplace(id, model);
  return std::nullopt;
}

std::shared_ptr<StoredModel> ModelStore::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = models_.find(id);
  return it == models_.end() || it->second->owner != current_caller() ? nullptr : it->second;
}

bool ModelStore::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = models_.find(id);
  if (it == models_.end() || it->second->owner != current_caller()) return false;
  memory_ -= it->second->summary.memory_bytes();
  models_.erase(it);  // a running attack keeps its shared_ptr until it finishes
  return true;
}

v1::ListModelsResponse ModelStore::list() const {
  std::lock_guard lock(mu_);
  v1::ListModelsResponse out;
  for (const auto& [id, m] : models_)
    if (m->owner == current_caller()) *out.add_models() = m->summary;
  out.set_memory_bytes(memory_);
  out.set_max_models(max_models_);
  out.set_max_memory_bytes(max_memory_);
  return out;
}

v1::ModelSummary summarise_session(const host::ModelSession& session, const std::string& name) {
  v1::ModelSummary s;
  auto info = session.info();
  s.set_plugin(session.plugin().name());
  s.set_name(name);
  s.set_n_features(info.n_features);
  s.set_n_classes(info.n_classes);
  s.set_has_gradient(session.has_gradient());
  double params = -1;
  for (const auto& [key, value] : session.describe().metrics)
    if (key == "parameters") params = value.first;
  uint64_t count = params >= 0 ? static_cast<uint64_t>(params)
                               : info.n_features * static_cast<uint64_t>(info.n_classes);
  s.set_memory_bytes(4096 + 8 * count);
  return s;
}

}  // namespace secmlops::server
