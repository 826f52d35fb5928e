#include "keys.hpp"

#include "secmlops/host/signing.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

namespace secmlops::host::signing {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio memory_bio(std::string_view bytes) {
  return Bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string curve_of(EVP_PKEY* key) {
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1)
    return {};
  return name;
}

const EVP_MD* digest_for(EVP_PKEY* key) {
  auto c = curve_of(key);
  if (c == "prime256v1" || c == "P-256") return EVP_sha256();
  if (c == "secp384r1" || c == "P-384") return EVP_sha384();
  if (c == "secp521r1" || c == "P-521") return EVP_sha512();
  return nullptr;
}

int password_callback(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* password = static_cast<const std::string*>(u);
  if (password->empty() || static_cast<int>(password->size()) > size) return -1;
  std::memcpy(buf, password->data(), password->size());
  return static_cast<int>(password->size());
}

}  // namespace

std::string openssl_error() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::string signature_algorithm(EVP_PKEY* key) {
  const EVP_MD* md = digest_for(key);
  if (md == nullptr) return {};
  const char* curve = md == EVP_sha256() ? "p256" : md == EVP_sha384() ? "p384" : "p521";
  return std::string("ecdsa-") + curve + "-sha" + std::to_string(EVP_MD_get_size(md) * 8);
}

std::string unsupported_key(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return "only elliptic-curve keys are supported";
  if (!digest_for(key)) return "unsupported curve '" + curve_of(key) + "' (P-256, P-384 or P-521)";
  return {};
}

Pkey load_private_key(std::string_view pem, const std::string& password) {
  ERR_clear_error();
  auto bio = memory_bio(pem);
  std::string pw = password;
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, password_callback, &pw));
  if (!key)
    throw UnusableInput("private key: not a PEM private key, or wrong password (" +
                        openssl_error() + ")");
  if (auto why = unsupported_key(key.get()); !why.empty())
    throw UnusableInput("private key: " + why);
  return key;
}

Pkey load_public_key(std::string_view pem_or_der) {
  ERR_clear_error();
  auto bio = memory_bio(pem_or_der);
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    const auto* p = reinterpret_cast<const unsigned char*>(pem_or_der.data());
    key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(pem_or_der.size())));
  }
  if (!key)
    throw UnusableInput("public key: not a PEM or DER public key (" + openssl_error() + ")");
  if (auto why = unsupported_key(key.get()); !why.empty())
    throw UnusableInput("public key: " + why);
  return key;
}

std::vector<Cert> load_certificates(std::string_view pem, const char* what) {
  ERR_clear_error();
  auto bio = memory_bio(pem);
  std::vector<Cert> out;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();
  if (out.empty()) throw UnusableInput(std::string(what) + ": no PEM certificate found");
  return out;
}

Cert certificate_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Cert c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (c && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) c.reset();
  return c;
}

std::string certificate_der(X509* cert) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);
  if (len <= 0) throw std::runtime_error("cannot encode a certificate: " + openssl_error());
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string certificate_subject(X509* cert) {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

std::string public_key_hint(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1)
    throw std::runtime_error("cannot encode a public key: " + openssl_error());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return sha256_hex(std::string_view(data, static_cast<size_t>(len)));
}

std::string ecdsa_sign(EVP_PKEY* key, std::string_view message) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(key), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    throw std::runtime_error("ECDSA signing failed: " + openssl_error());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    throw std::runtime_error("ECDSA signing failed: " + openssl_error());
  sig.resize(len);
  return sig;
}

bool ecdsa_verify(EVP_PKEY* key, std::string_view message, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const EVP_MD* md = digest_for(key);
  if (!ctx || !md || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) return false;
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();
  return rc == 1;
}

}  // namespace secmlops::host::signing
