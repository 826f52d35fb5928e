// The libcurl the scan worker opens before the scanner libraries (host/worker/offline_curl): the
// dynamic loader must take it for libcurl.so.4, Debian's libhdf5 must load against it, and every
// transfer must fail. A test binary of its own: once it is open, no real libcurl can be loaded
// into the process.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <link.h>

#include <string>
#include <vector>

namespace {

void* open_offline_curl() {
  void* h = ::dlopen(SECMLOPS_OFFLINE_CURL, RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(h, nullptr) << ::dlerror();
  return h;
}

template <class F>
F symbol(void* h, const char* name) {
  void* s = ::dlvsym(h, name, "CURL_OPENSSL_4");
  EXPECT_NE(s, nullptr) << name << ": " << ::dlerror();
  return reinterpret_cast<F>(s);
}

std::vector<std::string> loaded_objects() {
  std::vector<std::string> names;
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        static_cast<std::vector<std::string>*>(out)->emplace_back(info->dlpi_name);
        return 0;
      },
      &names);
  return names;
}

TEST(OfflineCurl, IsTakenForLibcurlBySoname) {
  void* h = open_offline_curl();
  ASSERT_NE(h, nullptr);
  // What the loader does for a DT_NEEDED entry: the object already loaded under that soname.
  void* by_soname = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
  EXPECT_EQ(by_soname, h);
  if (by_soname != nullptr) ::dlclose(by_soname);
}

TEST(OfflineCurl, RefusesEveryTransfer) {
  void* h = open_offline_curl();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(symbol<int (*)(long)>(h, "curl_global_init")(3), 0);  // nothing to set up
  EXPECT_EQ(symbol<void* (*)()>(h, "curl_easy_init")(), nullptr);
  auto setopt = symbol<int (*)(void*, int, ...)>(h, "curl_easy_setopt");
  EXPECT_EQ(setopt(nullptr, 10002, "https://example.org/model.h5"), 2);  // CURLE_FAILED_INIT
  EXPECT_EQ(symbol<int (*)(void*)>(h, "curl_easy_perform")(nullptr), 2);
  EXPECT_EQ(symbol<void* (*)(void*, const char*)>(h, "curl_slist_append")(nullptr, "a: b"),
            nullptr);
  symbol<void (*)(void*)>(h, "curl_slist_free_all")(nullptr);
  symbol<void (*)(void*)>(h, "curl_easy_cleanup")(nullptr);
  symbol<void (*)()>(h, "curl_global_cleanup")();
}

TEST(OfflineCurl, DebiansLibhdf5LoadsAgainstItWithoutTheNetworkStack) {
  ASSERT_NE(open_offline_curl(), nullptr);
  // RTLD_NOW: a libcurl call libhdf5 imports that this library lacks fails here, by name.
  void* hdf5 = ::dlopen("libhdf5_serial.so.103", RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(hdf5, nullptr) << ::dlerror();
  for (const auto& name : loaded_objects()) {
    EXPECT_EQ(name.find("libssl"), std::string::npos) << name;
    EXPECT_EQ(name.find("libgnutls"), std::string::npos) << name;
    EXPECT_EQ(name.find("libldap"), std::string::npos) << name;
    if (name.find("libcurl") != std::string::npos) {
      EXPECT_EQ(name, std::string(SECMLOPS_OFFLINE_CURL));
    }
  }
}

}  // namespace
