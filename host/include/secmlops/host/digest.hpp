#pragma once

#include <filesystem>
#include <string>

namespace secmlops::host {

// Hex SHA-256 of a file's content (datasets, reports). Throws std::runtime_error naming the path.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace secmlops::host
