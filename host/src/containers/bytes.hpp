#pragma once

// Little helpers for reading fixed-size records out of a Stream without trusting any length.
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
inline uint64_t le64(const uint8_t* p) { return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

// A printable rendering of an untrusted name for messages (control bytes escaped, bounded).
inline std::string printable(const std::string& s, size_t max = 200) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() >= max) out += "...";
  return out;
}

}  // namespace secmlops::host::containers
