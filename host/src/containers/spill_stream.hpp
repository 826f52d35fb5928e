#pragma once

#include "secmlops/host/stream.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace secmlops::host::containers {

// Collects inflated bytes: in memory up to `threshold`, then in an unlinked temp file that is
// mapped read-only at the end, so that view() still gives scanners zero-copy access while the
// resident memory stays small (the kernel pages the file in and out as needed).
// Spill into memory-backed files (memfd) instead of the temp directory: for a sandboxed scan
// worker, which may not open paths.
void spill_to_memfd(bool on);

class SpillBuffer {
 public:
  explicit SpillBuffer(uint64_t threshold) : threshold_(threshold) {}
  ~SpillBuffer();
  SpillBuffer(const SpillBuffer&) = delete;
  SpillBuffer& operator=(const SpillBuffer&) = delete;

  void append(const uint8_t* data, size_t len);  // throws std::runtime_error on I/O errors
  [[nodiscard]] uint64_t size() const { return size_; }
  // Hands the bytes over as a stream; the buffer is empty afterwards.
  std::shared_ptr<const Stream> finish();

 private:
  uint64_t threshold_;
  uint64_t size_ = 0;
  std::vector<uint8_t> memory_;
  int fd_ = -1;
};

}  // namespace secmlops::host::containers
