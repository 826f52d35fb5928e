#pragma once

// Container expansion shared by every scanner: zip, tar, 7z and RAR (libarchive) and
// single-stream compression (gzip, zlib, bzip2, xz, raw lzma, lz4 frame). Containers are recognised
// by content, never by name. Readers never trust a length: every anomaly a loader could be fooled
// by becomes an Anomaly the engine reports as a host finding, and members are exposed anyway so
// that scanners see them. Design notes: docs/containers.md.

#include "secmlops/host/job.hpp"
#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/host/stream.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::host::containers {

// Limits of one file's expansion (all nesting levels together). Defaults are documented in
// docs/containers.md; every hit becomes a HOST-LIMIT-* finding, never a crash or an OOM.
struct Limits {
  uint32_t max_depth = 8;                        // containers inside containers
  uint64_t max_total_decompressed = 4ull << 30;  // bytes inflated per file, all members
  uint64_t max_member_size = 2ull << 30;         // bytes inflated for one member
  double max_ratio = 250;                        // output / compressed input ...
  uint64_t ratio_floor = 16ull << 20;            // ... only checked beyond this output size
  uint64_t max_members = 100000;                 // members per file, all containers
  uint64_t memory_threshold = 32ull << 20;       // larger inflated members spill to a temp file
  uint64_t max_crc_bytes = 64ull << 20;          // stored members above this: CRC not read
  // Inflated members spilled to temp files (or memory files in a sandboxed worker) by every scan
  // of the process together; beyond, decompression stops with HOST-LIMIT-SPILL.
  uint64_t max_spill_bytes = 2ull << 30;
};

// Something wrong or suspicious in a container's structure.
struct Anomaly {
  v1::Severity severity = kSeverityMedium;
  std::string rule_id;  // HOST-ZIP-..., HOST-TAR-..., HOST-COMPRESSED-..., HOST-LIMIT-...
  std::string message;
  std::optional<uint64_t> offset;  // in the container stream
  std::vector<std::pair<std::string, std::string>> evidence;
};

// State shared by every container of one file: budgets and cancellation.
class Budget {
 public:
  explicit Budget(Limits limits, std::shared_ptr<const CancelToken> cancel = {})
      : limits_(limits), cancel_(std::move(cancel)) {}
  [[nodiscard]] const Limits& limits() const { return limits_; }
  // Throws std::runtime_error when the file's deadline passed or the request was cancelled.
  void check_cancel() const;
  uint64_t decompressed = 0;  // bytes inflated so far
  uint64_t members = 0;       // members listed so far

 private:
  Limits limits_;
  std::shared_ptr<const CancelToken> cancel_;
};

// The bytes of one member, produced on demand (so that only one inflated member lives at a time).
struct Opened {
  std::shared_ptr<const Stream> stream;  // may be a prefix when `error` or `limit` is set
  std::string error;                     // the bytes are incomplete (corrupt or truncated data)
  std::optional<Anomaly> limit;          // a HOST-LIMIT-* hit stopped decompression
  std::vector<Anomaly> anomalies;        // found while reading (e.g. CRC mismatch)
  // Stored zip members: the CRC the engine verifies when the member is actually scanned.
  std::optional<uint32_t> crc_to_verify;
  // Bytes after a compressed stream's end (scanned as their own stream).
  std::shared_ptr<const Stream> trailing;
};

struct Member {
  std::string name;
  uint64_t offset = 0;  // of the member's header (or data) in its container
  // Bytes before a zip's first entry: the engine skips them when the whole stream was already
  // routed to a scanner (a pickle with a zip appended is scanned as a pickle).
  bool is_prefix = false;
  std::function<Opened(Budget&)> open;
};

enum class Kind { zip, tar, gzip, zlib, bzip2, xz, lzma, lz4, sevenzip, rar };
const char* format_name(Kind kind);

struct Expansion {
  Kind kind = Kind::zip;
  std::vector<Member> members;
  std::vector<Anomaly> anomalies;
  std::string error;  // the structure could not be read completely (members listed so far kept)
};

// Every container kind the content matches, strongest first (zip at the start or by its end
// record, tar by header checksum, compression magics).
std::vector<Kind> detect(const Stream& stream);

// Lists a container's members. Never throws for bad input (errors land in Expansion::error);
// throws std::runtime_error only when cancelled.
Expansion expand(Kind kind, const std::shared_ptr<const Stream>& stream, Budget& budget);
Expansion read_zip(const std::shared_ptr<const Stream>& stream, Budget& budget);
Expansion read_tar(const std::shared_ptr<const Stream>& stream, Budget& budget);
// 7z and RAR through libarchive (members decoded in order, under the same limits).
Expansion read_libarchive(Kind kind, const std::shared_ptr<const Stream>& stream, Budget& budget);

// Loads what the readers need from the file system before a sandbox forbids it (libarchive's
// charset conversion modules). Called once by the scan worker.
void prepare_for_sandbox();

// Decompression codecs (zip methods and whole-stream compressors).
enum class Codec { deflate_raw, zlib, gzip, bzip2, xz, lzma_alone, lzma_zip, lz4_frame };

// Inflates [offset, offset+length) of `source` within the budget's limits; the result lives in
// memory up to Limits::memory_threshold and in an unlinked, read-only mapped temp file beyond.
// When `expected_crc` is given the CRC-32 of the output is compared (HOST-ZIP-CRC-MISMATCH).
// `end_consumed` (optional) receives the input bytes the codec consumed (for trailing data).
Opened decompress(Codec codec, const std::shared_ptr<const Stream>& source, uint64_t offset,
                  uint64_t length, Budget& budget, std::optional<uint32_t> expected_crc = {},
                  uint64_t* end_consumed = nullptr);

// CRC-32 (zip/gzip polynomial) of a whole stream, read in bounded chunks.
uint32_t crc32_of(const Stream& stream);

}  // namespace secmlops::host::containers
