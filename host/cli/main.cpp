#include "cli_context.hpp"
#include "progress.hpp"
#include "secmlops/host/csv.hpp"
#include "secmlops/host/guarded_main.hpp"
#include "secmlops/host/large_allocations.hpp"
#include "secmlops/host/logging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <exception>
#include <iostream>
#include <sstream>

namespace secmlops::cli {
namespace {

// Ctrl-C cancels the running operation (its MLflow runs end KILLED); a second one ends the
// process at once. Only an atomic store happens in the handler.
std::shared_ptr<host::CancelToken>& interrupt_token() {
  static auto token = std::make_shared<host::CancelToken>();
  return token;
}
host::CancelToken* g_interrupt = nullptr;

extern "C" void on_interrupt(int sig) {
  if (g_interrupt) g_interrupt->cancel();
  std::signal(sig, SIG_DFL);
}

const app::LocalFiles& local_files() {
  static const app::LocalFiles files;
  return files;
}

}  // namespace

app::Environment& Context::env() {
  if (!env_) {
    env_ = std::make_unique<app::Environment>(app::Environment{registry(), local_files()});
    env_->cancel = interrupt_token();
    g_interrupt = env_->cancel.get();
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    env_->progress = progress_printer(false);
    env_->notice = [](const std::string& line) { std::cerr << line << "\n"; };
  }
  return *env_;
}

std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ','))
      if (!part.empty()) out.push_back(part);
  }
  return out;
}

host::Registry& Context::registry() {
  if (!registry_) {
    registry_ = std::make_unique<host::Registry>();
    auto dirs =
        builtin_plugins ? host::default_plugin_dirs() : std::vector<std::filesystem::path>{};
    dirs.insert(dirs.end(), plugin_dirs.begin(), plugin_dirs.end());
    // Libraries are loaded when a command first asks for one of their plugins.
    registry_->catalogue_directories(dirs, host::default_catalogue_file());
  }
  return *registry_;
}

std::vector<std::pair<std::string, CommandRegistrar>>& command_registry() {
  static std::vector<std::pair<std::string, CommandRegistrar>> commands;
  return commands;
}

}  // namespace secmlops::cli

static int program_main(int argc, char** argv) {
  using namespace secmlops;
  CLI::App app{
      "secmlops: is this model file safe to load, how robust is this model, and where is the "
      "evidence?"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "secmlops " SECMLOPS_VERSION);
  cli::Context ctx;
  app.add_option("--log-level", ctx.log_level,
                 "trace, debug, info, warn, error or off (default: $SECMLOPS_LOG_LEVEL or warn)");
  app.add_option("--plugin-dir", ctx.plugin_dirs,
                 "extra directory of plugin libraries (repeatable; also $SECMLOPS_PLUGIN_PATH)");
  app.add_flag("--no-builtin-plugins{false}", ctx.builtin_plugins,
               "load plugins only from --plugin-dir, not from the built-in folders");
  app.parse_complete_callback([&] {
    try {
      host::init_logging(ctx.log_level);
    } catch (const std::exception& e) {
      throw CLI::ValidationError("--log-level", e.what());
    }
  });
  auto commands = cli::command_registry();
  std::sort(commands.begin(), commands.end());
  // A command named first is the only one parsed: the others need not be declared (their
  // options cost a fifth of a millisecond). Anything else — global options first, a command
  // misspelt, none — sees every command, for help and errors that list them.
  const std::string first = argc > 1 ? argv[1] : "";
  auto named = std::find_if(commands.begin(), commands.end(),
                            [&](const auto& command) { return command.first == first; });
  if (named != commands.end())
    named->second(app, ctx);
  else
    for (const auto& [name, registrar] : commands) registrar(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    std::cerr << "secmlops: " << e.what() << "\n";
    return 2;
  }
  return ctx.exit_code;
}

int main(int argc, char** argv) {
  secmlops::host::use_short_lived_heap();
  return secmlops::host::guarded_main("secmlops", [&] { return program_main(argc, argv); });
}
