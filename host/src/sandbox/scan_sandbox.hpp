#pragma once

#include "secmlops/host/scan_engine.hpp"

#include <sys/types.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace secmlops::v1 {
class WorkerScanJob;
}

namespace secmlops::host::sandbox {

// The scan worker program: $SECMLOPS_SCAN_WORKER, else next to the executable, else in
// ../libexec/secmlops/ relative to it.
std::filesystem::path find_scan_worker();

// A pool of sandboxed scan workers for one set of plugin libraries, shared by every engine in
// the process and kept until it exits. Workers are started ahead of need and reused; one that
// crashes, is killed or runs out of time is reaped and replaced.
class ScanSandbox {
 public:
  static std::shared_ptr<ScanSandbox> for_libraries(
      const std::vector<std::filesystem::path>& libraries, uint64_t memory_bytes);
  ScanSandbox(std::vector<std::filesystem::path> libraries, uint64_t memory_bytes);
  ~ScanSandbox();
  ScanSandbox(const ScanSandbox&) = delete;
  ScanSandbox& operator=(const ScanSandbox&) = delete;

  // Scans the regular file or sealed memfd `fd` in a worker. Never throws: a crash, a signal, a
  // limit or a timeout becomes an ERROR report naming the reason, with the findings the worker
  // had sent. `sha256` and size are filled by the caller.
  v1::FileReport scan(int fd, const std::string& display_name,
                      const std::optional<std::filesystem::path>& base_dir,
                      const ScanOptions& options, const std::shared_ptr<CancelToken>& cancel);
  // Scans several files with one round trip per batch (of at most kMaxBatchFiles): one report
  // per file, in order. A worker that fails turns only the file it was scanning into an ERROR;
  // the files after it go to a fresh worker. The descriptors stay the caller's.
  struct BatchFile {
    int fd = -1;  // or the bytes themselves:
    const std::vector<uint8_t>* content = nullptr;
    std::string display_name;
    // The directory its sibling files are looked up in (none: a stream without one). Shared
    // by the files of a directory, so not owned here.
    const std::filesystem::path* base_dir = nullptr;
  };
  static constexpr size_t kMaxBatchFiles = 32;  // within the worker's descriptor limit
  std::vector<v1::FileReport> scan_batch(const std::vector<BatchFile>& files,
                                         const ScanOptions& options,
                                         const std::shared_ptr<CancelToken>& cancel);
  // Creates every scanner with the options' configuration in a worker: the first refusal, or
  // empty when all accept it.
  std::string config_error(const ScanOptions& options);
  // Starts workers until `n` are idle (a server calls it with its thread count).
  void prewarm(unsigned n);
  // The same without waiting: workers start in the background until `n` are idle or starting
  // (a directory scan, while it walks); acquire() waits for them instead of starting more.
  void prewarm_async(unsigned n);
  [[nodiscard]] size_t idle_workers();

 private:
  struct Worker {
    pid_t pid = -1;
    int sock = -1;
    uint8_t* events = nullptr;  // the shared event area (EventArea)
  };
  std::optional<Worker> spawn(std::string& why);  // start, then await_ready
  // Starts `count` workers with one program start: the first loads the scanner libraries, then
  // copies itself (its siblings, children of the host). A sibling's pid is 0 until await_ready.
  std::vector<Worker> start(unsigned count, std::string& why);
  bool await_ready(Worker& w, std::string& why);
  std::optional<Worker> acquire(std::string& why);
  void release(Worker w);
  static std::string reap(Worker& w, bool kill_first);
  // One job: appends the reports of files[0..k) to `out` and returns k (≥ 1).
  size_t run_batch(const BatchFile* files, size_t n, const ScanOptions& options,
                   const std::shared_ptr<CancelToken>& cancel, std::vector<v1::FileReport>& out);

  std::vector<std::filesystem::path> libraries_;
  uint64_t memory_bytes_;
  std::filesystem::path program_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Worker> idle_;
  unsigned max_idle_ = 8;
  unsigned warming_ = 0;  // workers being started by prewarm_async
};

// The most siblings one worker start brings (each takes two descriptors of the worker).
constexpr unsigned kMaxSiblings = 15;

// A sealed, memory-backed copy of a stream (uploads, members): what a worker can be handed
// without a path. Returns the descriptor; throws std::runtime_error.
int sealed_memfd(const Stream& stream, const std::string& name);

// What a worker job carries, both ways.
v1::WorkerScanJob worker_job(const ScanOptions& options);
ScanOptions worker_options(const v1::WorkerScanJob& job);

// The worker's main loop (the secmlops-scan-worker program calls only this).
int run_scan_worker(int argc, char** argv);

}  // namespace secmlops::host::sandbox
