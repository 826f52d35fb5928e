#pragma once

// Work spread over threads for model training and batch prediction (header-only).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
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

// Runs body(i) for i in [0, count) on up to `jobs` threads; rethrows the first exception.
template <class F>
void parallel_for(size_t count, int jobs, F&& body) {
  if (jobs <= 1 || count <= 1) {
    for (size_t i = 0; i < count; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < count;) {
      try {
        body(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = count;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace secmlops::models
