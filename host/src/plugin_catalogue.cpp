#include "plugin_catalogue.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace secmlops::host {
namespace {

// Entries written by another host version may describe refusals this one would not make.
std::string host_tag() {
  return std::string(SECMLOPS_VERSION) + " abi " + std::to_string(SECMLOPS_ABI_MAJOR) + "." +
         std::to_string(SECMLOPS_ABI_MINOR);
}

nlohmann::json to_json(const PluginFacts& f) {
  return {{"name", f.name},
          {"version", f.version},
          {"description", f.description},
          {"license", f.license},
          {"kind", static_cast<int>(f.kind)},
          {"abi", {f.abi_major, f.abi_minor}},
          {"capability_bits", f.capability_bits},
          {"capabilities", f.capabilities},
          {"formats", f.formats}};
}

PluginFacts facts_from(const nlohmann::json& j) {
  PluginFacts f;
  f.name = j.at("name").get<std::string>();
  f.version = j.at("version").get<std::string>();
  f.description = j.at("description").get<std::string>();
  f.license = j.at("license").get<std::string>();
  int kind = j.at("kind").get<int>();
  if (kind < SECMLOPS_KIND_SCANNER || kind > SECMLOPS_KIND_REPORTER)
    throw std::out_of_range("kind");
  f.kind = static_cast<secmlops_kind>(kind);
  f.abi_major = j.at("abi").at(0).get<uint32_t>();
  f.abi_minor = j.at("abi").at(1).get<uint32_t>();
  f.capability_bits = j.at("capability_bits").get<uint64_t>();
  f.capabilities = j.at("capabilities").get<std::vector<std::string>>();
  f.formats = j.at("formats").get<std::vector<std::string>>();
  return f;
}

nlohmann::json to_json(const FileIdentity& id) {
  return {id.device, id.inode, id.size, id.mtime_ns, id.ctime_ns};
}

FileIdentity identity_from(const nlohmann::json& j) {
  return {j.at(0).get<uint64_t>(), j.at(1).get<uint64_t>(), j.at(2).get<uint64_t>(),
          j.at(3).get<int64_t>(), j.at(4).get<int64_t>()};
}

}  // namespace

std::optional<FileIdentity> identity_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                      static_cast<uint64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                      static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
}

PluginCatalogue::PluginCatalogue(std::filesystem::path file) : file_(std::move(file)) {
  if (file_.empty()) return;
  std::string text;
  {
    std::ifstream in(file_, std::ios::binary);
    if (!in) return;
    std::ostringstream bytes;  // read whole: parsing a string is several times faster than a stream
    bytes << in.rdbuf();
    text = std::move(bytes).str();
  }
  try {
    auto j = nlohmann::json::parse(text);
    if (j.at("host").get<std::string>() != host_tag()) return;
    for (const auto& [library, e] : j.at("libraries").items()) {
      CatalogueEntry entry;
      entry.id = identity_from(e.at("id"));
      entry.refusal = e.value("refusal", std::string());
      for (const auto& p : e.at("plugins")) entry.plugins.push_back(facts_from(p));
      if (entry.refusal.empty() == entry.plugins.empty()) continue;
      entries_.emplace(library, std::move(entry));
    }
  } catch (const std::exception& e) {
    spdlog::debug("ignoring the plugin catalogue {}: {}", file_.string(), e.what());
    entries_.clear();
  }
}

const CatalogueEntry* PluginCatalogue::find(const std::string& library,
                                            const FileIdentity& id) const {
  auto it = entries_.find(library);
  return it != entries_.end() && it->second.id == id ? &it->second : nullptr;
}

void PluginCatalogue::put(const std::string& library, CatalogueEntry entry) {
  entries_[library] = std::move(entry);
  changed_ = true;
}

void PluginCatalogue::save() {
  if (!changed_ || file_.empty()) return;
  changed_ = false;
  nlohmann::json libraries = nlohmann::json::object();
  for (const auto& [library, e] : entries_) {
    if (!identity_of(library)) continue;  // the file is gone
    nlohmann::json plugins = nlohmann::json::array();
    for (const auto& p : e.plugins) plugins.push_back(to_json(p));
    nlohmann::json j = {{"id", to_json(e.id)}, {"plugins", plugins}};
    if (!e.refusal.empty()) j["refusal"] = e.refusal;
    libraries[library] = std::move(j);
  }
  const std::string text = nlohmann::json{{"host", host_tag()}, {"libraries", libraries}}.dump();
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  auto tmp = file_;
  tmp += "." + std::to_string(::getpid()) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      spdlog::debug("cannot write the plugin catalogue {}", tmp.string());
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, file_, ec);
  if (ec) {
    spdlog::debug("cannot replace the plugin catalogue {}: {}", file_.string(), ec.message());
    std::filesystem::remove(tmp, ec);
  }
}

std::filesystem::path default_catalogue_file() {
  if (const char* v = std::getenv("SECMLOPS_PLUGIN_CATALOGUE")) {
    std::string s = v;
    if (s.empty() || s == "off") return {};
    return s;
  }
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg == '/')
    return std::filesystem::path(xdg) / "secmlops" / "plugin-catalogue.json";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home == '/')
    return std::filesystem::path(home) / ".cache" / "secmlops" / "plugin-catalogue.json";
  return {};
}

}  // namespace secmlops::host
