#include "signing_service.hpp"

#include "app_env.hpp"
#include "call_util.hpp"

#include "secmlops/app/operations.hpp"
#include "secmlops/host/path_guard.hpp"
#include "secmlops/host/signing_ops.hpp"

namespace secmlops::server {
namespace {

std::filesystem::path under_roots(const ServerConfig& config, const std::string& requested,
                                  const char* field) {
  if (config.scan_roots.empty())
    fail(grpc::StatusCode::FAILED_PRECONDITION,
         "this server has no scan roots configured (--scan-root)");
  if (requested.empty())
    fail(grpc::StatusCode::INVALID_ARGUMENT, std::string("no ") + field + " given");
  auto r = host::resolve_under_roots(config.scan_roots, requested);
  switch (r.verdict) {
    case host::RootedPath::Verdict::inside:
      return r.path;
    case host::RootedPath::Verdict::outside:
      fail(grpc::StatusCode::PERMISSION_DENIED, std::string(field) + ": " + r.reason);
    case host::RootedPath::Verdict::not_found:
      break;
  }
  fail(grpc::StatusCode::NOT_FOUND, std::string(field) + ": " + r.reason);
}

// A signature path may not exist yet: its directory must lie under the roots.
std::string signature_under_roots(const ServerConfig& config, const std::string& requested) {
  if (requested.empty()) return {};
  std::filesystem::path p(requested);
  auto name = p.filename();
  // Only *.sig: Sign must not become a way to overwrite any file under the scan roots.
  if (name.extension() != ".sig" || name.stem().empty())
    fail(grpc::StatusCode::INVALID_ARGUMENT, "signature_path must name a .sig file");
  auto parent = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
  return (under_roots(config, parent.string(), "signature_path directory") / name).string();
}

void no_server_files(const std::string& path, const char* field) {
  if (!path.empty())
    fail(grpc::StatusCode::INVALID_ARGUMENT,
         std::string(field) +
             " names a server file: send the key material itself (the *_pem fields)");
}

}  // namespace

grpc::ServerUnaryReactor* SigningServiceImpl::Sign(grpc::CallbackServerContext* context,
                                                   const v1::SignRequest* request,
                                                   v1::SignResult* response) {
  return run_unary(state_, context, [this, context, request, response] {
    no_server_files(request->private_key_path(), "private_key_path");
    no_server_files(request->password_file(), "password_file");
    if (request->certificate_chain_paths_size()) no_server_files("x", "certificate_chain_paths");
    v1::SignRequest req = *request;
    req.set_model_path(under_roots(state_.config, request->model_path(), "model_path").string());
    req.set_signature_path(signature_under_roots(state_.config, request->signature_path()));
    *response = app::sign(call_env(state_, token_for(context)), req);
    if (response->status() != v1::SIGNING_OK)
      fail(grpc::StatusCode::INVALID_ARGUMENT, response->message());
  });
}

grpc::ServerUnaryReactor* SigningServiceImpl::Verify(grpc::CallbackServerContext* context,
                                                     const v1::VerifyRequest* request,
                                                     v1::VerifyResult* response) {
  return run_unary(state_, context, [this, context, request, response] {
    no_server_files(request->public_key_path(), "public_key_path");
    if (request->certificate_root_paths_size()) no_server_files("x", "certificate_root_paths");
    v1::VerifyRequest req = *request;
    req.set_model_path(under_roots(state_.config, request->model_path(), "model_path").string());
    if (request->bundle_json().empty() && !request->signature_path().empty())
      req.set_signature_path(
          under_roots(state_.config, request->signature_path(), "signature_path").string());
    *response = app::verify(call_env(state_, token_for(context)), req);
    if (response->status() == v1::SIGNING_UNUSABLE_INPUT)
      fail(grpc::StatusCode::INVALID_ARGUMENT, response->reason());
  });
}

}  // namespace secmlops::server
