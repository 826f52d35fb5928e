#pragma once

#include "secmlops/host/registry.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::cli {

// State shared by every subcommand: global flags and the lazily loaded plugin registry.
struct Context {
  std::string log_level;
  std::vector<std::filesystem::path> plugin_dirs;
  bool builtin_plugins = true;  // false: only plugin_dirs
  int exit_code = 0;

  // Loads plugins from the default directories plus --plugin-dir on first use.
  host::Registry& registry();

 private:
  std::unique_ptr<host::Registry> registry_;
};

// Each subcommand lives in its own cmd_<name>.cpp and registers itself with
// SECMLOPS_CLI_COMMAND(name, function); main() adds them in name order.
using CommandRegistrar = void (*)(CLI::App& app, Context& ctx);
std::vector<std::pair<std::string, CommandRegistrar>>& command_registry();

struct CommandRegistration {
  CommandRegistration(const char* name, CommandRegistrar fn) { command_registry().emplace_back(name, fn); }
};

}  // namespace secmlops::cli

#define SECMLOPS_CLI_COMMAND(name, fn) \
  static const ::secmlops::cli::CommandRegistration secmlops_cli_command_##name{#name, fn};

namespace secmlops::cli {

}  // namespace secmlops::cli
