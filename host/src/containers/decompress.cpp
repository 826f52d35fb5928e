// Bounded decompression of one member or one compressed stream with Debian's zlib, libbz2,
// liblzma and liblz4. Output is checked against the member, total and ratio limits after every
// chunk, so a bomb stops at the limit with the prefix kept for scanning.
#include "containers/limited_output.hpp"
#include "containers/spill_stream.hpp"
#include "secmlops/host/containers.hpp"

#include <bzlib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

namespace secmlops::host::containers {

void Budget::check_cancel() const {
  if (cancel_ && cancel_->cancelled())
    throw std::runtime_error("cancelled (time limit or request)");
}

const char* format_name(Kind kind) {
  switch (kind) {
    case Kind::zip:
      return "zip";
    case Kind::tar:
      return "tar";
    case Kind::gzip:
      return "gzip";
    case Kind::zlib:
      return "zlib";
    case Kind::bzip2:
      return "bzip2";
    case Kind::xz:
      return "xz";
    case Kind::lzma:
      return "lzma";
    case Kind::lz4:
      return "lz4";
    case Kind::sevenzip:
      return "7z";
    case Kind::rar:
      return "rar";
  }
  return "?";
}

uint32_t crc32_of(const Stream& stream) {
  uLong crc = ::crc32(0, nullptr, 0);
  std::vector<uint8_t> buf;
  constexpr uint64_t chunk = 1 << 20;
  for (uint64_t off = 0; off < stream.size(); off += chunk) {
    uint64_t n = std::min(chunk, stream.size() - off);
    buf.resize(n);
    n = stream.read_at(off, buf.data(), n);
    if (n == 0) break;
    crc = ::crc32(crc, buf.data(), static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(crc);
}

namespace {

constexpr size_t kInChunk = 1 << 20;
constexpr size_t kOutChunk = 256 << 10;
// liblzma allocates the dictionary the header asks for: cap it (real models use ≤ 64 MiB).
constexpr uint64_t kLzmaMemLimit = 256ull << 20;

// Hands out the compressed bytes in chunks: zero-copy when the source is mapped.
class Input {
 public:
  Input(const Stream& s, uint64_t offset, uint64_t length)
      : s_(s), start_(offset), pos_(offset), end_(offset + length) {}
  // Compressed bytes handed out so far.
  [[nodiscard]] uint64_t consumed() const { return pos_ - start_; }
  // Next chunk; empty at the end.
  std::pair<const uint8_t*, size_t> next() {
    if (pos_ >= end_) return {nullptr, 0};
    // Copied through read_at rather than viewed: a mapped file would otherwise keep every
    // compressed page it touched resident.
    size_t n = static_cast<size_t>(std::min<uint64_t>(kInChunk, end_ - pos_));
    buf_.resize(n);
    n = s_.read_at(pos_, buf_.data(), n);
    if (n == 0) {
      pos_ = end_;
      return {nullptr, 0};
    }
    pos_ += n;
    return {buf_.data(), n};
  }

 private:
  const Stream& s_;
  uint64_t start_, pos_, end_;
  std::vector<uint8_t> buf_;
};

// Each codec returns "" on a clean end or an error message; `consumed` counts input bytes used.
std::string run_zlib(Input& in, Output& out, int window_bits, bool multi_gzip, uint64_t& consumed) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return "zlib initialisation failed";
  std::array<uint8_t, kOutChunk> obuf;
  std::string err;
  bool ended = false;
  auto refill = [&] {
    auto [p, n] = in.next();
    z.next_in = const_cast<Bytef*>(p);
    z.avail_in = static_cast<uInt>(n);
    return n > 0;
  };
  try {
    while (true) {
      if (z.avail_in == 0 && !refill()) break;
      z.next_out = obuf.data();
      z.avail_out = obuf.size();
      uInt before = z.avail_in;
      int rc = inflate(&z, Z_NO_FLUSH);
      consumed += before - z.avail_in;
      out.put(obuf.data(), obuf.size() - z.avail_out);
      if (rc == Z_STREAM_END) {
        ended = true;
        // gzip files may hold several members back to back; gunzip and Python read them all.
        if (multi_gzip && (z.avail_in > 0 || refill()) && z.avail_in >= 2 && z.next_in[0] == 0x1f &&
            z.next_in[1] == 0x8b) {
          inflateReset(&z);
          ended = false;
          continue;
        }
        break;
      }
      if (rc == Z_BUF_ERROR) {  // needs more input (refilled at the top) or made no progress
        if (z.avail_in > 0 && before == z.avail_in && z.avail_out == obuf.size()) {
          err = fmt::format("compressed data stalls at input byte {}", consumed);
          break;
        }
        continue;
      }
      if (rc != Z_OK) {
        err = fmt::format("corrupt compressed data at input byte {}: {}", consumed,
                          z.msg ? z.msg : "zlib error");
        break;
      }
    }
  } catch (...) {
    inflateEnd(&z);
    throw;
  }
  inflateEnd(&z);
  if (err.empty() && !ended)
    err = fmt::format("compressed data truncated after {} input bytes", consumed);
  return err;
}

std::string run_bzip2(Input& in, Output& out, uint64_t& consumed) {
  bz_stream z{};
  if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) return "bzip2 initialisation failed";
  std::array<uint8_t, kOutChunk> obuf;
  std::string err;
  bool ended = false;
  auto [p, n] = in.next();
  try {
    while (true) {
      if (z.avail_in == 0) {
        if (n == 0) std::tie(p, n) = in.next();
        if (n == 0) break;
        z.next_in = reinterpret_cast<char*>(const_cast<uint8_t*>(p));
        z.avail_in = static_cast<unsigned>(n);
        n = 0;
      }
      z.next_out = reinterpret_cast<char*>(obuf.data());
      z.avail_out = obuf.size();
      unsigned before = z.avail_in;
      int rc = BZ2_bzDecompress(&z);
      consumed += before - z.avail_in;
      out.put(obuf.data(), obuf.size() - z.avail_out);
      if (rc == BZ_STREAM_END) {
        ended = true;
        // Concatenated bzip2 streams (pbzip2, Python's bz2 module reads them all).
        if (z.avail_in == 0) std::tie(p, n) = in.next();
        const char* q = z.avail_in > 0 ? z.next_in : reinterpret_cast<const char*>(p);
        size_t qn = z.avail_in > 0 ? z.avail_in : n;
        if (qn >= 3 && std::memcmp(q, "BZh", 3) == 0) {
          char* keep_in = z.next_in;
          unsigned keep_avail = z.avail_in;
          BZ2_bzDecompressEnd(&z);
          z = bz_stream{};
          if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) return "bzip2 initialisation failed";
          z.next_in = keep_in;
          z.avail_in = keep_avail;
          ended = false;
          continue;
        }
        break;
      }
      if (rc != BZ_OK) {
        err = fmt::format("corrupt bzip2 data at input byte {} (code {})", consumed, rc);
        break;
      }
    }
  } catch (...) {
    BZ2_bzDecompressEnd(&z);
    throw;
  }
  BZ2_bzDecompressEnd(&z);
  if (err.empty() && !ended)
    err = fmt::format("bzip2 data truncated after {} input bytes", consumed);
  return err;
}

std::string run_lzma(Input& in, Output& out, Codec codec, uint64_t& consumed) {
  lzma_stream z = LZMA_STREAM_INIT;
  lzma_ret init;
  lzma_filter filters[2] = {{LZMA_VLI_UNKNOWN, nullptr}, {LZMA_VLI_UNKNOWN, nullptr}};
  auto [p, n] = in.next();
  if (codec == Codec::xz) {
    init = lzma_stream_decoder(&z, kLzmaMemLimit, LZMA_CONCATENATED);
  } else if (codec == Codec::lzma_alone) {
    init = lzma_alone_decoder(&z, kLzmaMemLimit);
  } else {
    // Zip method 14: version (2), properties size (2), properties, then raw LZMA1.
    if (n < 4) return "zip lzma header truncated";
    size_t props = static_cast<size_t>(p[2] | (p[3] << 8));
    if (props != 5 || n < 4 + props) return "zip lzma header has unexpected properties size";
    filters[0].id = LZMA_FILTER_LZMA1;
    if (lzma_properties_decode(&filters[0], nullptr, p + 4, props) != LZMA_OK)
      return "zip lzma properties invalid";
    uint32_t dict_size = static_cast<lzma_options_lzma*>(filters[0].options)->dict_size;
    if (dict_size > kLzmaMemLimit) {
      free(filters[0].options);
      return fmt::format("lzma dictionary of {} bytes exceeds the memory limit", dict_size);
    }
    init = lzma_raw_decoder(&z, filters);
    free(filters[0].options);
    p += 4 + props;
    n -= 4 + props;
    consumed += 4 + props;
  }
  if (init != LZMA_OK)
    return fmt::format("lzma initialisation failed (code {})", static_cast<int>(init));
  std::array<uint8_t, kOutChunk> obuf;
  std::string err;
  bool ended = false;
  try {
    while (true) {
      lzma_action action = LZMA_RUN;
      if (z.avail_in == 0) {
        if (n == 0) std::tie(p, n) = in.next();
        z.next_in = p;
        z.avail_in = n;
        n = 0;
        if (z.avail_in == 0) action = LZMA_FINISH;
      }
      z.next_out = obuf.data();
      z.avail_out = obuf.size();
      size_t before = z.avail_in;
      lzma_ret rc = lzma_code(&z, action);
      consumed += before - z.avail_in;
      out.put(obuf.data(), obuf.size() - z.avail_out);
      if (rc == LZMA_STREAM_END) {
        ended = true;
        break;
      }
      if (rc == LZMA_MEMLIMIT_ERROR) {
        err = fmt::format("lzma data needs more than {} bytes of decoder memory", kLzmaMemLimit);
        break;
      }
      if (rc != LZMA_OK) {
        // Raw LZMA1 in zip may end without an end marker: the input simply runs out.
        if (rc == LZMA_BUF_ERROR && codec == Codec::lzma_zip)
          ended = true;
        else
          err = fmt::format("corrupt lzma/xz data at input byte {} (code {})", consumed,
                            static_cast<int>(rc));
        break;
      }
      if (action == LZMA_FINISH && z.avail_out != 0) {
        if (codec == Codec::lzma_zip) ended = true;
        break;
      }
    }
  } catch (...) {
    lzma_end(&z);
    throw;
  }
  lzma_end(&z);
  if (err.empty() && !ended)
    err = fmt::format("lzma/xz data truncated after {} input bytes", consumed);
  return err;
}

std::string run_lz4(Input& in, Output& out, uint64_t& consumed) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    return "lz4 initialisation failed";
  std::array<uint8_t, kOutChunk> obuf;
  std::string err;
  bool ended = false;
  try {
    for (auto [p, n] = in.next(); n > 0 && !ended;) {
      while (n > 0) {
        size_t dst = obuf.size(), src = n;
        size_t hint = LZ4F_decompress(ctx, obuf.data(), &dst, p, &src, nullptr);
        if (LZ4F_isError(hint)) {
          err = fmt::format("corrupt lz4 frame at input byte {}: {}", consumed + src,
                            LZ4F_getErrorName(hint));
          break;
        }
        consumed += src;
        p += src;
        n -= src;
        out.put(obuf.data(), dst);
        if (hint == 0) {
          ended = true;
          break;
        }
        if (src == 0 && dst == 0) break;
      }
      if (!err.empty()) break;
      if (!ended) std::tie(p, n) = in.next();
    }
  } catch (...) {
    LZ4F_freeDecompressionContext(ctx);
    throw;
  }
  LZ4F_freeDecompressionContext(ctx);
  if (err.empty() && !ended)
    err = fmt::format("lz4 frame truncated after {} input bytes", consumed);
  return err;
}

}  // namespace

Opened decompress(Codec codec, const std::shared_ptr<const Stream>& source, uint64_t offset,
                  uint64_t length, Budget& budget, std::optional<uint32_t> expected_crc,
                  uint64_t* end_consumed) {
  if (offset > source->size()) offset = source->size();
  length = std::min(length, source->size() - offset);
  Input in(*source, offset, length);
  Output out(
      budget, [&in] { return in.consumed(); }, expected_crc);
  uint64_t consumed = 0;
  std::string err;
  try {
    switch (codec) {
      case Codec::deflate_raw:
        err = run_zlib(in, out, -15, false, consumed);
        break;
      case Codec::zlib:
        err = run_zlib(in, out, 15, false, consumed);
        break;
      case Codec::gzip:
        err = run_zlib(in, out, 16 + 15, true, consumed);
        break;
      case Codec::bzip2:
        err = run_bzip2(in, out, consumed);
        break;
      case Codec::xz:
      case Codec::lzma_alone:
      case Codec::lzma_zip:
        err = run_lzma(in, out, codec, consumed);
        break;
      case Codec::lz4_frame:
        err = run_lz4(in, out, consumed);
        break;
    }
  } catch (const LimitStop&) {
    // The limit is recorded in `out`; the prefix inflated so far is kept.
  }
  if (end_consumed) *end_consumed = consumed;
  return out.finish(std::move(err));
}

}  // namespace secmlops::host::containers
