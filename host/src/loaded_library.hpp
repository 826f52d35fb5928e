#pragma once

#include "secmlops/host/plugin_instance.hpp"

#include <secmlops/sdk/abi.h>

#include <boost/dll/shared_library.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::host {

// Why a library was refused, and whether the same file would be refused again whatever the
// environment (a descriptor check, not a missing dependency or an init that failed): only those
// refusals may be remembered in the descriptor catalogue.
struct Refusal {
  std::string reason;
  bool depends_on_file_only = false;
};

// A plugin library: opened (dlopen, entry symbol, table and descriptor checks) and initialised at
// most once. A library the registry knows from its descriptor catalogue starts closed and is
// opened and initialised on its first use; `expected` then holds what the catalogue said, and a
// library that no longer says the same is refused. Members are destroyed in reverse order:
// shutdown runs first (in the destructor body), the library is unloaded last.
class LoadedLibrary {
 public:
  explicit LoadedLibrary(std::filesystem::path p) : path(std::move(p)) {}
  LoadedLibrary(const LoadedLibrary&) = delete;
  LoadedLibrary& operator=(const LoadedLibrary&) = delete;

  boost::dll::shared_library library;
  std::filesystem::path path;
  const secmlops_library* table = nullptr;  // once opened
  bool initialised = false;
  std::vector<PluginFacts> expected;  // catalogued facts, checked when a closed library opens

  // Opens and initialises the library on the first call; false when it was refused (then on
  // every call, with refusal() saying why).
  bool ready();
  [[nodiscard]] std::optional<std::string> refusal() const;
  // ready() has succeeded (no lock, no loading).
  [[nodiscard]] bool is_ready() const { return ready_.load(std::memory_order_acquire); }

  ~LoadedLibrary() {
    if (initialised && table != nullptr && table->shutdown != nullptr) table->shutdown();
  }

 private:
  mutable std::mutex mutex_;
  std::atomic<bool> ready_{false};
  std::optional<std::string> refusal_;
};

// The steps of loading (plugin_loader.cpp). open_library: ELF check, dlopen, entry symbol, the
// library table and every descriptor. initialise_library: the library's init.
std::optional<Refusal> open_library(LoadedLibrary& lib);
std::optional<std::string> initialise_library(LoadedLibrary& lib);

}  // namespace secmlops::host
