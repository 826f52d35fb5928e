#include "upload_limits.hpp"

#include <vector>

namespace secmlops::server {

UploadLimits::UploadLimits(UploadBudgets budgets) : budgets_(budgets), thread_([this] { run(); }) {}

UploadLimits::~UploadLimits() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool UploadLimits::reserve(std::atomic<uint64_t>& used, uint64_t limit, uint64_t n) {
  uint64_t cur = used.load();
  do {
    if (cur + n > limit || cur + n < cur) return false;
  } while (!used.compare_exchange_weak(cur, cur + n));
  return true;
}

bool UploadLimits::try_enter() { return reserve(active_, budgets_.max_concurrent, 1); }
void UploadLimits::leave() { active_.fetch_sub(1); }
bool UploadLimits::try_reserve_memory(uint64_t n) {
  return reserve(memory_, budgets_.memory_bytes, n);
}
void UploadLimits::release_memory(uint64_t n) { memory_.fetch_sub(n); }
bool UploadLimits::try_reserve_disk(uint64_t n) { return reserve(disk_, budgets_.disk_bytes, n); }
void UploadLimits::release_disk(uint64_t n) { disk_.fetch_sub(n); }

void UploadLimits::watch(const void* key, std::function<void()> on_expiry) {
  std::lock_guard lock(mu_);
  watched_[key] = {std::chrono::steady_clock::now(), std::move(on_expiry)};
}

void UploadLimits::touch(const void* key) {
  std::lock_guard lock(mu_);
  if (auto it = watched_.find(key); it != watched_.end())
    it->second.last = std::chrono::steady_clock::now();
}

void UploadLimits::unwatch(const void* key) {
  std::unique_lock lock(mu_);
  // The expiry callback itself may end the call and land here, on the watcher thread.
  if (std::this_thread::get_id() != thread_.get_id())
    cv_.wait(lock, [&] { return expiring_ != key; });
  watched_.erase(key);
}

void UploadLimits::run() {
  if (budgets_.idle_seconds <= 0) return;
  const auto idle = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(budgets_.idle_seconds));
  const auto tick =
      std::min<std::chrono::steady_clock::duration>(idle / 4, std::chrono::milliseconds(500));
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, tick, [&] { return stopping_; });
    auto now = std::chrono::steady_clock::now();
    std::vector<const void*> expired;
    for (const auto& [key, w] : watched_)
      if (now - w.last >= idle) expired.push_back(key);
    for (const void* key : expired) {
      auto it = watched_.find(key);
      if (it == watched_.end()) continue;
      auto fn = std::move(it->second.on_expiry);
      watched_.erase(it);
      // Run outside the lock (the callback may finish the call, whose teardown unwatches);
      // unwatch() of this key waits until it has returned.
      expiring_ = key;
      lock.unlock();
      fn();
      lock.lock();
      expiring_ = nullptr;
      cv_.notify_all();
    }
  }
}

}  // namespace secmlops::server
