#include "cli_context.hpp"
#include "secmlops/host/plugin_info.hpp"
#include "secmlops/host/report_render.hpp"

#include <iostream>
#include <memory>

namespace secmlops::cli {

namespace {

void register_plugins(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("plugins", "list the loaded plugins and the libraries refused");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print the PluginList message as JSON");
  cmd->callback([&ctx, json] {
    ctx.registry().initialise_all();  // list what loads, and why the others do not
    auto list = host::plugin_list(ctx.registry(), /*with_options=*/true);
    if (*json)
      std::cout << host::to_json(list);
    else
      host::render_text(list, std::cout);
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(plugins, register_plugins)

}  // namespace secmlops::cli
