#pragma once

#include "deliver.hpp"
#include "file_store.hpp"
#include "settings.hpp"
#include "spool.hpp"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace secmlops::plugins::mlflow {

// Where the reporter tells the host what happened (job.log / job.property in the plugin).
struct Sink {
  std::function<void(int level, const std::string&)> log;  // 2 info, 3 warn, 4 error
  std::function<void(const std::string&, const std::string&)> property;
};

// The MLflow reporter of one run, independent of the SDK.
//  - file store (no URI, file:…, a path): the run directory is created RUNNING at RUN_START and
//    every later event is written as it arrives; RUN_END writes the final status;
//  - REST: every event is first appended to the run's spool file (fsync'd). RUN_START creates
//    the run on the server before on_event returns; the later events are sent by a background
//    thread in log-batch chunks (events gather for batch_interval first), and flush sends what
//    is left and ends the run. When the delivery's retry budget is spent (or the server refuses
//    something), nothing more is sent: the run stays spooled for `secmlops mlflow sync`;
//  - mode=sync: flush replays every spooled run of spool_dir.
// Properties emitted: mlflow.run_id, mlflow.experiment_id, and mlflow.run_url (REST) or
// mlflow.run_dir (file store) — during RUN_START; mlflow.spooled (spool file kept) at flush;
// mlflow.synced / mlflow.sync_failed in sync mode.
class Reporter {
 public:
  explicit Reporter(Settings settings, RestStore::Sleep sleep = {});
  ~Reporter();
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;

  void on_event(const Event& e, const Sink& sink);
  void flush(const Sink& sink);

  // Replays every spooled run; returns the number still spooled afterwards.
  size_t sync(const Sink& sink);

 private:
  void start_rest_run(const Event& e, const Sink& sink);
  void send_loop();
  void stop_sending();
  void emit_warnings(const Sink& sink);
  void deliver_spooled(const std::filesystem::path& file, const Sink& sink);
  RestStore& store(const std::string& uri);

  Settings settings_;
  RestStore::Sleep sleep_;
  bool started_ = false, ended_ = false, flushed_ = false;
  // file store
  std::unique_ptr<FileStore> files_;
  std::optional<FileStore::Run> file_run_;
  std::unique_ptr<PlanBuilder> file_plan_;
  // REST
  std::unique_ptr<SpoolWriter> spool_;
  std::unique_ptr<RestStore> store_;
  std::string store_uri_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<RunDelivery> live_;  // null when the run could not be created
  std::thread sender_;
  std::mutex mutex_;  // guards what follows, shared with the sender thread
  std::condition_variable wake_;
  std::vector<Event> pending_;  // spooled, not yet handed to live_ (kept only while it delivers)
  bool stop_ = false;
  std::optional<MlflowError> live_error_;  // why delivery stopped
  std::vector<std::string> warnings_;
};

}  // namespace secmlops::plugins::mlflow
