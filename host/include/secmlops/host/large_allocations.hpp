#pragma once

namespace secmlops::host {

// For a short-lived program (the command line), called first thing in main: malloc's heap in one
// arena that grows in 64 MiB steps, is never trimmed, and is marked for transparent huge pages,
// so that the small blocks a command allocates (cells, messages, file contents) fault in 2 MiB
// at a time instead of 4 KiB. Where page tables are virtualised a 4 KiB fault costs far more
// than the bytes it maps (docs/benchmarks.md, "End to end"). Not for a server, whose memory must
// go back to the system. Does nothing when the environment tunes malloc itself (GLIBC_TUNABLES
// or MALLOC_*), under a data or address-space limit below 1 GiB, and under sanitizers. Defined
// in large_allocations.cpp, which programs link.
void use_short_lived_heap();

// For a command whose helper threads allocate as busily as its main thread (a directory scan
// parses the workers' reports on them): threads started from now on may get an arena of their
// own, up to one per core, on 4 KiB pages, instead of waiting for the one arena's lock. glibc
// fixes its arena limit when a thread first allocates: called before the command starts
// threads, or it changes nothing. Does nothing unless use_short_lived_heap changed the heap.
void give_helper_threads_arenas();

}  // namespace secmlops::host
