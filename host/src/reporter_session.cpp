#include "secmlops/host/reporter_session.hpp"

#include "secmlops/host/plugin_config.hpp"

namespace secmlops::host {

namespace {
const Plugin& checked_reporter(const Plugin& plugin, const KeyValues& config) {
  if (plugin.kind() != SECMLOPS_KIND_REPORTER)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, plugin.name() + " is not a reporter plugin");
  check_config(plugin, config, "option");
  return plugin;
}
}  // namespace

ReporterSession::ReporterSession(const Plugin& plugin, const KeyValues& config)
    : instance_(checked_reporter(plugin, config), config) {}

void ReporterSession::send(const secmlops_run_event& event) {
  RecordingJob job(&emitted_);
  instance_.check(
      instance_.plugin().descriptor().reporter->on_event(instance_.raw(), job.handle(), &event),
      "on_event");
}

void ReporterSession::flush() {
  if ((instance_.plugin().capability_bits() & SECMLOPS_CAP_FLUSH) == 0) return;
  const auto* api = instance_.plugin().descriptor().reporter;
  RecordingJob job(&emitted_);
  instance_.check(api->flush(instance_.raw(), job.handle()), "flush");
}

}  // namespace secmlops::host
