#pragma once

// Work spread over threads for model training and batch prediction (header-only).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace secmlops::models {

// Threads to use: n_jobs when positive, else the hardware's, never more than the work items.
inline int resolve_jobs(int n_jobs, size_t work) {
  int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int n = n_jobs > 0 ? n_jobs : hw;
  return static_cast<int>(std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(n), work)));
}

// Threads kept for a computation that runs many short parallel loops, such as an optimiser's
// objective evaluations: starting threads for every loop would cost more than the loop itself.
// run(count, body) runs body(i) for i in [0, count) on the kept threads and the caller's, and
// rethrows the first exception; it is not re-entrant.
class LoopPool {
 public:
  explicit LoopPool(int jobs) {
    for (int t = 1; t < jobs; ++t) threads_.emplace_back([this] { serve(); });
  }
  ~LoopPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  LoopPool(const LoopPool&) = delete;
  LoopPool& operator=(const LoopPool&) = delete;

  void run(size_t count, const std::function<void(size_t)>& body) {
    if (threads_.empty() || count <= 1) {
      for (size_t i = 0; i < count; ++i) body(i);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      body_ = &body;
      count_ = count;
      next_ = 0;
      busy_ = threads_.size();
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (size_t i; (i = next_.fetch_add(1)) < count_;) {
      try {
        (*body_)(i);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_ = count_;
      }
    }
  }
  void serve() {
    uint64_t seen = 0;
    while (true) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      work();
      std::lock_guard lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* body_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  size_t busy_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

// Threads kept for the life of the module, for a loop whose caller must not wait for a thread that
// has not started: run(count, body) runs body(i) for i in [0, count) on the caller and on whichever
// kept threads wake in time, and returns once every index is done, never waiting for a thread that
// took none (on a busy machine the caller simply does them all). Every index runs, even after an
// error; the first error is rethrown. Calls from several threads at once are safe: each caller
// finishes its own loop.
class SharedPool {
 public:
  explicit SharedPool(int threads) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { serve(); });
  }
  ~SharedPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  SharedPool(const SharedPool&) = delete;
  SharedPool& operator=(const SharedPool&) = delete;

  void run(size_t count, const std::function<void(size_t)>& body) {
    if (threads_.empty() || count <= 1) {
      for (size_t i = 0; i < count; ++i) body(i);
      return;
    }
    auto task = std::make_shared<Task>(body, count);
    {
      std::lock_guard lock(mutex_);
      task_ = task;
    }
    wake_.notify_all();
    work(*task);
    {
      std::unique_lock lock(task->mutex);
      task->finished.wait(lock, [&] { return task->done == count; });
    }
    {
      std::lock_guard lock(mutex_);
      if (task_ == task) task_.reset();
    }
    if (task->error) std::rethrow_exception(task->error);
  }

 private:
  // One loop; a thread that wakes after its indices are all taken only reads `next`.
  struct Task {
    Task(const std::function<void(size_t)>& b, size_t n) : body(&b), count(n) {}
    const std::function<void(size_t)>* body;
    size_t count;
    std::atomic<size_t> next{0};
    std::mutex mutex;
    std::condition_variable finished;
    size_t done = 0;
    std::exception_ptr error;
  };
  static void work(Task& task) {
    for (size_t i; (i = task.next.fetch_add(1)) < task.count;) {
      std::exception_ptr error;
      try {
        (*task.body)(i);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(task.mutex);
      if (error && !task.error) task.error = error;
      if (++task.done == task.count) task.finished.notify_all();
    }
  }
  void serve() {
    std::shared_ptr<Task> seen;
    while (true) {
      std::shared_ptr<Task> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || (task_ != nullptr && task_ != seen); });
        if (stop_) return;
        task = task_;
        seen = task;
      }
      work(*task);
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<Task> task_;
  bool stop_ = false;
};

// This module's SharedPool: one thread per core beside the caller's, at most three; started on
// first use.
inline SharedPool& shared_pool() {
  static SharedPool pool(static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u)) -
                         1);
  return pool;
}

// Runs body(i) for i in [0, count) on up to `jobs` threads started for this loop alone;
// rethrows the first exception.
template <class F>
void parallel_for(size_t count, int jobs, F&& body) {
  if (jobs <= 1 || count <= 1) {
    for (size_t i = 0; i < count; ++i) body(i);
    return;
  }
  LoopPool(jobs).run(count, body);
}

// Row blocks for sums over a data set (loss and gradient): the split depends on the row count
// only, never on the thread count, so every machine adds the same partial sums in the same
// order and training gives the same bits. Small sets are one block: a thread costs more.
struct RowBlocks {
  size_t count;
  size_t rows;  // per block; the last one may be shorter
  [[nodiscard]] size_t begin(size_t b) const { return b * rows; }
  [[nodiscard]] size_t size(size_t b, size_t total) const {
    return std::min(rows, total - begin(b));
  }
};
inline RowBlocks row_blocks(size_t total, size_t min_rows = 2048, size_t max_blocks = 8) {
  const size_t count = std::clamp<size_t>(total / min_rows, 1, max_blocks);
  return {count, (total + count - 1) / count};
}

}  // namespace secmlops::models
