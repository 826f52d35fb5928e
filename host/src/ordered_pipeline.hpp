#pragma once

#include "secmlops/v1/report.pb.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace secmlops::host {

// Runs file scans ahead on helper threads and hands their reports to `emit` in submission order
// (a sorted walk stays sorted). With width 1 every job runs at once on the caller's thread.
// Sandboxed scans parallelise this way: each job in flight (a file, or a batch of small files)
// has a worker process of its own.
// What a job holds while it waits or runs: open files (at most 2 × width such jobs are ahead)
// and bytes already read (at most OrderedPipeline::kAheadBytes in all).
struct JobCost {
  uint64_t bytes = 0;
  bool open_files = true;
};

class OrderedPipeline {
 public:
  OrderedPipeline(unsigned width, std::function<void(v1::FileReport)> emit);
  ~OrderedPipeline();
  OrderedPipeline(const OrderedPipeline&) = delete;
  OrderedPipeline& operator=(const OrderedPipeline&) = delete;

  static constexpr uint64_t kAheadBytes = 32u << 20;
  // A job returns the reports of the files it scanned, in order.
  void submit(std::function<std::vector<v1::FileReport>()> job, JobCost cost = JobCost{});
  // A report that is already known (a skipped entry), kept in order with the others.
  void ready(v1::FileReport report);
  // Emits everything submitted so far.
  void drain();

 private:
  struct Slot {
    std::function<std::vector<v1::FileReport>()> job;
    std::optional<std::vector<v1::FileReport>> result;
    JobCost cost{0, false};
  };
  void emit_front(std::unique_lock<std::mutex>& lock);
  void run();

  unsigned width_;
  std::function<void(v1::FileReport)> emit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Slot>> order_, queue_;
  unsigned open_ahead_ = 0;  // jobs in order_ that hold open files
  uint64_t bytes_ahead_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace secmlops::host
