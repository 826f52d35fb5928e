#include "secmlops/host/registry.hpp"

#include "loaded_library.hpp"
#include "plugin_catalogue.hpp"
#include "secmlops/host/plugin_loader.hpp"
#include "secmlops/host/program_directory.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace secmlops::host {

std::vector<std::filesystem::path> default_plugin_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (auto exe_dir = program_directory(); !exe_dir.empty()) {
    dirs.push_back(exe_dir / "plugins");
    dirs.push_back(exe_dir / ".." / "lib" / "secmlops" / "plugins");
  }
  if (const char* env = std::getenv("SECMLOPS_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) dirs.emplace_back(item);
  }
  return dirs;
}

namespace {

std::filesystem::path canonical_or_given(const std::filesystem::path& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : canonical;
}

// The *.so files of the directories, each directory sorted by name, as canonical paths. The
// directory is resolved once: a file in it that is not a symbolic link is its canonical path
// followed by the name (a command lists every plugin at start, and resolving each path walks
// all of its components).
std::vector<std::filesystem::path> library_files(const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::filesystem::path> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      spdlog::debug("plugin directory {} does not exist", dir.string());
      continue;
    }
    const auto resolved_dir = canonical_or_given(dir);
    std::vector<std::pair<std::filesystem::path, std::filesystem::path>> files;  // name, key
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".so" || !entry.is_regular_file(ec)) continue;
      std::error_code link_ec;
      auto name = entry.path().filename();
      auto key = entry.is_symlink(link_ec) || link_ec ? canonical_or_given(entry.path())
                                                      : resolved_dir / name;
      files.emplace_back(std::move(name), std::move(key));
    }
    if (ec) spdlog::warn("listing plugin directory {}: {}", dir.string(), ec.message());
    std::sort(files.begin(), files.end());
    for (auto& [name, key] : files) out.push_back(std::move(key));
  }
  return out;
}

}  // namespace

Registry::Registry(Registry&& other) noexcept
    : plugins_(std::move(other.plugins_)),
      errors_(std::move(other.errors_)),
      refused_(std::move(other.refused_)) {}

Registry& Registry::operator=(Registry&& other) noexcept {
  plugins_ = std::move(other.plugins_);
  errors_ = std::move(other.errors_);
  refused_ = std::move(other.refused_);
  return *this;
}

void Registry::load_directories(const std::vector<std::filesystem::path>& dirs) {
  for (const auto& key : library_files(dirs)) load_resolved(key);
}

bool Registry::known(const std::filesystem::path& library, bool same_file) const {
  for (const auto& p : plugins_) {
    std::error_code ec;
    if (p.library_path() == library ||
        (same_file && std::filesystem::equivalent(p.library_path(), library, ec)))
      return true;
  }
  return false;
}

bool Registry::add(const std::filesystem::path& library, std::vector<Plugin> loaded) {
  for (const auto& p : loaded) {
    auto clash = std::find_if(plugins_.begin(), plugins_.end(),
                              [&](const Plugin& q) { return q.name() == p.name(); });
    if (clash != plugins_.end()) {
      std::lock_guard<std::mutex> lock(mutex_);
      errors_.push_back({library, "plugin name '" + p.name() + "' is already provided by " +
                                      clash->library_path().string()});
      spdlog::warn("refused plugin library {}: {}", library.string(), errors_.back().reason);
      return false;
    }
  }
  plugins_.insert(plugins_.end(), loaded.begin(), loaded.end());
  return true;
}

bool Registry::load_library(const std::filesystem::path& path) {
  return load_resolved(canonical_or_given(path));
}

bool Registry::load_resolved(const std::filesystem::path& key) {
  if (known(key, true)) return true;  // already loaded
  auto result = load_plugin_library(key);
  if (auto* err = std::get_if<LoadError>(&result)) {
    std::lock_guard<std::mutex> lock(mutex_);
    errors_.push_back(std::move(*err));
    return false;
  }
  return add(key, std::move(std::get<std::vector<Plugin>>(result)));
}

void Registry::catalogue_directories(const std::vector<std::filesystem::path>& dirs,
                                     const std::filesystem::path& catalogue_file) {
  PluginCatalogue catalogue(catalogue_file);
  for (const auto& key : library_files(dirs)) {
    if (known(key, false)) continue;
    auto refuse = [&](std::string reason) {
      spdlog::warn("refused plugin library {}: {}", key.string(), reason);
      std::lock_guard<std::mutex> lock(mutex_);
      errors_.push_back({key, std::move(reason)});
    };
    auto id = identity_of(key);
    auto lib = std::make_shared<LoadedLibrary>(key);
    std::vector<Plugin> plugins;
    if (const CatalogueEntry* e = id ? catalogue.find(key.string(), *id) : nullptr) {
      if (!e->refusal.empty()) {
        refuse(e->refusal);
        continue;
      }
      lib->expected = e->plugins;
      for (uint32_t i = 0; i < e->plugins.size(); ++i)
        plugins.emplace_back(lib, i, std::make_shared<const PluginFacts>(e->plugins[i]));
    } else {
      auto r = open_library(*lib);
      if (r) {
        if (id && r->depends_on_file_only) catalogue.put(key.string(), {*id, r->reason, {}});
        refuse(std::move(r->reason));
        continue;
      }
      CatalogueEntry entry{id.value_or(FileIdentity{}), {}, {}};
      for (uint32_t i = 0; i < lib->table->plugin_count; ++i) {
        plugins.emplace_back(lib, lib->table->plugins[i]);
        entry.plugins.push_back(plugins.back().facts());
      }
      if (id) catalogue.put(key.string(), std::move(entry));
    }
    add(key, std::move(plugins));
  }
  catalogue.save();
}

bool Registry::usable(const Plugin& p) const {
  const auto& lib = p.library();
  if (lib->is_ready() || lib->ready()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  if (refused_.insert(lib.get()).second)
    errors_.push_back({lib->path, lib->refusal().value_or("refused")});
  return false;
}

void Registry::initialise_all() {
  for (const auto& p : plugins_) (void)usable(p);
  std::erase_if(plugins_, [&](const Plugin& p) { return refused_.count(p.library().get()) > 0; });
}

std::vector<Plugin> Registry::by_kind(secmlops_kind kind) const {
  std::vector<Plugin> out;
  for (const auto& p : plugins_)
    if (p.kind() == kind && usable(p)) out.push_back(p);
  return out;
}

std::optional<Plugin> Registry::find(secmlops_kind kind, const std::string& name) const {
  for (const auto& p : plugins_)
    if (p.kind() == kind && p.name() == name)
      return usable(p) ? std::optional<Plugin>(p) : std::nullopt;
  return std::nullopt;
}

}  // namespace secmlops::host
