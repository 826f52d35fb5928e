// The one read position shared by every reader of a scan: windows of the input fetched on
// demand, so a multi-gigabyte file is walked with about one window resident.
#pragma once

#include "input.hpp"

#include <cstdint>

namespace secmlops::plugins::pickle {

// Reads [offset, offset+len) of an Input through windows that are re-fetched on demand.
// One cursor per scan: every reader shares it, so no pointer outlives the next read.
class Cursor {
 public:
  Cursor(Input& in, uint64_t window_bytes = 1u << 20) : in_(in), chunk_(window_bytes) {}
  // Pointer to n bytes at off, or nullptr when they lie beyond the end of the input.
  const uint8_t* need(uint64_t off, uint64_t n) {
    // One subtraction covers off < start_ (it wraps to a huge value) and overflow of off + n.
    const uint64_t d = off - start_;
    if (d <= len_ && n <= len_ - d) [[likely]]
      return base_ + d;
    return refill(off, n);
  }
  [[nodiscard]] uint64_t size() const { return size_; }
  Input& input() { return in_; }

 private:
  const uint8_t* refill(uint64_t off, uint64_t n);
  Input& in_;
  uint64_t chunk_;
  uint64_t size_ = in_.size();
  const uint8_t* base_ = nullptr;
  uint64_t start_ = 0, len_ = 0;
};

}  // namespace secmlops::plugins::pickle
