// secmlops-scan-worker: the sandboxed process secmlops and secmlopsd run scanner plugins in
// (docs/security.md). Started by the host with a socket on descriptor 3; never by hand.
#include "sandbox/scan_sandbox.hpp"

int main(int argc, char** argv) { return secmlops::host::sandbox::run_scan_worker(argc, argv); }
