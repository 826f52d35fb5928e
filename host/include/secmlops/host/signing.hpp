#pragma once

// Model signing in the OpenSSF model signing format (the format of sigstore's model_signing):
// a Sigstore bundle v0.3 holding a DSSE envelope whose payload is an in-toto Statement v1 with
// the predicate https://model_signing/signature/v1.0 (every file or shard with its digest).
// Key signing (ECDSA P-256/384/521) and certificate-chain signing; OpenSSL only.

#include "secmlops/host/digest.hpp"

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::host::signing {

inline constexpr std::string_view kBundleMediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kPredicateType = "https://model_signing/signature/v1.0";
// The predicate of model_signing 0.2, accepted on verification only.
inline constexpr std::string_view kPredicateTypeV01 = "https://model_signing/Digests/v0.1";
inline constexpr uint64_t kDefaultShardSize = 1'000'000'000;

// The input cannot be used at all: unreadable key, bad PEM, missing model, wrong password.
// Callers answer it with exit status 2 / INVALID_ARGUMENT.
class UnusableInput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The model on disk cannot be hashed as the format requires (a symlink, a device, a file that
// vanished). Signing treats it as unusable input; verification as a failed verification.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Method { files, shards };

struct HashOptions {
  Method method = Method::files;
  uint64_t shard_size = kDefaultShardSize;
  // Paths relative to the model root ('/' separated); a directory ignores everything under it.
  std::vector<std::string> ignore_paths;
  // .git/, .gitattributes, .github/, .gitignore, as model_signing does by default.
  bool ignore_git_paths = true;
  unsigned threads = 0;  // 0: every core
};

struct Resource {
  std::string name;       // path relative to the model root, or "path:start:end" for a shard
  std::string algorithm;  // "sha256"
  std::string digest;     // hex
};

struct Manifest {
  std::string model_name;
  Method method = Method::files;
  std::string hash_type = "sha256";
  uint64_t shard_size = kDefaultShardSize;
  bool allow_symlinks = false;
  std::vector<std::string> ignore_paths;  // as recorded in the predicate
  std::vector<Resource> resources;        // in canonical order
  uint64_t bytes_hashed = 0;
};

// The statement's subject name for a model: its directory (or file) name ("bert" for models/bert/).
std::string model_name(const std::filesystem::path& model);

// Hashes a model file or directory: every regular file (or every shard of it) in parallel over
// `threads` workers, files streamed in 1 MiB reads. Symlinks and special files throw
// ModelError naming them; a missing model throws UnusableInput.
Manifest hash_model(const std::filesystem::path& model, const HashOptions& options);

// Canonical resource order of model_signing: by path components, then shard offsets.
void sort_resources(std::vector<Resource>& resources);
// Hex SHA-256 over the raw (binary) digests of the resources, in the order given.
std::string root_digest(const std::vector<Resource>& resources);
// The in-toto Statement v1 (compact JSON) for a manifest.
std::string statement_json(const Manifest& manifest);
// DSSE pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
std::string pae(std::string_view payload_type, std::string_view payload);

std::string base64_encode(std::string_view bytes);
// Standard or URL-safe alphabet, padding optional; throws std::invalid_argument otherwise.
std::string base64_decode(std::string_view text);
std::string hex(std::string_view bytes);
// sha256_hex (hex SHA-256 of bytes) is in digest.hpp.

struct SignOptions {
  std::filesystem::path model;
  std::string private_key_pem;
  std::string password;  // empty: unencrypted key
  std::string
      certificate_chain_pem;  // signing certificate first, then intermediates; empty: key signing
  HashOptions hashing;
  // Written signature path, ignored when hashing if it lies inside the model.
  std::filesystem::path signature;
};

struct SignOutcome {
  std::string bundle_json;
  Manifest manifest;
  std::string root_digest;
  std::string signer;     // "key sha256:<hint>" or the certificate subject
  std::string algorithm;  // "ecdsa-p256-sha256", "ecdsa-p384-sha384" or "ecdsa-p521-sha512"
};

// Hashes and signs; does not write the signature. Throws UnusableInput or ModelError.
SignOutcome sign_model(const SignOptions& options);

struct VerifyOptions {
  std::filesystem::path model;
  std::string bundle_json;
  std::string public_key_pem;         // key verification, or
  std::string certificate_roots_pem;  // certificate-chain verification against these roots
  std::filesystem::path signature;    // ignored when hashing if inside the model
  std::vector<std::string> extra_ignore_paths;
  unsigned threads = 0;
};

struct VerifyOutcome {
  bool verified = false;
  std::string reason;                 // one line; names the file when a file is at fault
  std::vector<std::string> problems;  // every difference found, one line each
  std::string predicate_type;
  std::string model_name;
  std::string root_digest;
  std::string signer;
  std::string algorithm;  // of the key that checked the signature, once known
  Manifest signed_manifest;
  uint64_t bytes_hashed = 0;
};

// Verifies the bundle's signature, then that the model on disk matches the signed manifest.
// Throws UnusableInput for an unusable key or roots; every other problem is a failed outcome.
VerifyOutcome verify_model(const VerifyOptions& options);

// The default signature path: DIR/model.sig for a directory, FILE.sig for a single file.
std::filesystem::path default_signature_path(const std::filesystem::path& model);

}  // namespace secmlops::host::signing
