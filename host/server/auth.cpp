#include "auth.hpp"

#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <stdexcept>

namespace secmlops::server {
namespace {

std::array<unsigned char, 32> digest(std::string_view s) {
  std::array<unsigned char, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

TokenAuth TokenAuth::from_file(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    throw std::runtime_error(file.string() + ": cannot read token file");
  if ((st.st_mode & 077) != 0)
    throw std::runtime_error(file.string() +
                             ": token file is readable by group/others; chmod 600 it");
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open token file");
  TokenAuth auth;
  std::string line;
  while (std::getline(in, line)) {
    auto t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (t.size() < 16)
      throw std::runtime_error(file.string() +
                               ": a token is shorter than 16 characters; use long random tokens");
    auth.digests_.push_back(digest(t));
  }
  if (auth.digests_.empty()) throw std::runtime_error(file.string() + ": no token in file");
  return auth;
}

bool TokenAuth::accepts(std::string_view token) const {
  const auto d = digest(token);
  int match = 0;
  for (const auto& known : digests_)
    match |= static_cast<int>(CRYPTO_memcmp(d.data(), known.data(), d.size()) == 0);
  return match != 0;
}

grpc::Status TokenAuth::check(const grpc::CallbackServerContext* context) const {
  if (!enabled()) return grpc::Status::OK;
  auto status = check_token(context);
  if (!status.ok())
    spdlog::warn("audit: event=token_refused peer={} reason=\"{}\"", context->peer(),
                 status.error_message());
  return status;
}

std::string TokenAuth::identity(const grpc::CallbackServerContext* context) const {
  if (!enabled()) return {};
  const auto& md = context->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return {};
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size()) return {};
  auto d = digest(trim(value.substr(scheme.size())));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    out += hex[d[i] >> 4];
    out += hex[d[i] & 15];
  }
  return out;
}

grpc::Status TokenAuth::check_token(const grpc::CallbackServerContext* context) const {
  const auto& md = context->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return {grpc::StatusCode::UNAUTHENTICATED,
            "missing bearer token: send metadata 'authorization: Bearer <token>'"};
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() || value.substr(0, scheme.size()) != scheme)
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization metadata must be 'Bearer <token>'"};
  if (!accepts(trim(value.substr(scheme.size()))))
    return {grpc::StatusCode::UNAUTHENTICATED, "bearer token not accepted"};
  return grpc::Status::OK;
}

}  // namespace secmlops::server
