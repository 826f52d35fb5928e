#include "secmlops/host/plugin.hpp"

#include "loaded_library.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>

namespace secmlops::host {

const char* status_name(secmlops_status status) {
  switch (status) {
    case SECMLOPS_OK: return "OK";
    case SECMLOPS_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case SECMLOPS_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case SECMLOPS_ERR_PARSE: return "PARSE";
    case SECMLOPS_ERR_IO: return "IO";
    case SECMLOPS_ERR_CANCELLED: return "CANCELLED";
    case SECMLOPS_ERR_LIMIT: return "LIMIT";
    case SECMLOPS_ERR_STATE: return "STATE";
    case SECMLOPS_ERR_INTERNAL: return "INTERNAL";
    case SECMLOPS_ERR_NO_MEMORY: return "NO_MEMORY";
    default: return "UNKNOWN_STATUS";
  }
}

const char* kind_name(secmlops_kind kind) {
  switch (kind) {
    case SECMLOPS_KIND_SCANNER: return "scanner";
    case SECMLOPS_KIND_MODEL: return "model";
    case SECMLOPS_KIND_ATTACK: return "attack";
    case SECMLOPS_KIND_REPORTER: return "reporter";
  }
  return "unknown";
}

const char* severity_name(secmlops_severity severity) {
  switch (severity) {
    case SECMLOPS_SEVERITY_INFO: return "INFO";
    case SECMLOPS_SEVERITY_LOW: return "LOW";
    case SECMLOPS_SEVERITY_MEDIUM: return "MEDIUM";
    case SECMLOPS_SEVERITY_HIGH: return "HIGH";
    case SECMLOPS_SEVERITY_CRITICAL: return "CRITICAL";
  }
  return "UNKNOWN";
}

PluginFacts PluginFacts::of(const secmlops_plugin_descriptor& d) {
  PluginFacts f;
  f.name = d.name;
  f.kind = static_cast<secmlops_kind>(d.kind);
  f.version = d.version ? d.version : "";
  f.description = d.description ? d.description : "";
  // `license` exists since 1.1: a 1.0 descriptor is shorter and must not be read past its end.
  if (d.struct_size >= offsetof(secmlops_plugin_descriptor, license) + sizeof(const char*) && d.license)
    f.license = d.license;
  f.abi_major = d.abi_major;
  f.abi_minor = d.abi_minor;
  f.capability_bits = d.capabilities;
  auto& caps = f.capabilities;
  switch (f.kind) {
    case SECMLOPS_KIND_SCANNER:
      caps.emplace_back("scan");
      if (d.scanner->probe) caps.emplace_back("probe");
      for (const char* const* fmt = d.scanner->formats; fmt != nullptr && *fmt != nullptr; ++fmt)
        f.formats.emplace_back(*fmt);
      break;
    case SECMLOPS_KIND_MODEL: {
      const auto* m = d.model;
      caps.emplace_back("fit");
      caps.emplace_back("predict_proba");
      if (m->loss_gradient) caps.emplace_back("loss_gradient");
      if (m->describe) caps.emplace_back("describe");
      if (m->export_onnx) caps.emplace_back("export_onnx");
      if (m->import_onnx) caps.emplace_back("import_onnx");
      break;
    }
    case SECMLOPS_KIND_ATTACK:
      caps.emplace_back("generate");
      if (d.capabilities & SECMLOPS_CAP_NEEDS_GRADIENT) caps.emplace_back("needs_gradient");
      break;
    case SECMLOPS_KIND_REPORTER:
      caps.emplace_back("on_event");
      if (d.reporter->flush) caps.emplace_back("flush");
      break;
  }
  return f;
}

namespace {

uint32_t index_in(const LoadedLibrary& lib, const secmlops_plugin_descriptor* d) {
  for (uint32_t i = 0; lib.table != nullptr && i < lib.table->plugin_count; ++i)
    if (lib.table->plugins[i] == d) return i;
  throw std::logic_error("descriptor not in its library's table");
}

}  // namespace

Plugin::Plugin(std::shared_ptr<LoadedLibrary> library, const secmlops_plugin_descriptor* d)
    : lib_(std::move(library)), index_(index_in(*lib_, d)),
      facts_(std::make_shared<const PluginFacts>(PluginFacts::of(*d))) {}

Plugin::Plugin(std::shared_ptr<LoadedLibrary> library, uint32_t index, std::shared_ptr<const PluginFacts> facts)
    : lib_(std::move(library)), index_(index), facts_(std::move(facts)) {}

const std::filesystem::path& Plugin::library_path() const { return lib_->path; }

std::string Plugin::abi_version() const {
  return std::to_string(facts_->abi_major) + "." + std::to_string(facts_->abi_minor);
}

const secmlops_plugin_descriptor& Plugin::descriptor() const {
  if (!lib_->ready())
    throw PluginError(SECMLOPS_ERR_STATE, name() + ": plugin library " + lib_->path.string() +
                                              " was refused: " + lib_->refusal().value_or("unknown reason"));
  return *lib_->table->plugins[index_];
}

std::optional<std::vector<OptionSpec>> Plugin::options() const {
  // `options` exists since 1.3; the loader checked every declared entry.
  const auto& d = descriptor();
  if (d.abi_minor < 3 || d.struct_size < sizeof(secmlops_plugin_descriptor) || d.options == nullptr)
    return std::nullopt;
  std::vector<OptionSpec> out;
  for (uint32_t i = 0; i < d.option_count; ++i) {
    const auto& o = d.options[i];
    out.push_back({o.name, static_cast<secmlops_option_type>(o.type), o.help ? o.help : ""});
  }
  return out;
}

const char* option_type_name(secmlops_option_type type) {
  switch (type) {
    case SECMLOPS_OPTION_STRING: return "string";
    case SECMLOPS_OPTION_INT: return "integer";
    case SECMLOPS_OPTION_DOUBLE: return "number";
    case SECMLOPS_OPTION_BOOL: return "boolean";
  }
  return "unknown";
}

std::optional<std::string> option_value_error(secmlops_option_type type, const std::string& value) {
  const char* b = value.data();
  const char* e = b + value.size();
  switch (type) {
    case SECMLOPS_OPTION_STRING: return std::nullopt;
    case SECMLOPS_OPTION_INT: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e && !value.empty()) return std::nullopt;
      return "an integer";
    }
    case SECMLOPS_OPTION_DOUBLE: {
      double v = 0;
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e && !value.empty() && std::isfinite(v)) return std::nullopt;
      return "a finite number";
    }
    case SECMLOPS_OPTION_BOOL:
      if (value == "true" || value == "false" || value == "1" || value == "0") return std::nullopt;
      return "true or false";
  }
  return "a value of a known type";
}

Instance::Instance(const Plugin& plugin,
                   const std::vector<std::pair<std::string, std::string>>& config)
    : plugin_(plugin) {
  std::vector<secmlops_kv> kv;
  kv.reserve(config.size());
  for (const auto& [k, v] : config) kv.push_back({k.c_str(), v.c_str()});
  const auto& d = plugin_.descriptor();
  secmlops_status s = d.create(kv.data(), static_cast<uint32_t>(kv.size()), &raw_);
  if (s != SECMLOPS_OK || raw_ == nullptr) {
    const char* e = d.last_error(nullptr);
    raw_ = nullptr;
    throw PluginError(s == SECMLOPS_OK ? SECMLOPS_ERR_INTERNAL : s,
                      plugin_.name() + ": create failed (" + status_name(s) +
                          "): " + (e != nullptr && *e ? e : "no reason given"));
  }
}

Instance::~Instance() {
  if (raw_ != nullptr) plugin_.descriptor().destroy(raw_);
}

std::string Instance::last_error() const {
  const char* e = plugin_.descriptor().last_error(raw_);
  return e != nullptr ? e : "";
}

void Instance::check(secmlops_status status, const char* what) const {
  if (status == SECMLOPS_OK) return;
  std::string e = last_error();
  throw PluginError(status, plugin_.name() + ": " + what + " failed (" + status_name(status) +
                                ")" + (e.empty() ? "" : ": " + e));
}

}  // namespace secmlops::host
