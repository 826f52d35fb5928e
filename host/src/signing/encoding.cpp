// The byte-level pieces of the format: base64, hex, DSSE's PAE, the in-toto statement.
#include "secmlops/host/signing.hpp"

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include <array>

namespace secmlops::host::signing {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += table[(v >> s) & 63];
  }
  if (size_t rest = bytes.size() - i) {
    uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += rest == 2 ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  static const std::array<int8_t, 256> value = [] {
    std::array<int8_t, 256> v{};
    v.fill(-1);
    const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(t[i])] = static_cast<int8_t>(i);
    v['-'] = 62;
    v['_'] = 63;
    return v;
  }();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) throw std::invalid_argument("base64 text has an impossible length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : text) {
    // NOLINTNEXTLINE(bugprone-signed-char-misuse): the table's -1 marks a byte outside the alphabet
    int v = value[c];
    if (v < 0) throw std::invalid_argument("base64 text holds a character outside the alphabet");
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

std::string root_digest(const std::vector<Resource>& resources) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (const auto& r : resources) {
    std::string raw;
    raw.reserve(r.digest.size() / 2);
    for (size_t i = 0; i + 1 < r.digest.size(); i += 2)
      raw += static_cast<char>(std::stoi(r.digest.substr(i, 2), nullptr, 16));
    EVP_DigestUpdate(ctx.get(), raw.data(), raw.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string statement_json(const Manifest& m) {
  using json = nlohmann::ordered_json;
  json serialization = {{"method", m.method == Method::files ? "files" : "shards"},
                        {"hash_type", m.hash_type}};
  if (m.method == Method::shards) serialization["shard_size"] = m.shard_size;
  serialization["allow_symlinks"] = m.allow_symlinks;
  serialization["ignore_paths"] = m.ignore_paths;
  json resources = json::array();
  for (const auto& r : m.resources)
    resources.push_back({{"name", r.name}, {"algorithm", r.algorithm}, {"digest", r.digest}});
  json statement = {
      {"_type", kStatementType},
      {"subject",
       json::array({{{"name", m.model_name}, {"digest", {{"sha256", root_digest(m.resources)}}}}})},
      {"predicateType", kPredicateType},
      {"predicate", {{"serialization", serialization}, {"resources", resources}}},
  };
  return statement.dump();
}

}  // namespace secmlops::host::signing
