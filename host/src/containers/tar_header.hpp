#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace secmlops::host::containers {

// A tar numeric field: octal (space/NUL padded) or GNU base-256; nullopt when malformed.
std::optional<uint64_t> tar_number(const uint8_t* p, size_t n);
// True when the 512-byte block is a tar header whose checksum matches (unsigned or signed sum).
bool tar_checksum_ok(const uint8_t* header);

}  // namespace secmlops::host::containers
