#include "cursor.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace secmlops::plugins::pickle {

const uint8_t* Cursor::refill(uint64_t off, uint64_t n) {
  if (off > size_ || n > size_ - off) return nullptr;
  uint64_t len = std::min<uint64_t>(std::max<uint64_t>(n, chunk_), size_ - off);
  base_ = in_.window(off, len);
  if (base_ == nullptr)
    throw std::runtime_error("reading the input failed at offset " + std::to_string(off));
  start_ = off;
  len_ = len;
  return base_;
}

}  // namespace secmlops::plugins::pickle
