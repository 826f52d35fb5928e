#pragma once

namespace secmlops::host {

// For a short-lived program (the command line), called first thing in main: malloc's main heap
// grows in 64 MiB steps, is never trimmed, and is marked for transparent huge pages, so that the
// small blocks the main thread allocates (cells, messages, file contents) fault in 2 MiB at a
// time instead of 4 KiB; helper threads get at most one more arena per core. Where page tables are
// virtualised a 4 KiB fault costs far more than the bytes it maps (docs/benchmarks.md, "End to
// end"). Not for a server, whose memory must go back to the system. Does nothing when the
// environment tunes malloc itself (GLIBC_TUNABLES or MALLOC_*), under a data or address-space limit
// below 1 GiB, and under sanitizers. Defined in large_allocations.cpp, which programs link.
void use_short_lived_heap();

}  // namespace secmlops::host
