#pragma once

// The application layer: every operation (scan, train, predict, describe, attack, pipeline) is a
// function of a proto request that returns a proto result. The CLI, the gRPC services and
// pipeline steps are doors onto these functions; what differs between the doors — which paths a
// request may name, where models live, where runs are recorded — is this Environment.
#include "secmlops/host/job.hpp"
#include "secmlops/host/model_session.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/common.pb.h"
#include "secmlops/v1/pipeline.pb.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace secmlops::app {

// A request the caller has to fix, or a state that prevents the operation. Each door turns the
// code into its own form: a gRPC status, an exit code 2 with the message.
class AppError : public std::runtime_error {
 public:
  enum class Code {
    invalid_argument,
    not_found,
    permission_denied,
    failed_precondition,
    resource_exhausted,
    cancelled,
    deadline_exceeded,
    internal
  };
  AppError(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] Code code() const { return code_; }

 private:
  Code code_;
};
[[noreturn]] void fail(AppError::Code code, const std::string& message);

// Which files a request may name. The CLI and pipelines read any path; the server only paths
// under its scan roots (resolved without leaving them).
class FileAccess {
 public:
  virtual ~FileAccess() = default;
  // The path to open for `requested`; throws AppError (permission_denied / not_found).
  [[nodiscard]] virtual std::filesystem::path resolve(const std::string& requested) const = 0;
  // May the operation write files (model outputs, adversarial CSV, reports)?
  [[nodiscard]] virtual bool may_write() const = 0;
};

// The CLI's and pipelines' access: paths as given.
class LocalFiles final : public FileAccess {
 public:
  [[nodiscard]] std::filesystem::path resolve(const std::string& requested) const override;
  [[nodiscard]] bool may_write() const override { return true; }
};

// A model ready for use, with what its file recorded. `session` may be used only while `lock`
// is held (a plugin instance serves one thread at a time).
struct ModelUse {
  host::ModelSession* session = nullptr;
  std::vector<std::string> classes;   // index → class name
  std::vector<std::string> features;  // input column names, when known
  std::map<std::string, std::string> metadata;
  std::string name;  // id or file name
  std::unique_lock<std::mutex> lock;
  std::shared_ptr<void> keep_alive;  // owns the session
};

// Models held by a door under ids (the server's registry). Absent in the CLI.
class ModelRegistry {
 public:
  virtual ~ModelRegistry() = default;
  // Throws AppError(not_found) for an unknown id.
  virtual ModelUse use(const std::string& id) = 0;
};

// Live progress of an operation.
using ProgressSink = std::function<void(const v1::ProgressEvent&)>;

// Where runs are recorded. The CLI resolves MLflow's environment variables; the server records
// only to its configured tracking URI.
struct RunPolicy {
  std::string default_tracking_uri;  // "" = $MLFLOW_TRACKING_URI, else ./mlruns
  bool request_may_set_uri = true;
  bool use_environment = true;  // the reporter reads MLFLOW_* variables (credentials, retries, URI)
  std::string reporter = "mlflow";
};

struct Environment {
  const host::Registry& registry;
  const FileAccess& files;
  ModelRegistry* models = nullptr;
  std::shared_ptr<host::CancelToken> cancel;
  ProgressSink progress;
  // One-line notices for the user (where an MLflow run went); the CLI prints them on stderr.
  std::function<void(const std::string&)> notice;
  RunPolicy runs;
  // Limits applied to every request (0 = none).
  uint64_t max_matrix_values = 0;
  double max_seconds_per_file = 0;  // the server's cap on ScanOptions.seconds_per_file
  double default_seconds_per_file = 300;
  // Scans: sandboxed workers unless a debugging door asks for in-process scanning; a server's
  // scan roots (paths are opened beneath them without following links); 0 = the engine's
  // defaults for worker memory and files scanned at once.
  host::Isolation scan_isolation = host::Isolation::sandbox;
  std::vector<std::filesystem::path> scan_roots;
  uint64_t worker_memory_bytes = 0;
  unsigned parallel_files = 0;

  [[nodiscard]] bool cancelled() const { return cancel && cancel->cancelled(); }
  void throw_if_cancelled(const std::string& what) const;
  void report(const v1::ProgressEvent& e) const {
    if (progress) progress(e);
  }
};

}  // namespace secmlops::app
