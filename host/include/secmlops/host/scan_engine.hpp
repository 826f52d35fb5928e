#pragma once

#include "secmlops/host/containers.hpp"
#include "secmlops/host/job.hpp"
#include "secmlops/host/key_values.hpp"
#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/host/stream.hpp"

#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::host {

namespace sandbox {
class ScanSandbox;
int run_scan_worker(int argc, char** argv);
}  // namespace sandbox

struct ScanLimits {
  uint64_t max_findings_per_stream = 10000;   // beyond: one HOST-FINDINGS-TRUNCATED finding
  double seconds_per_file = 300;              // wall-clock budget per file (0 = none)
  uint64_t probe_bytes = 64 * 1024;           // how much of a stream the probes see
  containers::Limits containers;              // zip/tar/compression expansion (docs/containers.md)
  uint64_t worker_memory_bytes = 4ull << 30;  // a sandboxed worker's data segment (RLIMIT_DATA)
};

// Where scanner plugins run. A sandboxed worker process (docs/security.md) is the default; in
// the calling process is for debugging plugins only: a crashing plugin then takes the caller
// down with it.
enum class Isolation { sandbox, in_process };

struct ScanOptions {
  // Passed to every scanner instance's create (e.g. policy text, allowlist mode).
  std::vector<std::pair<std::string, std::string>> scanner_config;
  ScanLimits limits;
  std::shared_ptr<CancelToken> cancel;  // optional: the whole request
  // When set, every path given to scan_file/scan_paths must lie under one of these directories
  // and is opened relative to it without following any symlink (a server's scan roots).
  std::vector<std::filesystem::path> roots;
  Isolation isolation = Isolation::sandbox;
  // Jobs scan_paths runs at once, each in its own worker (a job is a large file, or a batch of
  // small ones); reports still come in sorted order. 0 = one per CPU when sandboxed (always 1
  // in-process).
  unsigned parallel_files = 0;
  // When set, scan_paths scans (or reports) only the files and other non-directory entries it
  // accepts; it sees an entry's path relative to the argument it was found under (a file given
  // as an argument: the argument). Directories are always walked. Sharding uses it.
  std::function<bool(const std::filesystem::path& relative)> select;
};

// Routes files and streams to scanner plugins by content and collects findings into reports.
// Never throws for bad input: errors become the file's status and message.
class ScanEngine {
 public:
  ScanEngine(const Registry& registry, ScanOptions options);

  // Scans one file.
  v1::FileReport scan_file(const std::filesystem::path& path) const;
  // Scans bytes that do not live on disk (uploads); `display_name` names them in reports.
  v1::FileReport scan_stream(std::shared_ptr<const Stream> stream,
                             const std::string& display_name) const;
  // Scans files and directories (recursively, in sorted order); calls `on_file` for each
  // finished file (for streaming output) and returns the full report. With `shown` (one name per
  // path), every report names its file under the name given for the path it was found from
  // instead of the path opened (a server shows the client's names, never its own layout).
  v1::ScanReport scan_paths(const std::vector<std::filesystem::path>& paths,
                            const std::function<void(const v1::FileReport&)>& on_file = {},
                            const std::vector<std::string>& shown = {}) const;
  // Creates every scanner with the configuration (in a worker when sandboxed): the first
  // plugin's refusal ("pickle: mode must be ..."), or empty when every scanner accepts it. A
  // request with a bad option is then refused as a whole instead of each file being PARTIAL.
  [[nodiscard]] std::string config_error() const;
  // The same answer later: sandboxed, the check runs in a worker while the caller walks and
  // digests (the workers are started from the calling thread, which they die with, so the
  // caller must outlive the scan); in-process it is answered at once.
  [[nodiscard]] std::future<std::string> config_error_async() const;
  // Starts sandboxed scan workers until `workers` are idle and ready (a server at start-up), so
  // the first scans do not wait for them. Nothing to do in-process.
  void prewarm(unsigned workers) const;

 private:
  friend int sandbox::run_scan_worker(int argc, char** argv);
  // Digest, then the scan itself in a worker (or here, in-process).
  v1::FileReport scan_isolated(std::shared_ptr<const Stream> stream,
                               const std::string& display_name,
                               const std::optional<std::filesystem::path>& base_dir) const;
  // Scans an open descriptor: a regular file is scanned, anything else becomes SKIPPED.
  v1::FileReport scan_fd(int fd, const std::filesystem::path& path) const;
  // A small regular file made ready for a batch by the walk: its bytes read and digested and
  // its descriptor closed (or, above the inline size, the descriptor kept), or why not.
  struct SmallFile;
  static SmallFile prepare_small(int fd, std::filesystem::path path, uint64_t size);
  // Small files in one worker job (sandboxed only): their reports in order.
  std::vector<v1::FileReport> scan_small_files(std::vector<SmallFile>& files) const;
  struct Queue;  // the reports of a scan_paths in order, and the small files waiting for a batch
  // A descriptor from open_for_scan/open_beneath (or -errno): a directory is walked, a file
  // scanned, anything else reported; the queue gets every entry.
  // `rel` is the path below the scan_paths argument (empty for the argument itself).
  void scan_opened(int fd, std::filesystem::path path, const std::filesystem::path& rel,
                   Queue& out) const;
  void scan_directory(int dirfd, const std::filesystem::path& path,
                      const std::filesystem::path& rel, Queue& out) const;
  bool selected(const std::filesystem::path& path, const std::filesystem::path& rel) const;
  // Opens a path for scanning without blocking (beneath options_.roots when set); -errno.
  int open_for_scan(const std::filesystem::path& path) const;
  v1::FileReport scan_stream_in(const std::shared_ptr<const Stream>& stream,
                                const std::string& display_name,
                                const std::optional<std::filesystem::path>& base_dir) const;
  struct Walk;  // one file's expansion state (budget, depth, tallies)
  // Routes one stream to a scanner and expands it when it is a container; returns true when
  // something (a scanner or a container reader) took the stream.
  bool scan_into(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                 const std::vector<std::string>& members, Walk& walk, uint32_t depth) const;
  bool scan_member(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                   const std::vector<std::string>& members, Walk& walk, uint32_t depth,
                   void* tally) const;
  void expand_into(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                   const std::vector<std::string>& members, Walk& walk, uint32_t depth,
                   containers::Kind kind, bool stream_routed, bool& took) const;

  // The registry's scanners, read on first use and kept for the engine's life (a library is
  // refused at its first use only): whether each sees every stream ("*"), and the configuration
  // its instances receive. Never read in a sandboxed host, which opens no scanner library.
  struct Scanner {
    Plugin plugin;
    bool any_format = false;
    KeyValues config;
  };
  const std::vector<Scanner>& scanners() const;

  const Registry& registry_;
  ScanOptions options_;
  std::shared_ptr<sandbox::ScanSandbox> sandbox_;  // set when options_.isolation is sandbox
  mutable std::once_flag scanners_read_;
  mutable std::vector<Scanner> scanners_;
};

// Adds a file's findings to the summary counts.
void summarise(v1::ScanReport& report);

}  // namespace secmlops::host
