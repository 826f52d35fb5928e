#include "ordered_pipeline.hpp"

namespace secmlops::host {

OrderedPipeline::OrderedPipeline(unsigned width, std::function<void(v1::FileReport)> emit)
    : width_(width), emit_(std::move(emit)) {
  if (width_ > 1)
    for (unsigned i = 0; i < width_; ++i) threads_.emplace_back([this] { run(); });
}

OrderedPipeline::~OrderedPipeline() {
  drain();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void OrderedPipeline::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto slot = queue_.front();
    queue_.pop_front();
    lock.unlock();
    auto r = slot->job();
    lock.lock();
    slot->result = std::move(r);
    slot->job = nullptr;
    cv_.notify_all();
  }
}

void OrderedPipeline::emit_front(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return order_.front()->result.has_value(); });
  auto slot = order_.front();
  order_.pop_front();
  open_ahead_ -= slot->cost.open_files ? 1 : 0;
  bytes_ahead_ -= slot->cost.bytes;
  lock.unlock();
  for (auto& r : *slot->result) emit_(std::move(r));
  lock.lock();
}

void OrderedPipeline::submit(std::function<std::vector<v1::FileReport>()> job, JobCost cost) {
  if (width_ <= 1) {
    drain();
    for (auto& r : job()) emit_(std::move(r));
    return;
  }
  std::unique_lock lock(mu_);
  auto slot = std::make_shared<Slot>();
  slot->job = std::move(job);
  slot->cost = cost;
  order_.push_back(slot);
  queue_.push_back(slot);
  open_ahead_ += cost.open_files ? 1 : 0;
  bytes_ahead_ += cost.bytes;
  cv_.notify_all();
  // Bounded look-ahead: open files (descriptors are limited) and bytes read ahead.
  while (!order_.empty() && (open_ahead_ > 2 * width_ || bytes_ahead_ > kAheadBytes))
    emit_front(lock);
}

void OrderedPipeline::ready(v1::FileReport report) {
  std::unique_lock lock(mu_);
  if (order_.empty()) {
    lock.unlock();
    emit_(std::move(report));
    return;
  }
  auto slot = std::make_shared<Slot>();
  slot->result.emplace();
  slot->result->push_back(std::move(report));
  order_.push_back(slot);
}

void OrderedPipeline::drain() {
  std::unique_lock lock(mu_);
  while (!order_.empty()) emit_front(lock);
}

}  // namespace secmlops::host
