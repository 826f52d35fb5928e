#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace secmlops::server {

// A fixed set of threads for CPU work (scans, training, attacks), so gRPC's own threads only
// move bytes. The queue is bounded: when it is full, try_submit refuses and the caller answers
// RESOURCE_EXHAUSTED instead of piling up work and memory.
class WorkerPool {
 public:
  WorkerPool(unsigned threads, size_t max_queued);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  [[nodiscard]] bool try_submit(std::function<void()> task);
  // Finishes the queued tasks, then joins the threads.
  void stop();
  [[nodiscard]] unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t max_queued_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace secmlops::server
