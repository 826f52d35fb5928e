#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace secmlops::server {

// What all uploads together may hold: a number of streams open at once, bytes buffered in
// memory, bytes spilled to disk; and how long a stream may stay silent before it is ended.
struct UploadBudgets {
  uint64_t max_concurrent = 64;
  uint64_t memory_bytes = 256ull << 20;
  uint64_t disk_bytes = 4ull << 30;
  double idle_seconds = 30;
};

// Counts what uploads hold against the budgets (lock-free reservations) and ends streams that
// went idle: a watcher thread calls each silent stream's expiry callback once.
class UploadLimits {
 public:
  explicit UploadLimits(UploadBudgets budgets);
  ~UploadLimits();
  UploadLimits(const UploadLimits&) = delete;
  UploadLimits& operator=(const UploadLimits&) = delete;

  [[nodiscard]] const UploadBudgets& budgets() const { return budgets_; }
  bool try_enter();
  void leave();
  bool try_reserve_memory(uint64_t n);
  void release_memory(uint64_t n);
  bool try_reserve_disk(uint64_t n);
  void release_disk(uint64_t n);

  // Idle watch: `on_expiry` runs on the watcher thread, at most once, while the key is watched;
  // unwatch() waits for a running expiry of that key to return.
  void watch(const void* key, std::function<void()> on_expiry);
  void touch(const void* key);
  void unwatch(const void* key);

  [[nodiscard]] uint64_t active() const { return active_.load(); }
  [[nodiscard]] uint64_t memory_used() const { return memory_.load(); }
  [[nodiscard]] uint64_t disk_used() const { return disk_.load(); }

 private:
  static bool reserve(std::atomic<uint64_t>& used, uint64_t limit, uint64_t n);
  void run();

  UploadBudgets budgets_;
  std::atomic<uint64_t> active_{0}, memory_{0}, disk_{0};
  struct Watched {
    std::chrono::steady_clock::time_point last;
    std::function<void()> on_expiry;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<const void*, Watched> watched_;
  const void* expiring_ = nullptr;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace secmlops::server
