#include "secmlops/host/digest.hpp"

#include "secmlops/host/stream.hpp"

// Nettle rather than OpenSSL: the same SHA-NI speed, and a small library a command that reads a
// CSV can load in a fraction of libcrypto's start-up cost (docs/benchmarks.md "Start-up").
#include <nettle/sha2.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace secmlops::host {

namespace {

class Sha256 {
 public:
  Sha256() { sha256_init(&ctx_); }
  void update(const void* data, size_t n) {
    sha256_update(&ctx_, n, static_cast<const uint8_t*>(data));
  }
  std::array<uint8_t, 32> digest() {
    std::array<uint8_t, 32> md;
    sha256_digest(&ctx_, md.size(), md.data());
    return md;
  }
  std::string hex() {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (uint8_t c : digest()) {
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    return out;
  }

 private:
  sha256_ctx ctx_;
};

}  // namespace

std::array<uint8_t, 32> sha256(std::string_view bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.digest();
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex();
}

std::string sha256_stream(const Stream& stream) {
  Sha256 h;
  const uint64_t size = stream.size();
  // Sized to the file and left uninitialised: a small file must not pay for clearing (and
  // faulting in) a megabyte it never uses.
  const size_t cap = static_cast<size_t>(std::clamp<uint64_t>(size, 1, 1 << 20));
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(cap);
  for (uint64_t off = 0; off < size;) {
    size_t n =
        stream.read_at(off, buf.get(), static_cast<size_t>(std::min<uint64_t>(cap, size - off)));
    if (n == 0)
      throw std::runtime_error("the file shrank while it was read (" + std::to_string(off) +
                               " of " + std::to_string(size) + " bytes left)");
    h.update(buf.get(), n);
    off += n;
  }
  return h.hex();
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open to compute its digest");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error(path.string() + ": read error while computing its digest");
  return h.hex();
}

}  // namespace secmlops::host
