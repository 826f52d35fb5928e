#include "secmlops/app/shard.hpp"

#include "secmlops/app/environment.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/digest.hpp"
#include "secmlops/host/scan_engine.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace secmlops::app {

uint32_t shard_of(std::string_view relative_path, uint32_t count) {
  if (count <= 1) return 0;
  const auto digest = host::sha256(relative_path);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | digest[i];
  return static_cast<uint32_t>(v % count);
}

v1::Shard parse_shard(const std::string& text, const std::string& what) {
  auto bad = [&]() -> v1::Shard {
    fail(AppError::Code::invalid_argument,
         what + ": '" + text + "' is not K/N with 0 <= K < N <= " + std::to_string(kMaxShards));
  };
  auto slash = text.find('/');
  if (slash == std::string::npos) return bad();
  uint32_t k = 0, n = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto r1 = std::from_chars(b, b + slash, k);
  auto r2 = std::from_chars(b + slash + 1, e, n);
  if (r1.ec != std::errc{} || r1.ptr != b + slash || r2.ec != std::errc{} || r2.ptr != e ||
      slash == 0)
    return bad();
  v1::Shard s;
  s.set_index(k);
  s.set_count(n);
  if (n == 0 || k >= n || n > kMaxShards) return bad();
  return s;
}

void check_shard(const v1::Shard& shard) {
  if (shard.count() == 0 && shard.index() == 0) return;
  if (shard.count() == 0 || shard.index() >= shard.count() || shard.count() > kMaxShards)
    fail(AppError::Code::invalid_argument,
         "shard " + std::to_string(shard.index()) + "/" + std::to_string(shard.count()) +
             ": needs 0 <= index < count <= " + std::to_string(kMaxShards));
}

v1::ScanReport merge_scan_reports(const std::vector<v1::ScanReport>& reports,
                                  const MergeOptions& options) {
  if (reports.empty()) fail(AppError::Code::invalid_argument, "no reports to merge");
  const uint32_t count = reports.front().shard().count();
  const v1::Severity threshold = reports.front().fail_on();
  std::set<uint32_t> seen;
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto& r = reports[i];
    const std::string which = "report " + std::to_string(i + 1);
    if (r.shard().count() != count)
      fail(AppError::Code::invalid_argument,
           which + " is shard " + std::to_string(r.shard().index()) + "/" +
               std::to_string(r.shard().count()) + ", the first of " + std::to_string(count) +
               " shards");
    if (r.fail_on() != threshold)
      fail(AppError::Code::invalid_argument,
           which + " was judged against " + v1::Severity_Name(r.fail_on()) +
               ", the first against " + v1::Severity_Name(threshold));
    if (count > 0 && !seen.insert(r.shard().index()).second)
      fail(AppError::Code::invalid_argument,
           which + ": shard " + std::to_string(r.shard().index()) + " given twice");
  }

  v1::ScanReport out;
  out.set_tool_version(reports.front().tool_version());
  out.set_fail_on(threshold);
  std::vector<const v1::FileReport*> files;
  std::map<std::string, size_t> owner;  // path → report it came from
  std::map<std::pair<std::string, std::string>, v1::PluginInfo> scanners;
  double longest = 0;
  std::string started;
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto& r = reports[i];
    for (const auto& f : r.files()) {
      auto [it, fresh] = owner.emplace(f.path(), i);
      if (!fresh)
        fail(AppError::Code::invalid_argument, f.path() + ": in report " +
                                                   std::to_string(it->second + 1) + " and report " +
                                                   std::to_string(i + 1) + " (overlapping shards)");
      files.push_back(&f);
    }
    for (const auto& s : r.scanners()) scanners.emplace(std::make_pair(s.name(), s.version()), s);
    // RFC 3339 UTC times of one format order as strings.
    if (started.empty() || (!r.started_at().empty() && r.started_at() < started))
      started = r.started_at();
    longest = std::max(longest, r.duration_seconds());
    if (r.tool_version() != out.tool_version() && !r.tool_version().empty())
      out.set_tool_version(out.tool_version() + "," + r.tool_version());
  }
  std::sort(files.begin(), files.end(),
            [](const auto* a, const auto* b) { return a->path() < b->path(); });
  for (const auto* f : files) *out.add_files() = *f;
  for (const auto& [key, info] : scanners) *out.add_scanners() = info;
  out.set_started_at(started);
  // Shards run side by side: the merged scan took as long as its longest shard.
  out.set_duration_seconds(longest);

  if (count > 0) {
    auto* s = out.mutable_shard();
    s->set_count(count);
    for (uint32_t k : seen) s->add_merged(k);
    for (uint32_t k = 0; k < count; ++k)
      if (!seen.count(k)) s->add_missing(k);
    if (s->missing_size() > 0 && !options.allow_missing) {
      std::string list;
      for (int j = 0; j < s->missing_size() && j < 20; ++j)
        list += (j ? "," : "") + std::to_string(s->missing(j));
      if (s->missing_size() > 20) list += ",…";
      fail(AppError::Code::invalid_argument, std::to_string(s->missing_size()) + " of " +
                                                 std::to_string(count) + " shards missing (" +
                                                 list + ")");
    }
  }
  host::summarise(out);
  std::string verdict = scan_verdict(out, threshold);
  // A merge with shards missing is incomplete: never a pass.
  if (verdict == "pass" && out.shard().missing_size() > 0) verdict = "error";
  out.set_verdict(verdict);
  return out;
}

}  // namespace secmlops::app
