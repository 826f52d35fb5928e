#include "cli_context.hpp"

#include <secmlops/sdk/abi.h>

#include <iostream>

namespace secmlops::cli {

namespace {

void register_version(CLI::App& app, Context& /*ctx*/) {
  auto* cmd = app.add_subcommand("version", "print the secmlops and plugin ABI versions");
  cmd->callback([] {
    std::cout << "secmlops " << SECMLOPS_VERSION << "\nplugin ABI " << SECMLOPS_ABI_MAJOR << "."
              << SECMLOPS_ABI_MINOR << "\n";
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(version, register_version)

}  // namespace secmlops::cli
