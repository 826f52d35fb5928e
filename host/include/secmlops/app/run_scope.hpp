#pragma once

// An operation's MLflow run: started when the request asks for recording, finished FINISHED by
// the operation, FAILED when it throws, KILLED when it was cancelled. One place for every door.
#include "secmlops/app/environment.hpp"
#include "secmlops/host/run_recorder.hpp"

#include <memory>
#include <string>

namespace secmlops::app {

// The reporter configuration for a request: the tracking URI under the door's policy, the
// experiment, the registered model version, and (where the policy allows) MLflow's environment
// variables for credentials and retries.
host::KeyValues mlflow_config(const v1::RunRecording& recording, const RunPolicy& policy);

class RunScope {
 public:
  // No run (every call a no-op) unless recording.enabled.
  RunScope(const Environment& env, const v1::RunRecording& recording, const std::string& operation,
           const std::string& default_run_name);
  ~RunScope();
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

  explicit operator bool() const { return recorder_ != nullptr; }
  host::RunRecorder& operator*() { return *recorder_; }
  host::RunRecorder* operator->() { return recorder_.get(); }
  // RUN_END and delivery; reports where the run went through the environment's notice.
  // A reporter failure is reported, never thrown: the operation's result stands.
  void finish(const std::string& status = "FINISHED");
  // The run id once known ("" before delivery for reporters that create runs at the end).
  [[nodiscard]] std::string run_id() const;

 private:
  const Environment& env_;
  std::unique_ptr<host::RunRecorder> recorder_;
};

// A temporary directory removed with everything in it when the object goes (artifacts that the
// reporter copies before it returns).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace secmlops::app
