#pragma once

// Little helpers for reading fixed-size records out of a Stream without trusting any length.
#include "secmlops/host/printable.hpp"
#include "secmlops/host/stream.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace secmlops::host::containers {

// Copies exactly n bytes at offset; false when the stream is shorter. Container code reads
// through read_at, never view(): on a file, read_at copies through the kernel, so scattered
// header reads never map page-cache folios (up to 2 MiB each) into the process.
inline bool read_exact(const Stream& s, uint64_t offset, void* out, size_t n) {
  if (offset > s.size() || n > s.size() - offset) return false;
  return s.read_at(offset, out, n) == n;
}

inline uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t le64(const uint8_t* p) {
  return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32);
}

using host::printable;

}  // namespace secmlops::host::containers
