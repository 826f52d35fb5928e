#pragma once

#include "secmlops/host/model_session.hpp"

namespace secmlops::host {

// A reporter plugin instance receiving the events of one run.
class ReporterSession {
 public:
  ReporterSession(const Plugin& plugin, const KeyValues& config);
  // Sends one event; throws PluginError with the reporter's reason on failure.
  void send(const secmlops_run_event& event);
  void flush();
  // What the reporter emitted as properties (e.g. its run id) — for tests and the CLI.
  [[nodiscard]] const Emitted& emitted() const { return emitted_; }

 private:
  Instance instance_;
  Emitted emitted_;
};

}  // namespace secmlops::host
