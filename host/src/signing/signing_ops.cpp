#include "secmlops/host/signing_ops.hpp"

#include "secmlops/host/signing.hpp"
#include "secmlops/v1/report.pb.h"
#include "secmlops/v1/signing.pb.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace secmlops::host {
namespace fs = std::filesystem;
using signing::UnusableInput;

namespace {

constexpr uint64_t kMaxKeyBytes = 1 << 20;
constexpr uint64_t kMaxSignatureBytes = 256ull << 20;

std::string read_small(const fs::path& path, uint64_t limit, const char* what) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) throw UnusableInput(path.string() + ": cannot read " + what + ": " + ec.message());
  if (size > limit)
    throw UnusableInput(path.string() + ": " + what + " larger than " + std::to_string(limit) +
                        " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UnusableInput(path.string() + ": cannot read " + what);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string first_line(std::string s) {
  auto nl = s.find_first_of("\r\n");
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const char* method_name(signing::Method m) {
  return m == signing::Method::files ? "files" : "shards";
}

fs::path signature_of(const std::string& model, const std::string& signature) {
  return signature.empty() ? signing::default_signature_path(model) : fs::path(signature);
}

// The signature file is written beside, then renamed over, so a reader never sees half of it.
void write_atomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw UnusableInput(path.string() + ": cannot write the signature");
    out << text;
    if (!out.flush()) throw UnusableInput(path.string() + ": cannot write the signature");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw UnusableInput(path.string() + ": cannot write the signature");
  }
}

}  // namespace

v1::SignResult sign(const v1::SignRequest& request) {
  auto t0 = std::chrono::steady_clock::now();
  v1::SignResult result;
  result.set_model_path(request.model_path());
  try {
    if (request.model_path().empty()) throw UnusableInput("no model path given");
    signing::SignOptions o;
    o.model = request.model_path();
    o.signature = signature_of(request.model_path(), request.signature_path());
    result.set_signature_path(o.signature.string());
    if (!request.private_key_pem().empty())
      o.private_key_pem = request.private_key_pem();
    else if (!request.private_key_path().empty())
      o.private_key_pem = read_small(request.private_key_path(), kMaxKeyBytes, "private key");
    else
      throw UnusableInput("no private key given");
    if (!request.password().empty())
      o.password = request.password();
    else if (!request.password_file().empty())
      o.password = first_line(read_small(request.password_file(), kMaxKeyBytes, "password file"));
    o.certificate_chain_pem = request.certificate_chain_pem();
    for (const auto& p : request.certificate_chain_paths())
      o.certificate_chain_pem += read_small(p, kMaxKeyBytes, "certificate") + "\n";
    const auto& h = request.hashing();
    o.hashing.method =
        h.method() == v1::SERIALIZATION_SHARDS ? signing::Method::shards : signing::Method::files;
    if (h.shard_size()) o.hashing.shard_size = h.shard_size();
    o.hashing.ignore_paths.assign(h.ignore_paths().begin(), h.ignore_paths().end());
    o.hashing.ignore_git_paths = !h.include_git_paths();
    o.hashing.threads = h.threads();

    auto out = signing::sign_model(o);
    if (!request.dry_run()) write_atomically(o.signature, out.bundle_json);
    result.set_status(v1::SIGNING_OK);
    result.set_model_name(out.manifest.model_name);
    result.set_root_digest(out.root_digest);
    result.set_resources(static_cast<uint32_t>(out.manifest.resources.size()));
    result.set_bytes_hashed(out.manifest.bytes_hashed);
    result.set_signer(out.signer);
    result.set_algorithm(out.algorithm);
    result.set_method(method_name(out.manifest.method));
    result.set_bundle_json(out.bundle_json);
    result.set_message("signed " + std::to_string(out.manifest.resources.size()) +
                       " resources of " + request.model_path() +
                       (request.dry_run() ? "" : " into " + o.signature.string()));
  } catch (const std::exception& e) {
    // Every sign failure is about the input: the key, the model on disk, the output path.
    result.set_status(v1::SIGNING_UNUSABLE_INPUT);
    result.set_message(e.what());
  }
  result.set_seconds(since(t0));
  return result;
}

v1::VerifyResult verify(const v1::VerifyRequest& request, std::string* bundle) {
  auto t0 = std::chrono::steady_clock::now();
  v1::VerifyResult result;
  result.set_model_path(request.model_path());
  try {
    if (request.model_path().empty()) throw UnusableInput("no model path given");
    signing::VerifyOptions o;
    o.model = request.model_path();
    o.signature = signature_of(request.model_path(), request.signature_path());
    o.threads = request.threads();
    o.extra_ignore_paths.assign(request.ignore_paths().begin(), request.ignore_paths().end());
    if (!request.public_key_pem().empty())
      o.public_key_pem = request.public_key_pem();
    else if (!request.public_key_path().empty())
      o.public_key_pem = read_small(request.public_key_path(), kMaxKeyBytes, "public key");
    o.certificate_roots_pem = request.certificate_roots_pem();
    for (const auto& p : request.certificate_root_paths())
      o.certificate_roots_pem += read_small(p, kMaxKeyBytes, "certificate roots") + "\n";
    std::string sig_name;
    if (!request.bundle_json().empty()) {
      o.bundle_json = request.bundle_json();
      sig_name = "signature";
    } else {
      result.set_signature_path(o.signature.string());
      o.bundle_json = read_small(o.signature, kMaxSignatureBytes, "signature");
      sig_name = o.signature.string();
    }
    result.set_signature_sha256(host::sha256_hex(o.bundle_json));
    if (bundle != nullptr) *bundle = o.bundle_json;

    auto out = signing::verify_model(o);
    // Bundle-level reasons name the signature file.
    auto name_signature = [&](std::string line) {
      if (line.rfind("signature: ", 0) == 0) line = sig_name + ": " + line.substr(11);
      return line;
    };
    result.set_status(out.verified ? v1::SIGNING_OK : v1::SIGNING_FAILED);
    result.set_verified(out.verified);
    result.set_reason(name_signature(out.reason));
    for (const auto& p : out.problems) result.add_problems(name_signature(p));
    result.set_model_name(out.model_name);
    result.set_root_digest(out.root_digest);
    result.set_predicate_type(out.predicate_type);
    result.set_method(method_name(out.signed_manifest.method));
    result.set_resources(static_cast<uint32_t>(out.signed_manifest.resources.size()));
    result.set_bytes_hashed(out.bytes_hashed);
    result.set_signer(out.signer);
    result.set_algorithm(out.algorithm);
  } catch (const std::exception& e) {
    result.set_status(v1::SIGNING_UNUSABLE_INPUT);
    result.set_verified(false);
    result.set_reason(e.what());
  }
  result.set_seconds(since(t0));
  return result;
}

std::vector<std::pair<std::string, std::string>> signature_tags(const v1::VerifyResult& r) {
  return {{"secmlops.signature.verified", r.verified() ? "true" : "false"},
          {"secmlops.signature.reason", r.reason()},
          {"secmlops.signature.signer", r.signer()},
          {"secmlops.signature.algorithm", r.algorithm()},
          {"secmlops.signature.subject", r.model_name()},
          {"secmlops.signature.root_digest", r.root_digest()},
          {"secmlops.signature.predicate_type", r.predicate_type()},
          {"secmlops.signature.method", r.method()},
          {"secmlops.signature.resources", std::to_string(r.resources())},
          {"secmlops.signature.sha256", r.signature_sha256()}};
}

std::vector<std::pair<std::string, std::string>> signature_tags(const v1::SignResult& r) {
  return {{"secmlops.signature.signer", r.signer()},
          {"secmlops.signature.algorithm", r.algorithm()},
          {"secmlops.signature.subject", r.model_name()},
          {"secmlops.signature.root_digest", r.root_digest()},
          {"secmlops.signature.method", r.method()},
          {"secmlops.signature.resources", std::to_string(r.resources())},
          {"secmlops.signature.sha256",
           r.bundle_json().empty() ? "" : host::sha256_hex(r.bundle_json())}};
}

namespace {

// Tags with a value (a failure before the bundle was read leaves most of them empty).
void record_common(RunRecorder& run, const char* kind,
                   const std::vector<std::pair<std::string, std::string>>& tags, uint32_t resources,
                   uint64_t bytes_hashed, double seconds, std::string_view bundle) {
  run.tag("secmlops.kind", kind);
  run.tag("secmlops.version", SECMLOPS_VERSION);
  for (const auto& [k, v] : tags)
    if (!v.empty()) run.tag(k, v);
  run.metric("signing.resources", resources);
  run.metric("signing.bytes_hashed", static_cast<double>(bytes_hashed));
  run.metric("signing.duration_seconds", seconds);
  if (!bundle.empty()) record_content(run, "model.sig", bundle, "signature");
}

}  // namespace

void record_signing(RunRecorder& run, const v1::SignResult& r) {
  auto tags = signature_tags(r);
  tags.emplace_back("secmlops.signature.status",
                    r.status() == v1::SIGNING_OK ? "signed" : "unusable_input");
  if (r.status() != v1::SIGNING_OK) tags.emplace_back("secmlops.signature.reason", r.message());
  record_common(run, "sign", tags, r.resources(), r.bytes_hashed(), r.seconds(), r.bundle_json());
}

void record_verification(RunRecorder& run, const v1::VerifyResult& r, std::string_view bundle) {
  auto tags = signature_tags(r);
  tags.emplace_back("secmlops.signature.status", r.status() == v1::SIGNING_OK ? "verified"
                                                 : r.status() == v1::SIGNING_FAILED
                                                     ? "failed"
                                                     : "unusable_input");
  record_common(run, "verify", tags, r.resources(), r.bytes_hashed(), r.seconds(), bundle);
}

std::optional<v1::Finding> signature_finding(const fs::path& model, const fs::path& public_key,
                                             const fs::path& signature) {
  v1::VerifyRequest req;
  req.set_model_path(model.string());
  req.set_public_key_path(public_key.string());
  req.set_signature_path(signature.string());
  auto result = verify(req);
  if (result.verified()) return std::nullopt;
  v1::Finding f;
  f.set_rule_id(kSignatureRule);
  f.set_severity(v1::CRITICAL);
  f.set_scanner("host");
  f.set_message("model signature does not verify: " + result.reason());
  f.mutable_location()->set_file(model.string());
  auto* e = f.add_evidence();
  e->set_key("signature");
  e->set_value(result.signature_path().empty() ? signing::default_signature_path(model).string()
                                               : result.signature_path());
  if (!result.signer().empty()) {
    auto* s = f.add_evidence();
    s->set_key("expected_signer");
    s->set_value(result.signer());
  }
  return f;
}

}  // namespace secmlops::host
