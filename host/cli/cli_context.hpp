#pragma once

#include "secmlops/host/registry.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace secmlops::cli {

// State shared by every subcommand: global flags and the lazily loaded plugin registry.
struct Context {
  std::string log_level;
  std::vector<std::filesystem::path> plugin_dirs;
  int exit_code = 0;

  // Loads plugins from the default directories plus --plugin-dir on first use.
  host::Registry& registry();

 private:
  std::unique_ptr<host::Registry> registry_;
};

// Each subcommand lives in its own cmd_<name>.cpp and registers itself here.
void register_version(CLI::App& app, Context& ctx);
void register_plugins(CLI::App& app, Context& ctx);
void register_scan(CLI::App& app, Context& ctx);

}  // namespace secmlops::cli
