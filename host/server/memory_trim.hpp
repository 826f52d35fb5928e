#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace secmlops::server {

// Gives memory that glibc's malloc holds free back to the kernel every `interval`.
//
// Why: every gRPC call owns a ~13 KiB arena that is freed only once gRPC's threads have run
// the call's clean-up. When the machine is loaded those threads fall behind while new calls are
// still accepted, so hundreds or thousands of finished calls' arenas are live at once (heap
// profile in docs/benchmarks.md). After the backlog clears the memory is free again, but malloc
// keeps the pages of free chunks inside its arenas: without this, the resident size stays at
// the backlog's high-water mark (a lasting step of several MiB at an unpredictable moment).
// malloc_trim(0) madvises those free pages away. It runs only when at least `min_free_bytes`
// are free and the process's anonymous resident memory grew by a quarter of that since the last
// trim, so an idle or steady server does no work here (a trim takes ~0.2-0.3 ms).
class MemoryTrimmer {
 public:
  MemoryTrimmer(std::chrono::milliseconds interval, uint64_t min_free_bytes);
  ~MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

  // One check-and-trim now; returns whether malloc_trim ran.
  static bool trim_if_worth_it(uint64_t min_free_bytes);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace secmlops::server
