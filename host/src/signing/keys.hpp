#pragma once

// OpenSSL handles for keys and certificates, and the ECDSA operations of the format.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::host::signing {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

// The OpenSSL error queue as one line (emptied).
std::string openssl_error();

// PEM private key, optionally encrypted; must be EC on P-256, P-384 or P-521. Throws
// UnusableInput.
Pkey load_private_key(std::string_view pem, const std::string& password);
// PEM (or DER) SubjectPublicKeyInfo; same curve rule. Throws UnusableInput.
Pkey load_public_key(std::string_view pem_or_der);
// Every certificate of a PEM text, in order. Throws UnusableInput when there is none.
std::vector<Cert> load_certificates(std::string_view pem, const char* what);
Cert certificate_from_der(std::string_view der);
std::string certificate_der(X509* cert);
std::string certificate_subject(X509* cert);

// Hex SHA-256 of the key's SubjectPublicKeyInfo PEM: the bundle's publicKey.hint.
std::string public_key_hint(EVP_PKEY* key);
// The ECDSA variant the key signs with: "ecdsa-p256-sha256", "ecdsa-p384-sha384" or
// "ecdsa-p521-sha512" ("" for an unsupported key).
std::string signature_algorithm(EVP_PKEY* key);
// Empty when the key is on a supported curve, else why not.
std::string unsupported_key(EVP_PKEY* key);

// ECDSA (DER signature) with the curve's hash: SHA-256/384/512 for P-256/384/521.
std::string ecdsa_sign(EVP_PKEY* key, std::string_view message);
bool ecdsa_verify(EVP_PKEY* key, std::string_view message, std::string_view signature);

}  // namespace secmlops::host::signing
