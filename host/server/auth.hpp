#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace grpc {
class CallbackServerContext;
class Status;
}  // namespace grpc

namespace secmlops::server {

// Bearer tokens accepted by the server. Only SHA-256 digests are kept, and a presented token is
// compared against every digest without an early exit, so timing reveals neither which token
// nor how much of one matched.
class TokenAuth {
 public:
  TokenAuth() = default;
  // One token per line; blank lines and lines starting with '#' are ignored. Throws
  // std::runtime_error when the file is unreadable, empty, or group/world-readable.
  static TokenAuth from_file(const std::filesystem::path& file);

  [[nodiscard]] bool enabled() const { return !digests_.empty(); }
  [[nodiscard]] bool accepts(std::string_view token) const;
  // OK when tokens are off or the call's "authorization: Bearer <token>" is accepted;
  // UNAUTHENTICATED otherwise. Called at the start of every handler.
  [[nodiscard]] grpc::Status check(const grpc::CallbackServerContext* context) const;
  // Who the call is, for ownership: a digest of its bearer token (never the token), or "" when
  // tokens are off (every local caller is then the same owner).
  [[nodiscard]] std::string identity(const grpc::CallbackServerContext* context) const;

 private:
  [[nodiscard]] grpc::Status check_token(const grpc::CallbackServerContext* context) const;
  std::vector<std::array<unsigned char, 32>> digests_;
};

}  // namespace secmlops::server
