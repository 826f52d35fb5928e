#pragma once

// The descriptor catalogue: what each plugin library file holds — its plugins' facts, or why the
// host refuses it — remembered by the file's identity, so that a command learns every plugin's
// name and kind without loading the libraries it does not use. A changed file (any of device,
// inode, size, modification or change time) is read again; an entry is only a hint until its
// library opens, which checks that the library still says the same.
#include "secmlops/host/plugin_instance.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::host {

struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};
std::optional<FileIdentity> identity_of(const std::filesystem::path& path);

struct CatalogueEntry {
  FileIdentity id;
  std::string refusal;  // non-empty: refused for this reason whatever the environment
  std::vector<PluginFacts> plugins;
};

class PluginCatalogue {
 public:
  // Reads `file`; a missing, unreadable or malformed file is an empty catalogue. An empty path
  // is a catalogue that is never saved.
  explicit PluginCatalogue(std::filesystem::path file);
  [[nodiscard]] const CatalogueEntry* find(const std::string& library,
                                           const FileIdentity& id) const;
  void put(const std::string& library, CatalogueEntry entry);
  // Writes the catalogue when it changed (a temporary file renamed over the old one, so
  // concurrent commands never read half a file); failures are logged, never thrown.
  void save();

 private:
  std::filesystem::path file_;
  std::map<std::string, CatalogueEntry> entries_;
  bool changed_ = false;
};

}  // namespace secmlops::host
