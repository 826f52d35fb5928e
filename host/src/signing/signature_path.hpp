#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace secmlops::host::signing {

// The signature's path relative to a directory model ('/' separated) when it lies inside it, so
// hashing leaves it out; empty otherwise.
inline std::string path_inside_model(const std::filesystem::path& model,
                                     const std::filesystem::path& signature) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (signature.empty() || !fs::is_directory(fs::symlink_status(model, ec))) return {};
  auto root = fs::weakly_canonical(model, ec);
  if (ec) return {};
  auto sig = fs::weakly_canonical(signature, ec);
  if (ec) return {};
  auto rel = sig.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") return {};
  return rel.generic_string();
}

}  // namespace secmlops::host::signing
