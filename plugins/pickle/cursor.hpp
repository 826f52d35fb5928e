// The one read position shared by every reader of a scan: windows of the input fetched on
// demand, so a multi-gigabyte file is walked with about one window resident. One cursor per
// scan: every reader shares it, so no pointer outlives the next read.
#pragma once

#include "input.hpp"

#include <secmlops/sdk/source.hpp>

#include <cstdint>

namespace secmlops::plugins::pickle {

// The SDK's window reader over the scan's Input; a scan reads through 1 MiB windows
// (kCursorWindow), and asks with try_at(), to which the end of the input is not an error.
using Cursor = sdk::WindowReader;
inline constexpr uint64_t kCursorWindow = 1u << 20;

}  // namespace secmlops::plugins::pickle
