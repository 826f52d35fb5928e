#pragma once

// Scanning one file tree on many machines: which shard a file belongs to, and the merge of the
// shards' reports into one (proto Shard in report.proto has the rule).
#include "secmlops/v1/report.pb.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::app {

// Most shards a scan may be cut into.
constexpr uint32_t kMaxShards = 1u << 20;

// The shard (0 … count-1) of a file by its path relative to the scanned directory, written with
// '/' separators: SHA-256 of the path, first 8 bytes big-endian, modulo count.
uint32_t shard_of(std::string_view relative_path, uint32_t count);

// "K/N" (0 <= K < N <= kMaxShards) as a Shard; AppError(invalid_argument) naming `what`
// otherwise.
v1::Shard parse_shard(const std::string& text, const std::string& what);

// Checks a request's shard (count 0 = unsharded); AppError(invalid_argument) otherwise.
void check_shard(const v1::Shard& shard);

struct MergeOptions {
  bool allow_missing =
      false;  // merge although shards of the count are absent (listed in shard.missing)
};

// One report of every file of the shard reports, sorted by path, with summary, verdict (against
// the shards' common threshold), scanners and the span of time they ran. Refuses
// (AppError(invalid_argument)) reports of different shard counts or thresholds, a shard given
// twice, a file in two reports, and missing shards unless allowed. Unsharded reports merge too
// (each counts as its own part).
v1::ScanReport merge_scan_reports(const std::vector<v1::ScanReport>& reports,
                                  const MergeOptions& options = {});

}  // namespace secmlops::app
