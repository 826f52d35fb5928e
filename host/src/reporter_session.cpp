#include "secmlops/host/reporter_session.hpp"

namespace secmlops::host {

ReporterSession::ReporterSession(const Plugin& plugin, const KeyValues& config)
    : instance_(plugin, config) {
  if (plugin.kind() != SECMLOPS_KIND_REPORTER)
    throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT, plugin.name() + " is not a reporter plugin");
}

void ReporterSession::send(const secmlops_run_event& event) {
  RecordingJob job(&emitted_);
  instance_.check(instance_.plugin().descriptor().reporter->on_event(instance_.raw(), job.handle(), &event),
                  "on_event");
}

void ReporterSession::flush() {
  const auto* api = instance_.plugin().descriptor().reporter;
  if (api->flush == nullptr) return;
  RecordingJob job(&emitted_);
  instance_.check(api->flush(instance_.raw(), job.handle()), "flush");
}

}  // namespace secmlops::host
