#include "model_store.hpp"

#include "secmlops/host/clock.hpp"

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

CallerScope::CallerScope(std::string identity) : previous_(std::move(t_caller)) {
  t_caller = std::move(identity);
}
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
  model->summary.set_created_at(host::now_rfc3339());
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

}  // namespace secmlops::server
