#pragma once

#include "secmlops/host/plugin.hpp"
#include "secmlops/host/plugin_loader.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::host {

// Default plugin directories: next to the executable (plugins/ and ../lib/secmlops/plugins),
// then every entry of SECMLOPS_PLUGIN_PATH (colon-separated).
std::vector<std::filesystem::path> default_plugin_dirs();

// Every plugin the host knows, queryable by kind, name and format.
class Registry {
 public:
  // Loads every *.so in the directories (non-recursive, sorted by name for determinism).
  // Missing directories are skipped silently; refused libraries are recorded in errors().
  void load_directories(const std::vector<std::filesystem::path>& dirs);
  // Loads one library file; returns false and records the error when it is refused.
  bool load_library(const std::filesystem::path& path);

  [[nodiscard]] const std::vector<Plugin>& plugins() const { return plugins_; }
  [[nodiscard]] const std::vector<LoadError>& errors() const { return errors_; }
  [[nodiscard]] std::vector<Plugin> by_kind(secmlops_kind kind) const;
  [[nodiscard]] std::optional<Plugin> find(secmlops_kind kind, const std::string& name) const;
  [[nodiscard]] std::vector<Plugin> scanners_for_format(const std::string& format) const;

 private:
  std::vector<Plugin> plugins_;
  std::vector<LoadError> errors_;
};

}  // namespace secmlops::host
