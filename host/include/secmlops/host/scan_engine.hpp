#pragma once

#include "secmlops/host/containers.hpp"
#include "secmlops/host/job.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/host/stream.hpp"
#include "secmlops/v1/report.pb.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::host {

struct ScanLimits {
  uint64_t max_findings_per_stream = 10000;  // beyond: one HOST-FINDINGS-TRUNCATED finding
  double seconds_per_file = 300;             // wall-clock budget per file (0 = none)
  uint64_t probe_bytes = 64 * 1024;          // how much of a stream the probes see
  containers::Limits containers;             // zip/tar/compression expansion (docs/containers.md)
};

struct ScanOptions {
  // Passed to every scanner instance's create (e.g. policy text, allowlist mode).
  std::vector<std::pair<std::string, std::string>> scanner_config;
  ScanLimits limits;
  std::shared_ptr<CancelToken> cancel;  // optional: the whole request
};

// Routes files and streams to scanner plugins by content and collects findings into reports.
// Never throws for bad input: errors become the file's status and message.
class ScanEngine {
 public:
  ScanEngine(const Registry& registry, ScanOptions options);

  // Scans one file.
  v1::FileReport scan_file(const std::filesystem::path& path) const;
  // Scans bytes that do not live on disk (uploads); `display_name` names them in reports.
  v1::FileReport scan_stream(std::shared_ptr<const Stream> stream, const std::string& display_name) const;
  // Scans files and directories (recursively, in sorted order); calls `on_file` for each
  // finished file (for streaming output) and returns the full report.
  v1::ScanReport scan_paths(const std::vector<std::filesystem::path>& paths,
                            const std::function<void(const v1::FileReport&)>& on_file = {}) const;

 private:
  v1::FileReport scan_stream_in(std::shared_ptr<const Stream> stream, const std::string& display_name,
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

  const Registry& registry_;
  ScanOptions options_;
};

// Adds a file's findings to the summary counts.
void summarise(v1::ScanReport& report);

}  // namespace secmlops::host
