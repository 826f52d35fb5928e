// Random access to the bytes being scanned: the SDK's Source, so the parser runs the same over
// the host stream (zero-copy views, reads otherwise), a memory buffer (tests, fuzzers) or an
// mmap (benchmarks). `window(offset, len)` gives min(len, size() - offset) bytes, valid until
// the next call; `check_cancelled()` throws when the host wants the work to stop.
#pragma once

#include <secmlops/sdk/source.hpp>

namespace secmlops::plugins::pickle {

using Input = sdk::Source;
using MemoryInput = sdk::MemorySource;

}  // namespace secmlops::plugins::pickle
