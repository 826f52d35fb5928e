// Random access to the bytes being scanned, abstracted so the parser runs the same over a
// host stream (zero-copy views with a buffered fallback), a memory buffer (tests, fuzzers) or
// an mmap (benchmarks).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace secmlops::plugins::pickle {

class Input {
 public:
  virtual ~Input() = default;
  [[nodiscard]] virtual uint64_t size() const = 0;
  // A pointer to min(len, size() - offset) bytes at `offset`, valid until the next call.
  // `offset` must be <= size(). Throws on I/O failure.
  virtual const uint8_t* window(uint64_t offset, uint64_t len) = 0;
  // Throws when the caller wants the work to stop (host cancellation, time limit).
  virtual void check_cancelled() {}
};

class MemoryInput final : public Input {
 public:
  MemoryInput(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  [[nodiscard]] uint64_t size() const override { return size_; }
  const uint8_t* window(uint64_t offset, uint64_t) override { return data_ + offset; }

 private:
  const uint8_t* data_;
  uint64_t size_;
};

}  // namespace secmlops::plugins::pickle
