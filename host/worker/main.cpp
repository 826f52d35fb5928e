// secmlops-scan-worker: the sandboxed process secmlops and secmlopsd run scanner plugins in
// (docs/security.md). Started by the host with a socket on descriptor 3; never by hand.
#include "sandbox/scan_sandbox.hpp"

#if defined(__SANITIZE_ADDRESS__)
// A sanitizer build keeps the worker's contract with the host: a crash ends the worker with its
// signal (which the host reports), not with the sanitizer's report and abort, and an allocation
// the data limit refuses is a null pointer the scanner handles, as it is without the sanitizer.
extern "C" const char* __asan_default_options() {
  return "handle_segv=0:handle_sigbus=0:allocator_may_return_null=1";
}
#endif

int main(int argc, char** argv) { return secmlops::host::sandbox::run_scan_worker(argc, argv); }
