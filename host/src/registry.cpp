#include "secmlops/host/registry.hpp"

#include <spdlog/spdlog.h>

#include <boost/dll/runtime_symbol_info.hpp>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace secmlops::host {

std::vector<std::filesystem::path> default_plugin_dirs() {
  std::vector<std::filesystem::path> dirs;
  try {
    std::filesystem::path exe_dir = boost::dll::program_location().parent_path().string();
    dirs.push_back(exe_dir / "plugins");
    dirs.push_back(exe_dir / ".." / "lib" / "secmlops" / "plugins");
  } catch (const std::exception& e) {
    spdlog::warn("cannot locate the executable to find its plugins: {}", e.what());
  }
  if (const char* env = std::getenv("SECMLOPS_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) dirs.emplace_back(item);
  }
  return dirs;
}

void Registry::load_directories(const std::vector<std::filesystem::path>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      spdlog::debug("plugin directory {} does not exist", dir.string());
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".so" && entry.is_regular_file(ec)) files.push_back(entry.path());
    }
    if (ec) spdlog::warn("listing plugin directory {}: {}", dir.string(), ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_library(f);
  }
}

bool Registry::load_library(const std::filesystem::path& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  const auto& key = ec ? path : canonical;
  for (const auto& p : plugins_) {
    std::error_code ec2;
    if (std::filesystem::equivalent(p.library_path(), key, ec2)) return true;  // already loaded
  }
  auto result = load_plugin_library(key);
  if (auto* err = std::get_if<LoadError>(&result)) {
    errors_.push_back(std::move(*err));
    return false;
  }
  auto& loaded = std::get<std::vector<Plugin>>(result);
  for (const auto& p : loaded) {
    auto clash = std::find_if(plugins_.begin(), plugins_.end(),
                              [&](const Plugin& q) { return q.name() == p.name(); });
    if (clash != plugins_.end()) {
      errors_.push_back({key, "plugin name '" + p.name() + "' is already provided by " +
                                  clash->library_path().string()});
      spdlog::warn("refused plugin library {}: {}", key.string(), errors_.back().reason);
      return false;
    }
  }
  plugins_.insert(plugins_.end(), loaded.begin(), loaded.end());
  return true;
}

std::vector<Plugin> Registry::by_kind(secmlops_kind kind) const {
  std::vector<Plugin> out;
  for (const auto& p : plugins_)
    if (p.kind() == kind) out.push_back(p);
  return out;
}

std::optional<Plugin> Registry::find(secmlops_kind kind, const std::string& name) const {
  for (const auto& p : plugins_)
    if (p.kind() == kind && p.name() == name) return p;
  return std::nullopt;
}

std::vector<Plugin> Registry::scanners_for_format(const std::string& format) const {
  std::vector<Plugin> out;
  for (const auto& p : plugins_) {
    if (p.kind() != SECMLOPS_KIND_SCANNER) continue;
    auto f = p.formats();
    if (std::find(f.begin(), f.end(), format) != f.end()) out.push_back(p);
  }
  return out;
}

}  // namespace secmlops::host
