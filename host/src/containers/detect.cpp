// Recognising containers by content, and expanding single-stream compression.
#include "containers/bytes.hpp"
#include "containers/tar_header.hpp"
#include "secmlops/host/containers.hpp"
#include "secmlops/v1/report.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace secmlops::host::containers {
namespace {

// An end-of-central-directory record near the end that points at a directory: a zip appended
// to something else (or a zip with data prepended) is still a zip to loaders.
bool has_zip_end_record(const Stream& s) {
  uint64_t size = s.size();
  if (size < 22) return false;
  uint64_t lo = size >= 22 + 65535 ? size - 22 - 65535 : 0;
  uint64_t span = size - lo;
  std::vector<uint8_t> copy(span);
  if (s.read_at(lo, copy.data(), span) != span) return false;
  const uint8_t* tail = copy.data();
  // memrchr finds candidate 'P' bytes at memory speed (tensor bytes rarely hold many).
  for (uint64_t limit = span - 22 + 1; limit > 0;) {
    const auto* hit = static_cast<const uint8_t*>(::memrchr(tail, 'P', limit));
    if (hit == nullptr) break;
    uint64_t i = static_cast<uint64_t>(hit - tail);
    limit = i;
    const uint8_t* p = hit;
    if (le32(p) != 0x06054b50) continue;
    uint64_t pos = lo + i;
    // A comment declared longer than the bytes left still opens in Python's zipfile: such a
    // record counts when it points at a directory (zip_reader.cpp, HOST-ZIP-COMMENT-OVERRUN).
    bool overrun = pos + 22 + le16(p + 20) > size;
    uint64_t entries = le16(p + 10), cd_size = le32(p + 12), cd_offset = le32(p + 16);
    if (entries == 0 && cd_size == 0) {
      if (overrun) continue;
      return true;
    }
    uint8_t sig[4];
    if (read_exact(s, cd_offset, sig, 4) && le32(sig) == 0x02014b50) return true;
    if (pos >= cd_size && read_exact(s, pos - cd_size, sig, 4) && le32(sig) == 0x02014b50)
      return true;
    if (pos >= 20 && read_exact(s, pos - 20, sig, 4) && le32(sig) == 0x07064b50) return true;
  }
  return false;
}

bool lzma_alone_header(const uint8_t* h, size_t n) {
  if (n < 13 || h[0] >= 225) return false;
  uint32_t dict = le32(h + 1);
  uint64_t usize = le64(h + 5);
  bool pow2ish = false;
  for (int b = 12; b <= 30 && !pow2ish; ++b)
    pow2ish = dict == (1u << b) || dict == (1u << b) + (1u << (b - 1));
  return pow2ish && (usize == UINT64_MAX || usize < (1ull << 42));
}

}  // namespace

std::vector<Kind> detect(const Stream& s) {
  std::vector<Kind> kinds;
  std::array<uint8_t, 512> h{};
  size_t n = static_cast<size_t>(std::min<uint64_t>(h.size(), s.size()));
  if (n == 0) return kinds;
  n = s.read_at(0, h.data(), n);
  auto starts = [&](std::initializer_list<uint8_t> m) {
    return n >= m.size() && std::equal(m.begin(), m.end(), h.begin());
  };
  if (starts({'P', 'K', 3, 4}) || starts({'P', 'K', 5, 6}) || starts({'P', 'K', 7, 8}) ||
      has_zip_end_record(s))
    kinds.push_back(Kind::zip);
  if (n == 512 && tar_checksum_ok(h.data())) kinds.push_back(Kind::tar);
  if (starts({0x1f, 0x8b, 0x08})) kinds.push_back(Kind::gzip);
  if (n >= 10 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h' && h[3] >= '1' && h[3] <= '9' &&
      (std::equal(h.begin() + 4, h.begin() + 10,
                  std::array<uint8_t, 6>{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}.begin()) ||
       std::equal(h.begin() + 4, h.begin() + 10,
                  std::array<uint8_t, 6>{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}.begin())))
    kinds.push_back(Kind::bzip2);
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) kinds.push_back(Kind::xz);
  if (starts({0x04, 0x22, 0x4d, 0x18})) kinds.push_back(Kind::lz4);
  if (starts({'7', 'z', 0xbc, 0xaf, 0x27, 0x1c})) kinds.push_back(Kind::sevenzip);
  if (starts({'R', 'a', 'r', '!', 0x1a, 0x07})) kinds.push_back(Kind::rar);
  // Weak magics: the engine drops them silently when nothing inflates.
  if (n >= 2 && h[0] == 0x78 && ((h[0] << 8) | h[1]) % 31 == 0 && (h[1] & 0x20) == 0)
    kinds.push_back(Kind::zlib);
  if (lzma_alone_header(h.data(), n)) kinds.push_back(Kind::lzma);
  return kinds;
}

namespace {

Codec codec_of(Kind k) {
  switch (k) {
    case Kind::gzip:
      return Codec::gzip;
    case Kind::zlib:
      return Codec::zlib;
    case Kind::bzip2:
      return Codec::bzip2;
    case Kind::xz:
      return Codec::xz;
    case Kind::lzma:
      return Codec::lzma_alone;
    default:
      return Codec::lz4_frame;
  }
}

bool all_zero(const Stream& s, uint64_t from, Budget& b) {
  std::array<uint8_t, 1 << 14> buf;
  for (uint64_t off = from; off < s.size();) {
    size_t n = s.read_at(off, buf.data(), buf.size());
    if (n == 0) break;
    if (std::any_of(buf.begin(), buf.begin() + static_cast<long>(n),
                    [](uint8_t c) { return c != 0; }))
      return false;
    off += n;
    b.check_cancel();
  }
  return true;
}

}  // namespace

Expansion expand(Kind kind, const std::shared_ptr<const Stream>& stream, Budget& budget) {
  if (kind == Kind::zip) return read_zip(stream, budget);
  if (kind == Kind::tar) return read_tar(stream, budget);
  if (kind == Kind::sevenzip || kind == Kind::rar) return read_libarchive(kind, stream, budget);
  Expansion e;
  e.kind = kind;
  Member m;
  m.name = fmt::format("[{}]", format_name(kind));
  m.offset = 0;
  m.open = [stream, kind](Budget& b) {
    uint64_t consumed = 0;
    Opened o = decompress(codec_of(kind), stream, 0, stream->size(), b, std::nullopt, &consumed);
    // Bytes after the compressed data: decompressors stop there, so they could hide anything.
    if (o.error.empty() && !o.limit && consumed < stream->size() &&
        !all_zero(*stream, consumed, b)) {
      o.anomalies.push_back(
          {v1::MEDIUM, "HOST-COMPRESSED-TRAILING-DATA",
           fmt::format("{} bytes after the end of the {} data; scanned as their own stream",
                       stream->size() - consumed, format_name(kind)),
           consumed});
      o.trailing = std::make_shared<SubStream>(stream, consumed, stream->size() - consumed);
    }
    return o;
  };
  ++budget.members;
  e.members.push_back(std::move(m));
  return e;
}

}  // namespace secmlops::host::containers
