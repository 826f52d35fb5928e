#pragma once

#include <cstdint>
#include <string>

namespace secmlops::host::sandbox {

// Confines the calling process (a scan worker, once its plugins are loaded) for good: resource
// limits (no core dumps, `memory_bytes` of data segment, few descriptors, no new processes), no
// new privileges, and a seccomp filter that allows only what scanning a descriptor needs: reading
// and mapping it, memory, time, memory-backed files for inflated members, and talking on the
// already-open socket `report_sock`. Opening a path fails with ENOENT and the path is reported on
// `report_sock` (the scan goes on); sockets, exec, fork and anything else not allowed are
// trapped: the worker reports the system call's number and exits. Throws std::runtime_error
// when the kernel refuses the filter.
void confine(int report_sock, uint64_t memory_bytes);

// The index, in the current batch, of the file being scanned: carried by the reports the
// seccomp trap handler sends.
void set_current_file(uint32_t file);

// The name of a system call number on this architecture ("openat"), or "#<nr>".
std::string syscall_name(uint32_t nr);

}  // namespace secmlops::host::sandbox
