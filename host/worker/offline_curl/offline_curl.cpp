// A libcurl for the scan worker that refuses every transfer. Debian's libhdf5 (the Keras
// scanner's) needs libcurl for its S3 driver only, which no scan selects and which a confined
// worker could not use: its seccomp filter allows no socket. Loading the real libcurl maps some
// thirty libraries (TLS, Kerberos, LDAP, SSH, IDN), 12 of the 20 ms libhdf5 took to open on a VM
// whose page faults trap, and each worker paid it at start. The worker opens this library first;
// the dynamic loader then takes it for libhdf5's libcurl.so.4 (same soname, same symbol version).
//
// Only the calls libhdf5 imports are defined. Every one fails the way libcurl fails when it cannot
// start: no handle, CURLE_FAILED_INIT; the global set-up has nothing to set up.

namespace {

constexpr int kCurleOk = 0;
constexpr int kCurleFailedInit = 2;

}  // namespace

extern "C" {

struct curl_slist;

__attribute__((visibility("default"))) int curl_global_init(long /*flags*/) { return kCurleOk; }

__attribute__((visibility("default"))) void curl_global_cleanup() {}

__attribute__((visibility("default"))) void* curl_easy_init() { return nullptr; }

__attribute__((visibility("default"))) int curl_easy_setopt(void* /*handle*/, int /*option*/, ...) {
  return kCurleFailedInit;
}

__attribute__((visibility("default"))) int curl_easy_perform(void* /*handle*/) {
  return kCurleFailedInit;
}

__attribute__((visibility("default"))) void curl_easy_cleanup(void* /*handle*/) {}

__attribute__((visibility("default"))) curl_slist* curl_slist_append(curl_slist* /*list*/,
                                                                     const char* /*text*/) {
  return nullptr;
}

__attribute__((visibility("default"))) void curl_slist_free_all(curl_slist* /*list*/) {}

}  // extern "C"
