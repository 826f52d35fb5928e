#pragma once

#include "secmlops/app/environment.hpp"
#include "secmlops/host/registry.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::cli {

// State shared by every subcommand: global flags, the lazily loaded plugin registry and the
// application layer's environment for the command line.
struct Context {
  std::string log_level;
  std::vector<std::filesystem::path> plugin_dirs;
  bool builtin_plugins = true;  // false: only plugin_dirs
  int exit_code = 0;

  // Loads plugins from the default directories plus --plugin-dir on first use.
  host::Registry& registry();
  // Paths as given, progress on a terminal, notices on stderr, Ctrl-C cancels (a second one
  // ends the process).
  app::Environment& env();

 private:
  std::unique_ptr<host::Registry> registry_;
  std::unique_ptr<app::Environment> env_;
};

// Each subcommand lives in its own cmd_<name>.cpp and registers itself with
// SECMLOPS_CLI_COMMAND(name, function); main() adds them in name order.
using CommandRegistrar = void (*)(CLI::App& app, Context& ctx);
std::vector<std::pair<std::string, CommandRegistrar>>& command_registry();

struct CommandRegistration {
  CommandRegistration(const char* name, CommandRegistrar fn) {
    command_registry().emplace_back(name, fn);
  }
};

// Splits "a,b" items of repeated options into one list.
std::vector<std::string> split_commas(const std::vector<std::string>& items);

// "key=value" options into KeyValue entries of a request; `flag` names the option in errors.
template <class Repeated>
void add_key_values(const std::vector<std::string>& raw, const char* flag, Repeated& out) {
  for (const auto& p : raw) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CLI::ValidationError(flag, "'" + p + "' is not of the form key=value");
    auto* kv = out.Add();
    kv->set_key(p.substr(0, eq));
    kv->set_value(p.substr(eq + 1));
  }
}

}  // namespace secmlops::cli

#define SECMLOPS_CLI_COMMAND(name, fn) \
  static const ::secmlops::cli::CommandRegistration secmlops_cli_command_##name{#name, fn};
