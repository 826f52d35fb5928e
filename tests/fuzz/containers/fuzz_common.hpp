#pragma once

// Shared by the container fuzz targets: small limits so that every path (limits included) is
// reached quickly, and members opened and expanded one level further.
#include "secmlops/host/containers.hpp"

#include <cstring>

namespace secmlops::fuzz {

inline host::containers::Limits small_limits() {
  host::containers::Limits l;
  l.max_depth = 3;
  l.max_total_decompressed = 1 << 20;
  l.max_member_size = 512 << 10;
  l.max_ratio = 50;
  l.ratio_floor = 64 << 10;
  l.max_members = 256;
  l.memory_threshold = 32 << 10;  // exercise the spill-to-file path too
  l.max_crc_bytes = 256 << 10;
  return l;
}

// Touches every byte of a member the way a scanner would (view, then read_at).
inline void consume(const host::Stream& s) {
  uint64_t n = s.size();
  if (const uint8_t* v = s.view(0, n); v != nullptr && n > 0) {
    volatile uint8_t sink = v[0] ^ v[n - 1];
    (void)sink;
  }
  uint8_t buf[64];
  (void)s.read_at(n > 64 ? n - 64 : 0, buf, sizeof buf);
  (void)host::containers::crc32_of(s);
}

inline void expand_all(const std::shared_ptr<const host::Stream>& s, host::containers::Budget& b,
                       int depth) {
  if (depth > 2) return;
  for (auto kind : host::containers::detect(*s)) {
    auto ex = host::containers::expand(kind, s, b);
    for (auto& m : ex.members) {
      auto o = m.open(b);
      if (o.stream) {
        consume(*o.stream);
        expand_all(o.stream, b, depth + 1);
      }
      if (o.trailing) consume(*o.trailing);
    }
  }
}

inline std::shared_ptr<const host::Stream> to_stream(const uint8_t* data, size_t size) {
  return std::make_shared<host::MemoryStream>(std::vector<uint8_t>(data, data + size));
}

}  // namespace secmlops::fuzz
