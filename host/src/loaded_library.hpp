#pragma once

#include <secmlops/sdk/abi.h>

#include <boost/dll/shared_library.hpp>

#include <filesystem>

namespace secmlops::host {

// A dlopen'ed plugin library. Members are destroyed in reverse order: shutdown runs first (in the
// destructor body), the library is unloaded last.
class LoadedLibrary {
 public:
  boost::dll::shared_library library;
  std::filesystem::path path;
  const secmlops_library* table = nullptr;
  bool initialised = false;

  ~LoadedLibrary() {
    if (initialised && table != nullptr && table->shutdown != nullptr) table->shutdown();
  }
};

}  // namespace secmlops::host
