#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace secmlops::host {

// Hex SHA-256 of a file's content (datasets, reports). Throws std::runtime_error naming the path.
std::string sha256_file(const std::filesystem::path& path);

// SHA-256 of bytes in memory, raw (shard assignment reads its first bytes as a number).
std::array<uint8_t, 32> sha256(std::string_view bytes);

// Hex SHA-256 of bytes in memory (CSV text, exported models, signature payloads).
std::string sha256_hex(std::string_view bytes);

class Stream;
// Hex SHA-256 of a stream's bytes, read with read_at (never through a mapping, so a file
// truncated meanwhile is a read error, not a SIGBUS). Throws std::runtime_error when fewer
// bytes than size() can be read (the file shrank).
std::string sha256_stream(const Stream& stream);

}  // namespace secmlops::host
