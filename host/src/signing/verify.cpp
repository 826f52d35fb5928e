// Verification: bundle → signature over PAE (key or certificate chain) → statement → manifest,
// then the model on disk hashed again as the manifest says and compared item by item.
#include "keys.hpp"
#include "secmlops/host/signing.hpp"
#include "signature_path.hpp"

#include <openssl/x509v3.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace secmlops::host::signing {
namespace {

using json = nlohmann::json;

// A verification failure; the message is the one-line reason.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const json& member(const json& obj, const char* key, const char* where) {
  if (!obj.is_object() || !obj.contains(key))
    throw Failure(std::string("signature: ") + where + " has no '" + key + "'");
  return obj.at(key);
}

std::string string_member(const json& obj, const char* key, const char* where) {
  const json& v = member(obj, key, where);
  if (!v.is_string())
    throw Failure(std::string("signature: ") + where + "." + key + " is not a string");
  return v.get<std::string>();
}

std::string decode(const std::string& text, const char* what) {
  try {
    return base64_decode(text);
  } catch (const std::invalid_argument& e) {
    throw Failure(std::string("signature: ") + what + ": " + e.what());
  }
}

bool is_sha256_hex(const std::string& d) {
  return d.size() == 64 && std::all_of(d.begin(), d.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

struct CertFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

// Validates the bundle's chain against the roots at the current time (there is no trusted
// timestamp to say when it was signed) and returns the signing certificate's key.
Pkey key_from_chain(const json& material, const std::vector<Cert>& roots, std::string& signer) {
  // model_signing writes x509CertificateChain; bundle v0.3 also allows a single "certificate".
  json single;
  if (material.is_object() && material.contains("certificate") &&
      !material.contains("x509CertificateChain"))
    single = json::array({material["certificate"]});
  else if (!material.is_object() || !material.contains("x509CertificateChain"))
    throw Failure(
        "signature: the bundle holds no certificate chain (it was signed with a key: verify with "
        "--public-key)");
  const json& certs = single.is_array()
                          ? single
                          : member(member(material, "x509CertificateChain", "verificationMaterial"),
                                   "certificates", "verificationMaterial.x509CertificateChain");
  if (!certs.is_array() || certs.empty())
    throw Failure("signature: the certificate chain is empty");
  std::vector<Cert> chain;
  for (const auto& c : certs) {
    auto der = decode(string_member(c, "rawBytes", "certificate"), "certificate rawBytes");
    Cert cert = certificate_from_der(der);
    if (!cert)
      throw Failure("signature: certificate " + std::to_string(chain.size()) +
                    " of the chain is not DER X.509");
    chain.push_back(std::move(cert));
  }
  std::unique_ptr<X509_STORE, CertFree> store(X509_STORE_new());
  for (const auto& r : roots) X509_STORE_add_cert(store.get(), r.get());
  std::unique_ptr<STACK_OF(X509), CertFree> untrusted(sk_X509_new_null());
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  std::unique_ptr<X509_STORE_CTX, CertFree> ctx(X509_STORE_CTX_new());
  X509* leaf = chain.front().get();
  signer = certificate_subject(leaf);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1)
    throw std::runtime_error(openssl_error());
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    throw Failure("certificate " + signer + ": " + X509_verify_cert_error_string(err));
  }
  uint32_t ku = X509_get_key_usage(leaf);
  uint32_t xku = X509_get_extended_key_usage(leaf);
  bool can_sign = (ku & KU_DIGITAL_SIGNATURE) ||
                  (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE && (xku & XKU_CODE_SIGN));
  if (!can_sign)
    throw Failure("certificate " + signer +
                  ": not valid for signing (no digitalSignature key usage or codeSigning)");
  Pkey key(X509_get_pubkey(leaf));
  if (!key) throw Failure("certificate " + signer + ": unreadable public key");
  if (auto why = unsupported_key(key.get()); !why.empty())
    throw Failure("certificate " + signer + ": " + why);
  return key;
}

Manifest manifest_from_statement(const json& st, VerifyOutcome& out) {
  if (!st.is_object()) throw Failure("signature: the payload is not a JSON object");
  auto type = string_member(st, "_type", "statement");
  if (type != kStatementType)
    throw Failure("signature: statement _type is '" + type + "', expected " +
                  std::string(kStatementType));
  out.predicate_type = string_member(st, "predicateType", "statement");
  const json& subjects = member(st, "subject", "statement");
  if (!subjects.is_array()) throw Failure("signature: statement subject is not a list");
  Manifest m;
  if (out.predicate_type == kPredicateTypeV01) {
    // model_signing 0.2: one subject per file, no root digest, files method, sha256.
    for (const auto& s : subjects) {
      auto name = string_member(s, "name", "subject");
      auto digest = string_member(member(s, "digest", "subject"), "sha256", "subject.digest");
      if (!is_sha256_hex(digest))
        throw Failure("signature: subject " + name + ": digest is not a hex SHA-256");
      m.resources.push_back({name, "sha256", digest});
    }
    m.model_name = "";
    m.ignore_paths = {".git", ".gitattributes", ".github", ".gitignore"};
    return m;
  }
  if (out.predicate_type != kPredicateType)
    throw Failure("signature: unsupported predicate type '" + out.predicate_type + "'");
  if (subjects.size() != 1)
    throw Failure("signature: the statement has " + std::to_string(subjects.size()) +
                  " subjects, expected 1");
  m.model_name = string_member(subjects[0], "name", "subject");
  auto subject_digest =
      string_member(member(subjects[0], "digest", "subject"), "sha256", "subject.digest");
  const json& predicate = member(st, "predicate", "statement");
  const json& ser = member(predicate, "serialization", "predicate");
  auto method = string_member(ser, "method", "serialization");
  if (method == "files") {
    m.method = Method::files;
  } else if (method == "shards") {
    m.method = Method::shards;
    const json& size = member(ser, "shard_size", "serialization");
    if (!size.is_number_unsigned() || size.get<uint64_t>() == 0)
      throw Failure("signature: serialization.shard_size is not a positive integer");
    m.shard_size = size.get<uint64_t>();
  } else {
    throw Failure("signature: unknown serialization method '" + method + "'");
  }
  m.hash_type = string_member(ser, "hash_type", "serialization");
  if (m.hash_type != "sha256")
    throw Failure("signature: hash type '" + m.hash_type + "' is not supported (sha256 is)");
  if (ser.contains("allow_symlinks") && ser["allow_symlinks"].is_boolean())
    m.allow_symlinks = ser["allow_symlinks"].get<bool>();
  if (ser.contains("ignore_paths")) {
    if (!ser["ignore_paths"].is_array())
      throw Failure("signature: serialization.ignore_paths is not a list");
    for (const auto& p : ser["ignore_paths"])
      if (p.is_string()) m.ignore_paths.push_back(p.get<std::string>());
  } else {
    m.ignore_paths = {".git", ".gitattributes", ".github", ".gitignore"};
  }
  const json& resources = member(predicate, "resources", "predicate");
  if (!resources.is_array()) throw Failure("signature: predicate resources is not a list");
  std::set<std::string> names;
  for (const auto& r : resources) {
    Resource res{string_member(r, "name", "resource"), string_member(r, "algorithm", "resource"),
                 string_member(r, "digest", "resource")};
    if (res.algorithm != "sha256" || !is_sha256_hex(res.digest))
      throw Failure("signature: resource " + res.name + ": digest is not a hex SHA-256");
    if (!names.insert(res.name).second)
      throw Failure("signature: resource " + res.name + " is listed twice");
    m.resources.push_back(std::move(res));
  }
  auto computed = root_digest(m.resources);
  if (computed != subject_digest)
    throw Failure("signature: the manifest does not hash to its subject (subject sha256 " +
                  subject_digest + ", resources hash to " + computed + ")");
  out.root_digest = subject_digest;
  return m;
}

std::string file_of(const std::string& name, Method method) {
  if (method != Method::shards) return name;
  auto c2 = name.rfind(':');
  auto c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : name.rfind(':', c2 - 1);
  return c1 == std::string::npos ? name : name.substr(0, c1);
}

// Every difference between the signed and the actual manifest, one line per file.
std::vector<std::string> compare(const Manifest& expected, const Manifest& actual, Method method) {
  std::map<std::string, std::string> want, have;
  for (const auto& r : expected.resources) want[r.name] = r.digest;
  for (const auto& r : actual.resources) have[r.name] = r.digest;
  std::set<std::string> changed, removed, added;
  for (const auto& [name, digest] : want) {
    auto it = have.find(name);
    auto file = file_of(name, method);
    if (it == have.end())
      removed.insert(file);
    else if (it->second != digest)
      changed.insert(file);
  }
  for (const auto& [name, digest] : have)
    if (!want.count(name)) added.insert(file_of(name, method));
  // A shard list that grew or shrank is a change of the file, not an added or removed file.
  for (auto it = removed.begin(); it != removed.end();) {
    if (added.count(*it)) {
      changed.insert(*it);
      added.erase(*it);
      it = removed.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<std::string> problems;
  // A removed file whose content reappears under another name was renamed.
  std::map<std::string, std::string> removed_by_digest;
  if (method == Method::files)
    for (const auto& f : removed) removed_by_digest.emplace(want[f], f);
  for (auto it = added.begin(); it != added.end();) {
    auto r = method == Method::files ? removed_by_digest.find(have[*it]) : removed_by_digest.end();
    if (r != removed_by_digest.end() && removed.count(r->second)) {
      problems.push_back(r->second + ": renamed to " + *it);
      removed.erase(r->second);
      it = added.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& f : changed) problems.push_back(f + ": content differs from the signed digest");
  for (const auto& f : removed) problems.push_back(f + ": signed but missing from the model");
  for (const auto& f : added) problems.push_back(f + ": in the model but not in the signature");
  std::sort(problems.begin(), problems.end());
  return problems;
}

}  // namespace

VerifyOutcome verify_model(const VerifyOptions& options) {
  if (options.public_key_pem.empty() == options.certificate_roots_pem.empty())
    throw UnusableInput("give exactly one of a public key and certificate roots");
  Pkey given_key;
  std::vector<Cert> roots;
  if (!options.public_key_pem.empty())
    given_key = load_public_key(options.public_key_pem);
  else
    roots = load_certificates(options.certificate_roots_pem, "certificate roots");
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(options.model, ec)))
    throw UnusableInput(options.model.string() + ": no such file or directory");

  VerifyOutcome out;
  try {
    json bundle;
    try {
      bundle = json::parse(options.bundle_json);
    } catch (const json::parse_error& e) {
      throw Failure(std::string("signature: malformed or truncated JSON (") + e.what() + ")");
    }
    if (!bundle.is_object()) throw Failure("signature: not a JSON object");
    auto media = string_member(bundle, "mediaType", "bundle");
    if (media != kBundleMediaType)
      throw Failure("signature: media type '" + media + "', expected " +
                    std::string(kBundleMediaType));
    const json& material = member(bundle, "verificationMaterial", "bundle");
    const json& envelope = member(bundle, "dsseEnvelope", "bundle");
    auto payload_type = string_member(envelope, "payloadType", "dsseEnvelope");
    auto payload = decode(string_member(envelope, "payload", "dsseEnvelope"), "payload");
    const json& sigs = member(envelope, "signatures", "dsseEnvelope");
    if (!sigs.is_array() || sigs.empty())
      throw Failure("signature: the envelope holds no signature");

    Pkey key;
    if (given_key) {
      auto hint = public_key_hint(given_key.get());
      out.signer = "key sha256:" + hint;
      if (material.contains("publicKey") && material["publicKey"].is_object() &&
          material["publicKey"].contains("hint")) {
        const json& h = material["publicKey"]["hint"];
        if (h.is_string() && !h.get<std::string>().empty() && h.get<std::string>() != hint)
          throw Failure("signature: made by another key (key hint " + h.get<std::string>() +
                        ", given key " + hint + ")");
      }
      key = std::move(given_key);
    } else {
      key = key_from_chain(material, roots, out.signer);
    }
    out.algorithm = signature_algorithm(key.get());
    std::string message = pae(payload_type, payload);
    bool good = false;
    for (const auto& s : sigs)
      good = good ||
             ecdsa_verify(key.get(), message, decode(string_member(s, "sig", "signature"), "sig"));
    if (!good)
      throw Failure(!options.public_key_pem.empty()
                        ? "signature: does not verify with the given public key (signed by another "
                          "key, or the payload was altered)"
                        : "signature: does not verify with the signing certificate's key");
    if (payload_type != kInTotoPayloadType)
      throw Failure("signature: payload type '" + payload_type + "', expected " +
                    std::string(kInTotoPayloadType));

    json statement;
    try {
      statement = json::parse(payload);
    } catch (const json::parse_error& e) {
      throw Failure(std::string("signature: the signed payload is not JSON (") + e.what() + ")");
    }
    out.signed_manifest = manifest_from_statement(statement, out);
    out.model_name = out.signed_manifest.model_name;

    HashOptions hashing;
    hashing.method = out.signed_manifest.method;
    hashing.shard_size = out.signed_manifest.shard_size;
    hashing.ignore_paths = out.signed_manifest.ignore_paths;
    hashing.ignore_git_paths = false;
    hashing.threads = options.threads;
    for (const auto& p : options.extra_ignore_paths) hashing.ignore_paths.push_back(p);
    if (auto rel = path_inside_model(options.model, options.signature); !rel.empty())
      hashing.ignore_paths.push_back(rel);
    Manifest actual;
    try {
      actual = hash_model(options.model, hashing);
    } catch (const ModelError& e) {
      throw Failure(e.what());
    }
    out.bytes_hashed = actual.bytes_hashed;
    if (out.predicate_type == kPredicateTypeV01) out.root_digest = root_digest(actual.resources);
    out.problems = compare(out.signed_manifest, actual, out.signed_manifest.method);
    if (!out.problems.empty()) {
      out.reason = out.problems.front();
      if (out.problems.size() > 1)
        out.reason += " (and " + std::to_string(out.problems.size() - 1) + " more)";
      return out;
    }
    out.verified = true;
    out.reason =
        "verified: " + std::to_string(actual.resources.size()) + " resources match the signature";
  } catch (const Failure& f) {
    out.verified = false;
    out.reason = f.what();
    if (out.problems.empty()) out.problems.push_back(out.reason);
  } catch (const json::exception& e) {
    out.verified = false;
    out.reason = std::string("signature: malformed bundle (") + e.what() + ")";
    out.problems = {out.reason};
  }
  return out;
}

}  // namespace secmlops::host::signing
