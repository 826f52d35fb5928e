#pragma once

#include <secmlops/sdk/abi.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::host {

class LoadedLibrary;

// A configuration option a plugin declares (ABI 1.3).
struct OptionSpec {
  std::string name;
  secmlops_option_type type = SECMLOPS_OPTION_STRING;
  std::string help;
};

// One plugin of a loaded library. Copies share the library, which stays loaded while any copy
// or any instance created from it lives.
class Plugin {
 public:
  Plugin(std::shared_ptr<LoadedLibrary> library, const secmlops_plugin_descriptor* descriptor);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] secmlops_kind kind() const { return static_cast<secmlops_kind>(d_->kind); }
  [[nodiscard]] std::string version() const { return d_->version ? d_->version : ""; }
  [[nodiscard]] std::string description() const { return d_->description ? d_->description : ""; }
  [[nodiscard]] std::string license() const;
  // The options `create` understands, or nullopt when the plugin does not declare them (built
  // against ABI 1.0/1.1, or declaring nothing): its configuration is then passed through.
  [[nodiscard]] std::optional<std::vector<OptionSpec>> options() const;
  [[nodiscard]] std::string abi_version() const;
  [[nodiscard]] std::vector<std::string> capabilities() const;
  [[nodiscard]] std::vector<std::string> formats() const;
  [[nodiscard]] const std::filesystem::path& library_path() const;
  [[nodiscard]] const secmlops_plugin_descriptor& descriptor() const { return *d_; }
  [[nodiscard]] const std::shared_ptr<LoadedLibrary>& library() const { return lib_; }

 private:
  std::shared_ptr<LoadedLibrary> lib_;
  const secmlops_plugin_descriptor* d_;
  std::string name_;
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
const char* option_type_name(secmlops_option_type type);
// Checks that `value` parses as `type`; an explanation when it does not.
std::optional<std::string> option_value_error(secmlops_option_type type, const std::string& value);
const char* kind_name(secmlops_kind kind);
const char* severity_name(secmlops_severity severity);

}  // namespace secmlops::host
