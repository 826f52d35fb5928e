#pragma once

#include <secmlops/sdk/abi.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::host {

class LoadedLibrary;

// A configuration option a plugin declares (ABI 1.3; the default since 1.4).
struct OptionSpec {
  std::string name;
  secmlops_option_type type = SECMLOPS_OPTION_STRING;
  std::string help;
  std::optional<std::string> default_value;  // none declared, or no single default
};

// What a descriptor says about its plugin, as plain data: read once from a loaded library, or
// from the registry's descriptor catalogue without loading it.
struct PluginFacts {
  std::string name, version, description, license;
  secmlops_kind kind = SECMLOPS_KIND_SCANNER;
  uint32_t abi_major = 0, abi_minor = 0;
  // The descriptor's SECMLOPS_CAP_* bits, completed for bits its header did not have (flush
  // before 1.4): the one source of what a plugin can do.
  uint64_t capability_bits = 0;
  std::vector<std::string> capabilities;  // named from the kind and the bits ("fit", "probe", …)
  std::vector<std::string> formats;       // scanners only

  // Reads a descriptor the loader has checked.
  static PluginFacts of(const secmlops_plugin_descriptor& d);
  bool operator==(const PluginFacts&) const = default;
};

// One plugin of a library. Copies share the library, which stays loaded while any copy or any
// instance created from it lives. Name, kind and the other facts never load the library; the
// descriptor does: a library known from the descriptor catalogue is opened and initialised at
// its first use (PluginError when it is refused then).
class Plugin {
 public:
  // A plugin of an opened library (index = its position in the library table).
  Plugin(std::shared_ptr<LoadedLibrary> library, const secmlops_plugin_descriptor* descriptor);
  Plugin(std::shared_ptr<LoadedLibrary> library, uint32_t index,
         std::shared_ptr<const PluginFacts> facts);

  [[nodiscard]] const std::string& name() const { return facts_->name; }
  [[nodiscard]] secmlops_kind kind() const { return facts_->kind; }
  [[nodiscard]] const std::string& version() const { return facts_->version; }
  [[nodiscard]] const std::string& description() const { return facts_->description; }
  [[nodiscard]] const std::string& license() const { return facts_->license; }
  // The options the plugin understands, or nullopt when it does not declare them (built against
  // ABI 1.0-1.2, or declaring nothing): its configuration is then passed through unchecked.
  // Reads the descriptor, so it loads a catalogued library.
  [[nodiscard]] std::optional<std::vector<OptionSpec>> options() const;
  [[nodiscard]] std::string abi_version() const;
  [[nodiscard]] const std::vector<std::string>& capabilities() const {
    return facts_->capabilities;
  }
  [[nodiscard]] const std::vector<std::string>& formats() const { return facts_->formats; }
  [[nodiscard]] uint64_t capability_bits() const { return facts_->capability_bits; }
  [[nodiscard]] const PluginFacts& facts() const { return *facts_; }
  [[nodiscard]] const std::filesystem::path& library_path() const;
  // Loads and initialises the library on first use; throws PluginError when it is refused.
  [[nodiscard]] const secmlops_plugin_descriptor& descriptor() const;
  [[nodiscard]] const std::shared_ptr<LoadedLibrary>& library() const { return lib_; }

 private:
  std::shared_ptr<LoadedLibrary> lib_;
  uint32_t index_;
  std::shared_ptr<const PluginFacts> facts_;
};

// An instance of a plugin for one job; destroys itself and keeps its library loaded.
class Instance {
 public:
  // Throws PluginError with the plugin's last_error when create fails.
  Instance(const Plugin& plugin, const std::vector<std::pair<std::string, std::string>>& config);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  [[nodiscard]] secmlops_instance* raw() const { return raw_; }
  [[nodiscard]] const Plugin& plugin() const { return plugin_; }
  // The plugin's explanation of the last failed call on this instance.
  [[nodiscard]] std::string last_error() const;
  // Throws PluginError("<plugin>: <what> failed (<status>): <last_error>") on a non-OK status.
  void check(secmlops_status status, const char* what) const;

 private:
  Plugin plugin_;
  secmlops_instance* raw_ = nullptr;
};

class PluginError : public std::runtime_error {
 public:
  PluginError(secmlops_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  [[nodiscard]] secmlops_status status() const { return status_; }

 private:
  secmlops_status status_;
};

const char* status_name(secmlops_status status);
const char* kind_name(secmlops_kind kind);

}  // namespace secmlops::host
