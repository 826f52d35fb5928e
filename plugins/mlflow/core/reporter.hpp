#pragma once

#include "core/deliver.hpp"
#include "core/file_store.hpp"
#include "core/settings.hpp"
#include "core/spool.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::plugins::mlflow {

// Where the reporter tells the host what happened (job.log / job.property in the plugin).
struct Sink {
  std::function<void(int level, const std::string&)> log;  // 2 info, 3 warn, 4 error
  std::function<void(const std::string&, const std::string&)> property;
};

// The MLflow reporter of one run, independent of the SDK.
//  - file store (no URI, file:…, a path): the run directory is created at RUN_START and written
//    completely at flush;
//  - REST: every event is first appended to the run's spool file (fsync'd), the run is
//    delivered at flush; what cannot be delivered stays spooled for `secmlops mlflow sync`;
//  - mode=sync: flush replays every spooled run of spool_dir.
// Properties emitted: mlflow.run_id, mlflow.experiment_id, mlflow.run_url (REST) or
// mlflow.run_dir (file store), mlflow.spooled (spool file kept), mlflow.synced /
// mlflow.sync_failed.
class Reporter {
 public:
  explicit Reporter(Settings settings, RestStore::Sleep sleep = {});

  void on_event(const Event& e, const Sink& sink);
  void flush(const Sink& sink);

  // Replays every spooled run; returns the number still spooled afterwards.
  size_t sync(const Sink& sink);

 private:
  void deliver_spooled(const std::filesystem::path& file, const Sink& sink);
  RestStore& store(const std::string& uri);

  Settings settings_;
  RestStore::Sleep sleep_;
  std::vector<Event> events_;
  bool started_ = false, ended_ = false, flushed_ = false;
  // file store
  std::unique_ptr<FileStore> files_;
  std::optional<FileStore::Run> file_run_;
  // REST
  std::unique_ptr<SpoolWriter> spool_;
  std::unique_ptr<RestStore> store_;
  std::string store_uri_;
};

}  // namespace secmlops::plugins::mlflow
