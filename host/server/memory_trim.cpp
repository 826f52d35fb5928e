#include "memory_trim.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>

namespace secmlops::server {

namespace {

// Resident pages not backed by files (heap, stacks), from /proc/self/statm: resident - shared.
uint64_t anonymous_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0, shared = 0;
  in >> size >> resident >> shared;
  return (resident > shared ? resident - shared : 0) * static_cast<uint64_t>(::getpagesize());
}

}  // namespace

MemoryTrimmer::MemoryTrimmer(std::chrono::milliseconds interval, uint64_t min_free_bytes) {
  if (interval.count() <= 0) return;  // disabled
  thread_ = std::thread([this, interval, min_free_bytes] {
    uint64_t after_last_trim = 0;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
      lock.unlock();
      // Trimmed pages stay counted as free chunks, so "much is free" alone would trim the same
      // memory again every time: also require the process to have grown since the last trim.
      if (anonymous_resident_bytes() >= after_last_trim + min_free_bytes / 4 &&
          trim_if_worth_it(min_free_bytes))
        after_last_trim = anonymous_resident_bytes();
      lock.lock();
    }
  });
}

MemoryTrimmer::~MemoryTrimmer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool MemoryTrimmer::trim_if_worth_it(uint64_t min_free_bytes) {
  // fordblks: bytes in free chunks across all arenas (including pages already given back).
  const size_t free_bytes = mallinfo2().fordblks;
  if (free_bytes < min_free_bytes) return false;
  const auto start = std::chrono::steady_clock::now();
  const int released = malloc_trim(0);
  spdlog::debug("malloc_trim: {} KiB free in malloc's arenas, {} in {} us", free_bytes / 1024,
                released ? "pages released" : "nothing to release",
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count());
  return true;
}

}  // namespace secmlops::server
