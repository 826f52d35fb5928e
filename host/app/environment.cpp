#include "secmlops/app/environment.hpp"

#include <system_error>

namespace secmlops::app {

void fail(AppError::Code code, const std::string& message) { throw AppError(code, message); }

std::filesystem::path LocalFiles::resolve(const std::string& requested) const {
  if (requested.empty()) fail(AppError::Code::invalid_argument, "empty path");
  return requested;
}

void Environment::throw_if_cancelled(const std::string& what) const {
  if (!cancelled()) return;
  if (cancel->deadline_passed())
    fail(AppError::Code::deadline_exceeded, what + ": deadline passed");
  fail(AppError::Code::cancelled, what + " cancelled");
}

}  // namespace secmlops::app
