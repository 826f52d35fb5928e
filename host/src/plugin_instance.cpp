#include "secmlops/host/plugin_instance.hpp"

#include "abi_sizes.hpp"
#include "loaded_library.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace secmlops::host {

const char* status_name(secmlops_status status) {
  switch (status) {
    case SECMLOPS_OK:
      return "OK";
    case SECMLOPS_ERR_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case SECMLOPS_ERR_UNSUPPORTED:
      return "UNSUPPORTED";
    case SECMLOPS_ERR_PARSE:
      return "PARSE";
    case SECMLOPS_ERR_IO:
      return "IO";
    case SECMLOPS_ERR_CANCELLED:
      return "CANCELLED";
    case SECMLOPS_ERR_LIMIT:
      return "LIMIT";
    case SECMLOPS_ERR_STATE:
      return "STATE";
    case SECMLOPS_ERR_INTERNAL:
      return "INTERNAL";
    case SECMLOPS_ERR_NO_MEMORY:
      return "NO_MEMORY";
    default:
      return "UNKNOWN_STATUS";
  }
}

const char* kind_name(secmlops_kind kind) {
  switch (kind) {
    case SECMLOPS_KIND_SCANNER:
      return "scanner";
    case SECMLOPS_KIND_MODEL:
      return "model";
    case SECMLOPS_KIND_ATTACK:
      return "attack";
    case SECMLOPS_KIND_REPORTER:
      return "reporter";
  }
  return "unknown";
}

namespace {

// The kind's required functions, then one name per capability bit: the names `secmlops plugins`
// lists, derived from the bits alone (abi.h, CAPABILITIES).
std::vector<std::string> capability_names(secmlops_kind kind, uint64_t bits) {
  std::vector<std::string> out;
  switch (kind) {
    case SECMLOPS_KIND_SCANNER:
      out = {"scan"};
      break;
    case SECMLOPS_KIND_MODEL:
      out = {"fit", "predict_proba"};
      break;
    case SECMLOPS_KIND_ATTACK:
      out = {"generate"};
      break;
    case SECMLOPS_KIND_REPORTER:
      out = {"on_event"};
      break;
  }
  static constexpr std::pair<uint64_t, const char*> kBits[] = {
      {SECMLOPS_CAP_PROBE, "probe"},
      {SECMLOPS_CAP_GRADIENT, "loss_gradient"},
      {SECMLOPS_CAP_DESCRIBE, "describe"},
      {SECMLOPS_CAP_ONNX_EXPORT, "export_onnx"},
      {SECMLOPS_CAP_ONNX_IMPORT, "import_onnx"},
      {SECMLOPS_CAP_NEEDS_GRADIENT, "needs_gradient"},
      {SECMLOPS_CAP_FLUSH, "flush"}};
  for (const auto& [bit, name] : kBits)
    if (bits & bit) out.emplace_back(name);
  return out;
}

// The bits that mean something for a kind; others a plugin set are ignored (never were read).
uint64_t kind_bits(secmlops_kind kind) {
  switch (kind) {
    case SECMLOPS_KIND_SCANNER:
      return SECMLOPS_CAP_PROBE;
    case SECMLOPS_KIND_MODEL:
      return SECMLOPS_CAP_GRADIENT | SECMLOPS_CAP_DESCRIBE | SECMLOPS_CAP_ONNX_EXPORT |
             SECMLOPS_CAP_ONNX_IMPORT;
    case SECMLOPS_KIND_ATTACK:
      return SECMLOPS_CAP_NEEDS_GRADIENT;
    case SECMLOPS_KIND_REPORTER:
      return SECMLOPS_CAP_FLUSH;
  }
  return 0;
}

}  // namespace

PluginFacts PluginFacts::of(const secmlops_plugin_descriptor& d) {
  PluginFacts f;
  f.name = d.name;
  f.kind = static_cast<secmlops_kind>(d.kind);
  f.version = d.version ? d.version : "";
  f.description = d.description ? d.description : "";
  // `license` exists since 1.1: a 1.0 descriptor is shorter and must not be read past its end.
  if (d.struct_size >= offsetof(secmlops_plugin_descriptor, license) + sizeof(const char*) &&
      d.license)
    f.license = d.license;
  f.abi_major = d.abi_major;
  f.abi_minor = d.abi_minor;
  f.capability_bits = d.capabilities & kind_bits(f.kind);
  // The one bit an older header could not set; the loader checked every other against its pointer.
  if (f.kind == SECMLOPS_KIND_REPORTER && !abi::knows_flush_bit(d.abi_minor) &&
      d.reporter->flush != nullptr)
    f.capability_bits |= SECMLOPS_CAP_FLUSH;
  f.capabilities = capability_names(f.kind, f.capability_bits);
  if (f.kind == SECMLOPS_KIND_SCANNER)
    for (const char* const* fmt = d.scanner->formats; fmt != nullptr && *fmt != nullptr; ++fmt)
      f.formats.emplace_back(*fmt);
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
    : lib_(std::move(library)),
      index_(index_in(*lib_, d)),
      facts_(std::make_shared<const PluginFacts>(PluginFacts::of(*d))) {}

Plugin::Plugin(std::shared_ptr<LoadedLibrary> library, uint32_t index,
               std::shared_ptr<const PluginFacts> facts)
    : lib_(std::move(library)), index_(index), facts_(std::move(facts)) {}

const std::filesystem::path& Plugin::library_path() const { return lib_->path; }

std::string Plugin::abi_version() const {
  return std::to_string(facts_->abi_major) + "." + std::to_string(facts_->abi_minor);
}

const secmlops_plugin_descriptor& Plugin::descriptor() const {
  if (!lib_->ready())
    throw PluginError(SECMLOPS_ERR_STATE,
                      name() + ": plugin library " + lib_->path.string() +
                          " was refused: " + lib_->refusal().value_or("unknown reason"));
  return *lib_->table->plugins[index_];
}

std::optional<std::vector<OptionSpec>> Plugin::options() const {
  // `options` exists since 1.3; the loader checked every declared entry.
  const auto& d = descriptor();
  if (d.abi_minor < 3 || d.struct_size < SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_3 ||
      d.options == nullptr)
    return std::nullopt;
  std::vector<OptionSpec> out;
  for (uint32_t i = 0; i < d.option_count; ++i) {
    const secmlops_option o = abi::declared_option(d, i);
    out.push_back({o.name, static_cast<secmlops_option_type>(o.type), o.help ? o.help : "",
                   o.default_value ? std::optional<std::string>(o.default_value) : std::nullopt});
  }
  return out;
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
  throw PluginError(status, plugin_.name() + ": " + what + " failed (" + status_name(status) + ")" +
                                (e.empty() ? "" : ": " + e));
}

}  // namespace secmlops::host
