#pragma once

#include "secmlops/host/job.hpp"
#include "secmlops/host/stream.hpp"
#include "secmlops/v1/report.pb.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace secmlops::host {

// Counts findings per rule so that a report lists the first `cap` of each and counts the rest:
// a file with ten thousand bad tensors stays readable, and its total is still told.
class PerRuleCap {
 public:
  explicit PerRuleCap(uint64_t cap) : cap_(cap) {}
  // Counts one more finding of `rule`; returns its number (1 for the first).
  uint64_t count(const std::string& rule) { return ++counts_[rule]; }
  [[nodiscard]] bool listed(uint64_t number) const { return number <= cap_; }
  [[nodiscard]] uint64_t cap() const { return cap_; }
  // Rule → total, for the rules that went beyond the cap.
  [[nodiscard]] std::map<std::string, uint64_t> over() const {
    std::map<std::string, uint64_t> out;
    for (const auto& [rule, n] : counts_)
      if (n > cap_) out.emplace(rule, n);
    return out;
  }

 private:
  uint64_t cap_;
  std::map<std::string, uint64_t> counts_;
};

// Findings of one rule a scanner may list per stream; the rest are counted in one
// `<SCANNER>-FINDINGS-CAPPED` finding when the scan ends.
inline constexpr uint64_t kMaxFindingsPerRule = 50;

// The job a scanner sees: a stream with a cursor, and findings appended to a file report with
// the file and member chain prefixed to their location. A finding identical to one the scanner
// already emitted on this stream is dropped; past kMaxFindingsPerRule findings of one rule the
// rest are counted, and finish() reports the counts.
class ScanJobContext final : public JobContext {
 public:
  ScanJobContext(std::shared_ptr<const Stream> stream, v1::FileReport& report,
                 std::vector<std::string> members, std::string scanner, uint64_t max_findings);

  int64_t read(void* buf, uint64_t len) override;
  secmlops_status seek(uint64_t offset) override;
  uint64_t tell() override { return pos_; }
  uint64_t size() override { return stream_->size(); }
  const uint8_t* view(uint64_t offset, uint64_t len) override;
  secmlops_status on_finding(const secmlops_finding& f) override;
  secmlops_status stat_sibling(const char* relative, secmlops_sibling_info& out) override;
  // After the scan (whatever its status): one finding per rule that went beyond its cap.
  void finish();

  // The directory relative paths are resolved against; unset for uploads and archive members.
  void set_base_dir(std::filesystem::path dir) { base_dir_ = std::move(dir); }

 private:
  std::shared_ptr<const Stream> stream_;
  v1::FileReport& report_;
  std::vector<std::string> members_;
  std::string scanner_;
  uint64_t max_findings_;
  uint64_t pos_ = 0;
  uint64_t emitted_ = 0;
  PerRuleCap per_rule_{kMaxFindingsPerRule};
  std::unordered_set<std::string> seen_;  // every field of each finding listed
  std::optional<std::filesystem::path> base_dir_;
  // The last window handed out by view(): valid until the next stream call, then released.
  uint64_t view_offset_ = 0, view_len_ = 0;
};

// Watches scans as they run, in this process. A sandboxed scan worker installs one to stream
// every finding to the host as it is emitted (nothing is lost when a plugin then crashes) and to
// forward stat_sibling questions to the host, which alone may look at the file system.
class ScanObserver {
 public:
  virtual ~ScanObserver() = default;
  virtual void scanner_started(const std::string& scanner,
                               const std::vector<std::string>& members) = 0;
  virtual void finding(const v1::Finding& finding) = 0;
  virtual secmlops_sibling_info stat_sibling(const std::string& relative) = 0;
};
// Process-wide (a worker scans one file at a time); nullptr = none.
void set_scan_observer(ScanObserver* observer);
ScanObserver* scan_observer();

// Resolves `relative` against `base_dir` without touching anything outside it: absolute paths,
// ".." escapes and symlinks leading out are flagged, never stat'ed.
secmlops_sibling_info stat_sibling_in(const std::filesystem::path& base_dir,
                                      const std::string& relative);

// Appends a finding raised by the host itself (container anomalies, limits, errors).
void add_host_finding(v1::FileReport& report, const std::vector<std::string>& members,
                      v1::Severity severity, const std::string& rule_id, const std::string& message,
                      std::optional<uint64_t> offset = std::nullopt,
                      const std::vector<std::pair<std::string, std::string>>& evidence = {});

}  // namespace secmlops::host
