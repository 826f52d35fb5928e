#include "secmlops/host/plugin_loader.hpp"

#include "abi_sizes.hpp"
#include "loaded_library.hpp"
#include "secmlops/host/job.hpp"

#include <spdlog/spdlog.h>

#include <boost/dll/shared_library.hpp>

#include <exception>
#include <fstream>
#include <optional>
#include <regex>

namespace secmlops::host {
namespace {

std::string ver(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Checks a version pair against the host's; returns the reason for refusal or nullopt.
std::optional<std::string> check_version(uint32_t major, uint32_t minor, const std::string& what) {
  if (major != SECMLOPS_ABI_MAJOR)
    return what + " was built for ABI major " + std::to_string(major) + ", the host speaks " +
           ver(SECMLOPS_ABI_MAJOR, SECMLOPS_ABI_MINOR) + " (rebuild it against this SDK)";
  if (minor > SECMLOPS_ABI_MINOR)
    return what + " was built for ABI " + ver(major, minor) + ", newer than the host's " +
           ver(SECMLOPS_ABI_MAJOR, SECMLOPS_ABI_MINOR) + " (upgrade secmlops)";
  return std::nullopt;
}

std::optional<std::string> check_size(uint32_t actual, size_t required, const std::string& what,
                                      uint32_t minor) {
  if (actual < required)
    return what + " is " + std::to_string(actual) + " bytes, ABI " +
           ver(SECMLOPS_ABI_MAJOR, minor) + " requires at least " + std::to_string(required);
  return std::nullopt;
}

// Validates one descriptor: version, size, identity, kind table and capability consistency.
std::optional<std::string> check_descriptor(const secmlops_plugin_descriptor* d, uint32_t index) {
  std::string where = "plugin #" + std::to_string(index);
  if (d == nullptr) return where + " descriptor is NULL";
  if (d->struct_size < offsetof(secmlops_plugin_descriptor, name) + sizeof(const char*))
    return where + " descriptor is " + std::to_string(d->struct_size) + " bytes, too small to read";
  if (d->name != nullptr) where = "plugin '" + std::string(d->name).substr(0, 64) + "'";
  if (auto e = check_version(d->abi_major, d->abi_minor, where)) return e;
  if (auto e = check_size(d->struct_size, abi::descriptor_min_size(d->abi_minor),
                          where + " descriptor", d->abi_minor))
    return e;
  static const std::regex name_re(SECMLOPS_PLUGIN_NAME_PATTERN);
  if (d->name == nullptr || !std::regex_match(d->name, name_re))
    return where + " has an invalid name (want " SECMLOPS_PLUGIN_NAME_PATTERN ")";
  where = "plugin '" + std::string(d->name) + "'";
  if (d->version == nullptr) return where + " has no version";
  if (d->create == nullptr) return where + " is missing function create";
  if (d->destroy == nullptr) return where + " is missing function destroy";
  if (d->last_error == nullptr) return where + " is missing function last_error";

  if (d->abi_minor >= 3 && d->options != nullptr) {
    if (d->option_count > abi::kMaxDeclaredOptions)
      return where + " declares " + std::to_string(d->option_count) + " options, at most " +
             std::to_string(abi::kMaxDeclaredOptions) + " are allowed";
    // Entries are read with the stride of the first one's struct_size, so all must agree.
    const uint32_t stride = d->option_count > 0 ? d->options[0].struct_size : 0;
    if (stride > abi::kMaxOptionStructSize)
      return where + " declares options of " + std::to_string(stride) + " bytes each, at most " +
             std::to_string(abi::kMaxOptionStructSize) + " are allowed";
    for (uint32_t i = 0; i < d->option_count; ++i) {
      if (auto e = check_size(stride, abi::option_min_size(d->abi_minor),
                              where + " option #" + std::to_string(i), d->abi_minor))
        return e;
      const secmlops_option o = abi::declared_option(*d, i);
      if (o.struct_size != stride)
        return where + " declares option #" + std::to_string(i) + " of " +
               std::to_string(o.struct_size) + " bytes after options of " + std::to_string(stride) +
               " (all entries must have one size)";
      if (o.name == nullptr || *o.name == '\0')
        return where + " declares option #" + std::to_string(i) + " without a name";
      if (o.type > SECMLOPS_OPTION_BOOL)
        return where + " declares option '" + std::string(o.name).substr(0, 64) +
               "' with unknown type " + std::to_string(o.type);
    }
  }
  const int tables = (d->scanner != nullptr) + (d->model != nullptr) + (d->attack != nullptr) +
                     (d->reporter != nullptr);
  if (tables != 1)
    return where + " must provide exactly one kind table, has " + std::to_string(tables);
  const uint64_t caps = d->capabilities;
  auto cap_mismatch = [&](uint64_t bit, bool present,
                          const char* fn) -> std::optional<std::string> {
    bool claimed = (caps & bit) != 0;
    if (claimed && !present)
      return where + " claims capability " + fn + " but the function is missing";
    if (!claimed && present)
      return where + " provides " + fn + " but does not declare the capability";
    return std::nullopt;
  };
  switch (d->kind) {
    case SECMLOPS_KIND_SCANNER: {
      const auto* s = d->scanner;
      if (s == nullptr) return where + " is a scanner without a scanner table";
      if (auto e = check_size(s->struct_size, abi::scanner_api_min_size(d->abi_minor),
                              where + " scanner table", d->abi_minor))
        return e;
      if (s->scan == nullptr) return where + " is missing function scan";
      if (s->formats == nullptr || s->formats[0] == nullptr) return where + " declares no formats";
      if (auto e = cap_mismatch(SECMLOPS_CAP_PROBE, s->probe != nullptr, "probe")) return e;
      break;
    }
    case SECMLOPS_KIND_MODEL: {
      const auto* m = d->model;
      if (m == nullptr) return where + " is a model without a model table";
      if (auto e = check_size(m->struct_size, abi::model_api_min_size(d->abi_minor),
                              where + " model table", d->abi_minor))
        return e;
      if (m->fit == nullptr) return where + " is missing function fit";
      if (m->info == nullptr) return where + " is missing function info";
      if (m->predict_proba == nullptr) return where + " is missing function predict_proba";
      if (auto e =
              cap_mismatch(SECMLOPS_CAP_GRADIENT, m->loss_gradient != nullptr, "loss_gradient"))
        return e;
      if (auto e = cap_mismatch(SECMLOPS_CAP_DESCRIBE, m->describe != nullptr, "describe"))
        return e;
      if (auto e = cap_mismatch(SECMLOPS_CAP_ONNX_EXPORT, m->export_onnx != nullptr, "export_onnx"))
        return e;
      if (auto e = cap_mismatch(SECMLOPS_CAP_ONNX_IMPORT, m->import_onnx != nullptr, "import_onnx"))
        return e;
      break;
    }
    case SECMLOPS_KIND_ATTACK: {
      const auto* a = d->attack;
      if (a == nullptr) return where + " is an attack without an attack table";
      if (auto e = check_size(a->struct_size, abi::attack_api_min_size(d->abi_minor),
                              where + " attack table", d->abi_minor))
        return e;
      if (a->generate == nullptr) return where + " is missing function generate";
      break;
    }
    case SECMLOPS_KIND_REPORTER: {
      const auto* r = d->reporter;
      if (r == nullptr) return where + " is a reporter without a reporter table";
      if (auto e = check_size(r->struct_size, abi::reporter_api_min_size(d->abi_minor),
                              where + " reporter table", d->abi_minor))
        return e;
      if (r->on_event == nullptr) return where + " is missing function on_event";
      // Older headers had no bit for flush: the host derives it from the pointer (PluginFacts).
      if (abi::knows_flush_bit(d->abi_minor))
        if (auto e = cap_mismatch(SECMLOPS_CAP_FLUSH, r->flush != nullptr, "flush")) return e;
      break;
    }
    default:
      return where + " has unknown kind " + std::to_string(d->kind);
  }
  return std::nullopt;
}

bool looks_like_elf(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

}  // namespace

std::optional<Refusal> open_library(LoadedLibrary& lib) {
  auto fixed = [](std::string reason) { return Refusal{std::move(reason), true}; };
  if (!looks_like_elf(lib.path)) return fixed("not a shared library (no ELF header)");
  try {
    lib.library.load(lib.path.string(),
                     boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now);
  } catch (const std::exception& e) {
    return Refusal{std::string("cannot be loaded: ") + e.what()};  // a dependency may appear later
  }
  if (!lib.library.has(SECMLOPS_ENTRY_SYMBOL))
    return fixed(std::string("missing entry symbol ") + SECMLOPS_ENTRY_SYMBOL +
                 " (is it a secmlops plugin? export it with SECMLOPS_EXPORT_PLUGINS)");

  const secmlops_library* table = nullptr;
  try {
    auto entry =
        lib.library.get<const secmlops_library*(uint32_t, uint32_t)>(SECMLOPS_ENTRY_SYMBOL);
    table = entry(SECMLOPS_ABI_MAJOR, SECMLOPS_ABI_MINOR);
  } catch (const std::exception& e) {
    return Refusal{std::string("entry point threw: ") + e.what()};
  } catch (...) {
    return Refusal{"entry point threw an unknown exception"};
  }
  if (table == nullptr) return Refusal{"entry point returned no library table"};
  if (table->struct_size < offsetof(secmlops_library, plugin_count))
    return fixed("library table is " + std::to_string(table->struct_size) +
                 " bytes, too small to read");
  if (auto e = check_version(table->abi_major, table->abi_minor, "library")) return fixed(*e);
  if (auto e = check_size(table->struct_size, abi::library_min_size(table->abi_minor),
                          "library table", table->abi_minor))
    return fixed(*e);
  if (table->plugin_count == 0 || table->plugins == nullptr)
    return fixed("library declares no plugins");
  if (table->plugin_count > 1024) return fixed("library declares an absurd number of plugins");
  for (uint32_t i = 0; i < table->plugin_count; ++i)
    if (auto e = check_descriptor(table->plugins[i], i)) return fixed(*e);
  lib.table = table;
  return std::nullopt;
}

std::optional<std::string> initialise_library(LoadedLibrary& lib) {
  const secmlops_library* table = lib.table;
  if (table->init != nullptr) {
    secmlops_status s = SECMLOPS_ERR_INTERNAL;
    std::string thrown;
    try {
      s = table->init(host_services());
    } catch (const std::exception& e) {
      thrown = e.what();
    } catch (...) {
      thrown = "unknown exception";
    }
    if (!thrown.empty()) return "init threw an exception: " + thrown;
    if (s != SECMLOPS_OK) {
      // abi.h, ERRORS: the first plugin's last_error(NULL), on this thread, explains a failed init.
      const char* why = table->plugins[0]->last_error(nullptr);
      return std::string("init failed (") + status_name(s) +
             "): " + (why != nullptr && *why ? why : "no reason given");
    }
  }
  lib.initialised = true;
  return std::nullopt;
}

bool LoadedLibrary::ready() {
  if (is_ready()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  if (is_ready()) return true;
  if (refusal_) return false;
  auto refuse = [&](std::string reason) {
    spdlog::warn("refused plugin library {}: {}", path.string(), reason);
    refusal_ = std::move(reason);
    return false;
  };
  if (table == nullptr) {
    if (auto r = open_library(*this)) return refuse(std::move(r->reason));
    // Opened because the catalogue said what it holds: it must still say the same.
    bool same = expected.empty() || table->plugin_count == expected.size();
    for (uint32_t i = 0; same && !expected.empty() && i < table->plugin_count; ++i)
      same = PluginFacts::of(*table->plugins[i]) == expected[i];
    if (!same)
      return refuse(
          "the library changed since its descriptors were catalogued (run the command again)");
  }
  if (!initialised)
    if (auto r = initialise_library(*this)) return refuse(std::move(*r));
  spdlog::debug("initialised plugin library {}", path.string());
  ready_.store(true, std::memory_order_release);
  return true;
}

std::optional<std::string> LoadedLibrary::refusal() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return refusal_;
}

std::variant<std::vector<Plugin>, LoadError> load_plugin_library(
    const std::filesystem::path& path) {
  auto lib = std::make_shared<LoadedLibrary>(path);
  if (!lib->ready()) return LoadError{path, *lib->refusal()};
  const secmlops_library* table = lib->table;
  std::vector<Plugin> plugins;
  plugins.reserve(table->plugin_count);
  for (uint32_t i = 0; i < table->plugin_count; ++i) plugins.emplace_back(lib, table->plugins[i]);
  spdlog::debug("loaded {} plugin(s) from {}", plugins.size(), path.string());
  return plugins;
}

}  // namespace secmlops::host
