#pragma once

#include "secmlops/host/stream.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace secmlops::host::containers {

// Collects inflated bytes: in memory up to `threshold`, then in an unlinked temp file that is
// mapped read-only at the end, so that view() still gives scanners zero-copy access while the
// resident memory stays small (the kernel pages the file in and out as needed).
// Spill into memory-backed files (memfd) instead of the temp directory: for a sandboxed scan
// worker, which may not open paths.
void spill_to_memfd(bool on);

// Thrown by append when the process-wide spill budget would be exceeded.
struct SpillBudgetExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Bytes currently spilled by all buffers and spilled streams of the process.
uint64_t spilled_bytes();

class SpillBuffer {
 public:
  SpillBuffer(uint64_t threshold, uint64_t max_spill)
      : threshold_(threshold), max_spill_(max_spill) {}
  ~SpillBuffer();
  SpillBuffer(const SpillBuffer&) = delete;
  SpillBuffer& operator=(const SpillBuffer&) = delete;

  void append(const uint8_t* data, size_t len);  // throws std::runtime_error on I/O errors
  [[nodiscard]] uint64_t size() const { return size_; }
  // Hands the bytes over as a stream; the buffer is empty afterwards.
  std::shared_ptr<const Stream> finish();

 private:
  uint64_t threshold_;
  uint64_t max_spill_;
  uint64_t spilled_ = 0;  // reserved against the process-wide budget
  uint64_t size_ = 0;
  std::vector<uint8_t> memory_;
  int fd_ = -1;
};

}  // namespace secmlops::host::containers
