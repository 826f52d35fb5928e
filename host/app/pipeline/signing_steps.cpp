// Signing the models a pipeline trained (the OpenSSF model signing format) and verifying them
// before they are scanned or shipped.
#include "steps.hpp"

#include "secmlops/host/signing.hpp"
#include "secmlops/host/signing_ops.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <memory>

namespace secmlops::app::pipeline {
namespace {

// Where a sign step with key "@generate" keeps its key pair.
std::filesystem::path generated_key(const StepContext& c, bool public_part) {
  return c.out_dir / "keys" / (public_part ? "signing-key.pub.pem" : "signing-key.pem");
}

// A fresh ECDSA P-256 key pair for this run: a demonstration of the flow, not key management.
void generate_key(const StepContext& c) {
  std::filesystem::create_directories(c.out_dir / "keys");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) fail(AppError::Code::internal, "cannot generate a P-256 key");
  auto write = [&](const std::filesystem::path& path, bool pub) {
    std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "w"), std::fclose);
    if (!f) fail(AppError::Code::internal, path.string() + ": cannot write");
    const int ok =
        pub ? PEM_write_PUBKEY(f.get(), key.get())
            : PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    if (ok != 1) fail(AppError::Code::internal, path.string() + ": cannot write the key");
  };
  write(generated_key(c, false), false);
  std::filesystem::permissions(generated_key(c, false), std::filesystem::perms::owner_read |
                                                            std::filesystem::perms::owner_write);
  write(generated_key(c, true), true);
}

// The model files of the referenced train steps, then the given paths.
std::vector<std::string> targets(const StepContext& c, const std::vector<std::string>& steps,
                                 const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& id : steps)
    if (auto it = c.inputs.find(id); it != c.inputs.end())
      for (const auto& m : it->second.models())
        if (!m.out().empty()) out.push_back(m.out());
  for (const auto& p : paths) out.push_back(c.env.files.resolve(p).string());
  if (out.empty())
    fail(AppError::Code::failed_precondition,
         "no model file to work on (models without an ONNX file cannot be signed)");
  return out;
}

}  // namespace

void run_sign(const StepContext& c, const SignStep& s, v1::StepResult& r) {
  std::string key = s.key;
  if (key == "@generate") {
    generate_key(c);
    key = generated_key(c, false).string();
    r.add_outputs(generated_key(c, true).string());
  } else {
    key = c.env.files.resolve(key).string();
  }
  std::string failed;
  for (const auto& model : targets(c, s.models, s.paths)) {
    c.env.throw_if_cancelled("pipeline");
    v1::SignRequest req;
    req.set_model_path(model);
    req.set_private_key_path(key);
    if (!s.password_file.empty())
      req.set_password_file(c.env.files.resolve(s.password_file).string());
    *req.mutable_mlflow() = child_run(c, host::signing::model_name(model));
    auto result = app::sign(c.env, req);
    result.clear_bundle_json();  // the signature file holds it
    if (result.status() != v1::SIGNING_OK)
      failed += (failed.empty() ? "" : "; ") + model + ": " + result.message();
    else
      r.add_outputs(result.signature_path());
    *r.add_signatures() = std::move(result);
  }
  if (!failed.empty()) fail(AppError::Code::failed_precondition, "signing failed for " + failed);
}

void run_verify(const StepContext& c, const VerifyStep& s, v1::StepResult& r) {
  std::string pub = s.public_key == "@generated" ? generated_key(c, true).string()
                                                 : c.env.files.resolve(s.public_key).string();
  if (s.public_key == "@generated" && !std::filesystem::exists(pub))
    fail(AppError::Code::failed_precondition,
         "public_key: @generated needs a sign step with key: @generate to run first (needs: [it])");
  for (const auto& model : targets(c, s.models, s.paths)) {
    c.env.throw_if_cancelled("pipeline");
    v1::VerifyRequest req;
    req.set_model_path(model);
    req.set_public_key_path(pub);
    *req.mutable_mlflow() = child_run(c, host::signing::model_name(model));
    auto result = app::verify(c.env, req);
    if (result.status() == v1::SIGNING_UNUSABLE_INPUT)
      fail(AppError::Code::failed_precondition, model + ": " + result.reason());
    *r.add_verifications() = std::move(result);
  }
}

}  // namespace secmlops::app::pipeline
