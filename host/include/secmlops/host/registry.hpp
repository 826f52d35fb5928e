#pragma once

#include "secmlops/host/plugin_instance.hpp"
#include "secmlops/host/plugin_loader.hpp"

#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace secmlops::host {

// Default plugin directories: next to the executable (plugins/ and ../lib/secmlops/plugins),
// then every entry of SECMLOPS_PLUGIN_PATH (colon-separated).
std::vector<std::filesystem::path> default_plugin_dirs();

// Where the descriptor catalogue lives: $SECMLOPS_PLUGIN_CATALOGUE ("" or "off": nowhere), else
// $XDG_CACHE_HOME/secmlops/plugin-catalogue.json, else ~/.cache/secmlops/plugin-catalogue.json.
std::filesystem::path default_catalogue_file();

// Every plugin the host knows, queryable by kind, name and format.
//
// Two ways to fill it. load_directories / load_library load and initialise every library at once
// (a long-running server, a scan worker). catalogue_directories reads what each library holds
// from the descriptor catalogue (or, for a new or changed file, from the library itself, without
// its init) and loads and initialises a library only when a lookup returns one of its plugins: a
// command pays for the plugins it uses. Either way a library refused on loading or at its init
// is left out of every answer and listed in errors().
//
// Loading is not thread-safe; lookups are (libraries may be initialised by concurrent lookups).
class Registry {
 public:
  Registry() = default;
  // Movable (a registry is built, then handed over); the lock is not moved, it guards nothing
  // while no lookup runs.
  Registry(Registry&& other) noexcept;
  Registry& operator=(Registry&& other) noexcept;

  // Loads every *.so in the directories (non-recursive, sorted by name for determinism).
  // Missing directories are skipped silently; refused libraries are recorded in errors().
  void load_directories(const std::vector<std::filesystem::path>& dirs);
  // Loads one library file; returns false and records the error when it is refused.
  bool load_library(const std::filesystem::path& path);
  // Finds the libraries of the directories as load_directories does, but loads a library only
  // at the first lookup of one of its plugins. `catalogue` is the descriptor cache file
  // (default_catalogue_file(); empty: none, every library is opened, not initialised).
  void catalogue_directories(const std::vector<std::filesystem::path>& dirs,
                             const std::filesystem::path& catalogue);
  // Loads and initialises every library now; the refused ones leave plugins() for errors().
  void initialise_all();

  // Every plugin not refused so far (a catalogued library's plugins until a first use fails).
  [[nodiscard]] const std::vector<Plugin>& plugins() const { return plugins_; }
  // Refused libraries. Lookups may add to it: read it while no lookup runs on another thread.
  [[nodiscard]] const std::vector<LoadError>& errors() const { return errors_; }
  // Lookups return plugins whose library is loaded and initialised.
  [[nodiscard]] std::vector<Plugin> by_kind(secmlops_kind kind) const;
  [[nodiscard]] std::optional<Plugin> find(secmlops_kind kind, const std::string& name) const;

 private:
  // load_library for a path already resolved (as library_files returns them).
  bool load_resolved(const std::filesystem::path& key);
  // Adds a library's plugins unless one of their names is taken (then records the refusal).
  bool add(const std::filesystem::path& library, std::vector<Plugin> plugins);
  // Already added: the same canonical path, or (same_file) the same file by another name.
  bool known(const std::filesystem::path& library, bool same_file) const;
  // Loads and initialises the plugin's library if needed; false (refusal recorded) when refused.
  bool usable(const Plugin& p) const;

  std::vector<Plugin> plugins_;
  mutable std::mutex mutex_;  // errors_ and refused_: lookups add refusals
  mutable std::vector<LoadError> errors_;
  mutable std::set<const void*> refused_;  // libraries whose refusal is in errors_
};

}  // namespace secmlops::host
