#include "secmlops/host/digest.hpp"

#include "secmlops/host/stream.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace secmlops::host {

namespace {

using Ctx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

Ctx sha256_context() {
  Ctx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  return ctx;
}

std::string hex_digest(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  auto ctx = sha256_context();
  EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
  return hex_digest(ctx.get());
}

std::string sha256_stream(const Stream& stream) {
  auto ctx = sha256_context();
  const uint64_t size = stream.size();
  // Sized to the file and left uninitialised: a small file must not pay for clearing (and
  // faulting in) a megabyte it never uses.
  const size_t cap = static_cast<size_t>(std::clamp<uint64_t>(size, 1, 1 << 20));
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(cap);
  for (uint64_t off = 0; off < size;) {
    size_t n = stream.read_at(off, buf.get(), static_cast<size_t>(std::min<uint64_t>(cap, size - off)));
    if (n == 0)
      throw std::runtime_error("the file shrank while it was read (" + std::to_string(off) + " of " +
                               std::to_string(size) + " bytes left)");
    EVP_DigestUpdate(ctx.get(), buf.get(), n);
    off += n;
  }
  return hex_digest(ctx.get());
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open to compute its digest");
  auto ctx = sha256_context();
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error(path.string() + ": read error while computing its digest");
  return hex_digest(ctx.get());
}

}  // namespace secmlops::host
