#include "secmlops/host/scan_engine.hpp"

#include "ordered_pipeline.hpp"
#include "sandbox/scan_sandbox.hpp"
#include "scan_job.hpp"

#include "secmlops/host/beside.hpp"
#include "secmlops/host/clock.hpp"
#include "secmlops/host/digest.hpp"
#include "secmlops/host/plugin_config.hpp"
#include "secmlops/host/printable.hpp"
#include "secmlops/host/safe_open.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <future>
#include <map>
#include <thread>

namespace secmlops::host {
namespace {

std::string join_members(const std::vector<std::string>& members) {
  std::string s;
  for (const auto& m : members) s += "!/" + m;
  return s;
}

bool handles_any(const Plugin& p);

struct Route {
  const Plugin* scanner = nullptr;
  const KeyValues* config = nullptr;  // what the scanner's instance receives
  std::string format;
  uint32_t confidence = 0;
};

// Offers the first bytes to every scanner's probe; the most confident one wins, the first loaded
// wins ties. The name is only a hint the probes may use to break their own ties.
template <class Scanners>
Route route(const Scanners& scanners, const Stream& stream, const std::string& name,
            uint64_t probe_bytes) {
  uint64_t n = std::min<uint64_t>(probe_bytes, stream.size());
  // Copied, not viewed: touching a mapped file maps whole page-cache folios (up to 2 MiB) into
  // the process, which for thousands of tensor members would add up to the file's size.
  std::vector<uint8_t> copy(n);
  n = stream.read_at(0, copy.data(), n);
  const uint8_t* head = copy.data();
  Route best;
  for (const auto& s : scanners) {
    const auto* api = s.plugin.descriptor().scanner;
    if (s.any_format) continue;
    if (api->probe == nullptr) continue;
    const char* format = nullptr;
    uint32_t c = api->probe(head, n, name.c_str(), &format);
    if (c > best.confidence) {
      best.scanner = &s.plugin;
      best.config = &s.config;
      best.confidence = c;
      best.format = format ? format : s.plugin.formats().front();
    }
  }
  return best;
}

}  // namespace

ScanEngine::ScanEngine(const Registry& registry, ScanOptions options)
    : registry_(registry), options_(std::move(options)) {
  if (options_.isolation == Isolation::sandbox) {
    // The worker loads exactly the scanner libraries this registry holds. Their kinds are facts
    // (catalogued): the host itself never opens nor initialises a scanner library to find them.
    std::vector<std::filesystem::path> libraries;
    for (const auto& p : registry_.plugins())
      if (p.kind() == SECMLOPS_KIND_SCANNER &&
          std::find(libraries.begin(), libraries.end(), p.library_path()) == libraries.end())
        libraries.push_back(p.library_path());
    sandbox_ = sandbox::ScanSandbox::for_libraries(libraries, options_.limits.worker_memory_bytes);
  }
}

const std::vector<ScanEngine::Scanner>& ScanEngine::scanners() const {
  std::call_once(scanners_read_, [this] {
    for (const auto& p : registry_.by_kind(SECMLOPS_KIND_SCANNER))
      // A scanner that declares its options gets only those (--policy reaches the pickle one).
      scanners_.push_back({p, handles_any(p), config_for(p, options_.scanner_config)});
  });
  return scanners_;
}

namespace {

bool handles_any(const Plugin& p) {
  auto f = p.formats();
  return std::find(f.begin(), f.end(), "*") != f.end();
}

// How many files scan_paths scans at once (sandboxed: one worker each).
unsigned parallel_width(const ScanOptions& options, bool sandboxed) {
  if (!sandboxed) return 1;
  return options.parallel_files != 0
             ? options.parallel_files
             : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
}

// Runs one scanner over one stream and records the outcome in a StreamResult.
void run_scanner(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                 const std::vector<std::string>& members, const Plugin& scanner,
                 const KeyValues& config, const std::string& format, const ScanOptions& options,
                 const std::shared_ptr<CancelToken>& cancel,
                 const std::optional<std::filesystem::path>& base_dir) {
  auto* sr = report.add_streams();
  for (const auto& m : members) sr->add_members(m);
  sr->set_size(stream->size());
  sr->set_format(format);
  sr->set_scanner(scanner.name());
  std::string member_chain = join_members(members);
  if (auto* observer = scan_observer()) observer->scanner_started(scanner.name(), members);
  try {
    Instance inst(scanner, config);
    ScanJobContext job(stream, report, members, scanner.name(),
                       options.limits.max_findings_per_stream);
    job.set_cancel_token(cancel);
    // Sibling files only make sense for a file on disk, not for a member inside it.
    if (base_dir && members.empty()) job.set_base_dir(*base_dir);
    secmlops_scan_request req{};
    req.struct_size = sizeof(req);
    req.path = report.path().c_str();
    req.member = members.empty() ? nullptr : member_chain.c_str();
    req.format = format.c_str();
    req.size = stream->size();
    secmlops_status s = scanner.descriptor().scanner->scan(inst.raw(), job.handle(), &req);
    job.finish();
    if (s == SECMLOPS_OK) {
      sr->set_status(v1::SCANNED);
      return;
    }
    std::string why = inst.last_error();
    if (s == SECMLOPS_ERR_CANCELLED && cancel && cancel->deadline_passed())
      why = "time limit of " + std::to_string(options.limits.seconds_per_file) + " s exceeded";
    sr->set_status(v1::PARTIAL);
    sr->set_error(std::string(status_name(s)) + ": " + why);
  } catch (const std::exception& e) {
    sr->set_status(v1::PARTIAL);
    sr->set_error(e.what());
  }
}

}  // namespace

struct ScanEngine::Walk {
  std::shared_ptr<CancelToken> cancel;
  std::optional<std::filesystem::path> base_dir;
  containers::Budget budget;
  PerRuleCap limit_findings{20};  // host limit findings listed per rule and file
};

namespace {

// Unrecognised members of one container beyond the first few are counted, not listed: a
// PyTorch archive holds thousands of raw tensor members and the report must stay small.
constexpr int kListedUnsupported = 16;

struct Tally {
  int listed = 0;
  uint64_t count = 0;
  uint64_t bytes = 0;
};

std::vector<std::string> with(const std::vector<std::string>& chain, const std::string& name) {
  auto out = chain;
  out.push_back(name);
  return out;
}

void add_anomaly(v1::FileReport& report, const std::vector<std::string>& members,
                 const containers::Anomaly& a) {
  add_host_finding(report, members, a.severity, a.rule_id, a.message, a.offset, a.evidence);
}

v1::StreamResult* add_stream(v1::FileReport& report, const std::vector<std::string>& members,
                             uint64_t size, v1::FileStatus status, const std::string& error = {}) {
  auto* sr = report.add_streams();
  for (const auto& m : members) sr->add_members(m);
  sr->set_size(size);
  sr->set_status(status);
  if (!error.empty()) sr->set_error(error);
  return sr;
}

bool same_chain(const v1::StreamResult& sr, const std::vector<std::string>& chain) {
  if (sr.members_size() != static_cast<int>(chain.size())) return false;
  for (size_t i = 0; i < chain.size(); ++i)
    if (sr.members(static_cast<int>(i)) != chain[i]) return false;
  return true;
}

}  // namespace

bool ScanEngine::scan_into(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                           const std::vector<std::string>& members, Walk& walk,
                           uint32_t depth) const {
  return scan_member(report, stream, members, walk, depth, nullptr);
}

bool ScanEngine::scan_member(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                             const std::vector<std::string>& members, Walk& walk, uint32_t depth,
                             void* tally_ptr) const {
  auto* tally = static_cast<Tally*>(tally_ptr);
  std::string name = members.empty() ? report.path() : members.back();
  const auto& all = scanners();
  Route r = route(all, *stream, name, options_.limits.probe_bytes);
  bool routed = false;
  if (r.scanner != nullptr) {
    spdlog::debug("{}{}: routed to {} as {} (confidence {})", report.path(), join_members(members),
                  r.scanner->name(), r.format, r.confidence);
    run_scanner(report, stream, members, *r.scanner, *r.config, r.format, options_, walk.cancel,
                walk.base_dir);
    routed = true;
  }
  // Scanners declaring the format "*" (signature matchers) see every stream as well.
  for (const auto& s : all)
    if (s.any_format)
      run_scanner(report, stream, members, s.plugin, s.config, "*", options_, walk.cancel,
                  walk.base_dir);

  // A stream can be a container AND something a scanner reads (polyglots): do both.
  bool took = routed;
  std::vector<containers::Kind> kinds;
  try {
    kinds = containers::detect(*stream);
  } catch (const std::exception& e) {
    add_stream(report, members, stream->size(), v1::PARTIAL,
               std::string("container detection failed: ") + e.what());
    return true;
  }
  for (auto kind : kinds) expand_into(report, stream, members, walk, depth, kind, routed, took);
  if (!took) {
    if (tally != nullptr && tally->listed >= kListedUnsupported) {
      ++tally->count;
      tally->bytes += stream->size();
    } else {
      if (tally != nullptr) ++tally->listed;
      add_stream(report, members, stream->size(), v1::UNSUPPORTED,
                 "no scanner recognises this content");
    }
  }
  return took;
}

void ScanEngine::expand_into(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                             const std::vector<std::string>& members, Walk& walk, uint32_t depth,
                             containers::Kind kind, bool stream_routed, bool& took) const {
  using containers::Kind;
  const auto& limits = options_.limits.containers;
  const char* kname = containers::format_name(kind);
  auto limit_finding = [&](const std::vector<std::string>& where, const containers::Anomaly& a) {
    uint64_t n = walk.limit_findings.count(a.rule_id);
    if (walk.limit_findings.listed(n))
      add_anomaly(report, where, a);
    else if (n == walk.limit_findings.cap() + 1)
      add_host_finding(report, where, v1::INFO, a.rule_id,
                       "further " + a.rule_id + " hits in this file are not listed");
  };
  if (depth >= limits.max_depth) {
    limit_finding(members, {v1::MEDIUM, "HOST-LIMIT-DEPTH",
                            fmt::format("{} container nested deeper than {} levels: not expanded",
                                        kname, limits.max_depth)});
    auto* sr = add_stream(
        report, members, stream->size(), v1::PARTIAL,
        fmt::format("{} container not expanded: nesting depth limit {}", kname, limits.max_depth));
    sr->set_format(kname);
    sr->set_scanner("host");
    took = true;
    return;
  }
  containers::Expansion ex;
  try {
    ex = containers::expand(kind, stream, walk.budget);
  } catch (const std::exception& e) {
    auto* sr = add_stream(report, members, stream->size(), v1::PARTIAL,
                          std::string(kname) + ": " + e.what());
    sr->set_format(kname);
    sr->set_scanner("host");
    took = true;
    return;
  }
  // Weak magics (zlib's two bytes, raw lzma's header) are only containers when they inflate.
  std::optional<containers::Opened> first;
  if ((kind == Kind::zlib || kind == Kind::lzma) && !ex.members.empty()) {
    try {
      first = ex.members.front().open(walk.budget);
    } catch (const std::exception&) {
      return;
    }
    if (!first->error.empty() && (first->stream == nullptr || first->stream->size() == 0)) return;
  }
  if (kind == Kind::zip && ex.members.empty() && !ex.error.empty() && ex.anomalies.empty()) return;
  took = true;
  auto* sr =
      add_stream(report, members, stream->size(), ex.error.empty() ? v1::SCANNED : v1::PARTIAL,
                 ex.error.empty() ? "" : std::string(kname) + ": " + ex.error);
  sr->set_format(kname);
  sr->set_scanner("host");
  for (const auto& a : ex.anomalies) {
    if (a.rule_id.rfind("HOST-LIMIT-", 0) == 0)
      limit_finding(members, a);
    else
      add_anomaly(report, members, a);
  }
  Tally tally;
  for (size_t i = 0; i < ex.members.size(); ++i) {
    auto& m = ex.members[i];
    if (m.is_prefix && stream_routed) continue;  // already scanned as the whole stream
    auto chain = with(members, m.name);
    containers::Opened o;
    try {
      walk.budget.check_cancel();
      o = (i == 0 && first) ? std::move(*first) : m.open(walk.budget);
    } catch (const std::exception& e) {
      add_stream(report, chain, 0, v1::PARTIAL, e.what());
      if (walk.cancel && walk.cancel->cancelled()) break;
      continue;
    }
    for (const auto& a : o.anomalies) add_anomaly(report, chain, a);
    if (o.limit) limit_finding(chain, *o.limit);
    if (!o.stream) {
      add_stream(report, chain, 0, v1::PARTIAL, o.error);
      continue;
    }
    int before = report.streams_size();
    bool member_took = scan_member(report, o.stream, chain, walk, depth + 1, &tally);
    // Stored members: verify the CRC only when something actually read the member, and never
    // for huge ones (tensor payloads are not read just for a checksum).
    if (member_took && o.crc_to_verify && o.stream->size() <= limits.max_crc_bytes) {
      uint32_t crc = containers::crc32_of(*o.stream);
      if (crc != *o.crc_to_verify)
        add_host_finding(
            report, chain, v1::MEDIUM, "HOST-ZIP-CRC-MISMATCH",
            fmt::format("CRC-32 of the member is {:08x}, the archive declares {:08x}: the member "
                        "was altered after archiving (loaders that check CRCs reject it)",
                        crc, *o.crc_to_verify),
            m.offset);
    }
    if (!o.error.empty() || o.limit) {
      std::string why = "member incomplete: " + (o.error.empty() ? o.limit->message : o.error);
      bool marked = false;
      for (int k = before; k < report.streams_size(); ++k) {
        auto* s = report.mutable_streams(k);
        if (!same_chain(*s, chain)) continue;
        s->set_status(v1::PARTIAL);
        s->set_error(s->error().empty() ? why : s->error() + "; " + why);
        marked = true;
      }
      if (!marked) add_stream(report, chain, o.stream->size(), v1::PARTIAL, why);
    }
    if (o.trailing)
      scan_member(report, o.trailing, with(members, fmt::format("[data after {}]", kname)), walk,
                  depth + 1, &tally);
  }
  if (tally.count > 0)
    add_stream(
        report, with(members, fmt::format("[{} more unrecognised members]", tally.count)),
        tally.bytes, v1::UNSUPPORTED,
        fmt::format(
            "{} further members ({} bytes) are not recognised by any scanner (counted, not listed)",
            tally.count, tally.bytes));
}

v1::FileReport ScanEngine::scan_stream(std::shared_ptr<const Stream> stream,
                                       const std::string& display_name) const {
  return scan_isolated(std::move(stream), display_name, std::nullopt);
}

v1::FileReport ScanEngine::scan_stream_in(
    const std::shared_ptr<const Stream>& stream, const std::string& display_name,
    const std::optional<std::filesystem::path>& base_dir) const {
  v1::FileReport report;
  report.set_path(display_name);
  report.set_size(stream->size());
  auto t0 = std::chrono::steady_clock::now();

  auto cancel = std::make_shared<CancelToken>(options_.cancel);
  if (options_.limits.seconds_per_file > 0)
    cancel->set_deadline(t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(options_.limits.seconds_per_file)));
  Walk walk{cancel, base_dir, containers::Budget(options_.limits.containers, cancel)};
  scan_into(report, stream, {}, walk, 0);

  // The file's status is the worst of its streams'; unsupported only when nothing was scanned.
  bool any_scanned = false, any_partial = false;
  std::string first_error;
  for (const auto& s : report.streams()) {
    if (s.status() == v1::SCANNED) any_scanned = true;
    if (s.status() == v1::PARTIAL) {
      any_partial = true;
      if (first_error.empty()) {
        std::string where;
        for (const auto& m : s.members()) where += "!/" + m;
        first_error = display_name + where + ": " + s.error();
      }
    }
  }
  if (any_partial) {
    report.set_status(v1::PARTIAL);
    report.set_error(first_error);
  } else if (any_scanned) {
    report.set_status(v1::SCANNED);
  } else {
    report.set_status(v1::UNSUPPORTED);
    report.set_error("no scanner recognises this content");
  }
  report.set_duration_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  make_utf8_safe(report);
  return report;
}

namespace {

v1::FileReport entry_report(const std::filesystem::path& path, v1::FileStatus status,
                            std::string error) {
  v1::FileReport report;
  report.set_path(path.string());
  report.set_status(status);
  report.set_error(std::move(error));
  make_utf8_safe(report);
  return report;
}

v1::FileReport skipped(const std::filesystem::path& path, mode_t mode) {
  std::string why = S_ISLNK(mode) ? "symlink, not followed"
                                  : std::string(file_type_name(mode)) + ", not a regular file";
  return entry_report(path, v1::SKIPPED, "skipped: " + why);
}

std::filesystem::path parent_or_dot(const std::filesystem::path& p) {
  return p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
}

}  // namespace

int ScanEngine::open_for_scan(const std::filesystem::path& path) const {
  constexpr int kFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
  if (options_.roots.empty()) return open_nonblocking(path.string());
  auto lexical = path.lexically_normal();
  for (const auto& root : options_.roots) {
    auto rel = lexical.lexically_relative(root.lexically_normal());
    if (rel.empty() || *rel.begin() == "..") continue;
    UniqueFd rootfd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) return -errno;
    return open_beneath(rootfd.get(), rel.string(), kFlags);
  }
  return -EXDEV;
}

v1::FileReport ScanEngine::scan_fd(int raw_fd, const std::filesystem::path& path) const {
  UniqueFd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return entry_report(path, v1::ERROR, path.string() + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return skipped(path, st.st_mode);
  std::shared_ptr<const Stream> stream;
  try {
    stream = std::make_shared<FileStream>(fd.release(), path.string(), /*map=*/!sandbox_);
  } catch (const std::exception& e) {
    return entry_report(path, v1::ERROR, e.what());
  }
  return scan_isolated(stream, path.string(), parent_or_dot(path));
}

// Files this small travel inside the job: the bytes the host digested are the bytes scanned,
// and the worker needs no descriptor, stat or read for them.
constexpr uint64_t kInlineBytes = 64u << 10;

struct ScanEngine::SmallFile {
  std::filesystem::path path;
  std::shared_ptr<const FileStream> stream;  // above kInlineBytes only: the open file
  std::vector<uint8_t> content;              // up to kInlineBytes: the bytes
  uint64_t size = 0;
  std::string sha;
  std::string error;
};

ScanEngine::SmallFile ScanEngine::prepare_small(int raw_fd, std::filesystem::path path,
                                                uint64_t size) {
  SmallFile f;
  f.path = std::move(path);
  f.size = size;
  UniqueFd fd(raw_fd);
  try {
    if (size <= kInlineBytes) {
      // One read past the size the walk saw: a file that grew or shrank since is refused. A
      // read that stops short at that size has met the end of the file (a regular file is only
      // read short at its end), so a file read whole costs one call.
      f.content.resize(size + 1);
      uint64_t got = 0;
      while (got <= size) {
        const uint64_t asked = size + 1 - got;
        ssize_t n = ::pread(fd.get(), f.content.data() + got, asked, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
          throw std::runtime_error(f.path.string() + ": cannot read: " + std::strerror(errno));
        if (n == 0) break;
        got += static_cast<uint64_t>(n);
        if (got == size && static_cast<uint64_t>(n) < asked) break;
      }
      if (got != size)
        throw std::runtime_error(f.path.string() + ": the file changed size while it was read");
      f.content.resize(size);
      f.sha = sha256_hex({reinterpret_cast<const char*>(f.content.data()), f.content.size()});
    } else {
      f.stream = std::make_shared<FileStream>(fd.release(), f.path.string(), /*map=*/false);
      f.size = f.stream->size();
      f.sha = sha256_stream(*f.stream);
    }
  } catch (const std::exception& e) {
    f.error = e.what();
  }
  return f;
}

std::vector<v1::FileReport> ScanEngine::scan_small_files(std::vector<SmallFile>& files) const {
  std::vector<v1::FileReport> out(files.size());
  std::vector<sandbox::ScanSandbox::BatchFile> batch;
  std::vector<size_t> index;  // batch entry → file
  batch.reserve(files.size());
  // A batch's files are mostly of one directory: its path is made once (the same text before
  // the last separator is the same parent).
  std::deque<std::filesystem::path> dirs;
  std::string_view dir_key;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    if (!f.error.empty()) {
      out[i] = entry_report(f.path, v1::ERROR, f.error);
      continue;
    }
    const std::string_view name = f.path.native();
    const std::string_view key = name.substr(0, std::min(name.rfind('/'), name.size()));
    if (dirs.empty() || key != dir_key) {
      dirs.push_back(parent_or_dot(f.path));
      dir_key = key;
    }
    batch.push_back({f.stream ? f.stream->fd() : -1, f.stream ? nullptr : &f.content,
                     f.path.string(), &dirs.back()});
    index.push_back(i);
  }
  if (batch.empty()) return out;
  auto t0 = std::chrono::steady_clock::now();
  auto reports =
      sandbox_->scan_batch(batch, options_, std::make_shared<CancelToken>(options_.cancel));
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t j = 0; j < reports.size() && j < batch.size(); ++j) {
    auto& r = reports[j];
    const auto& f = files[index[j]];
    r.set_path(batch[j].display_name);
    make_utf8_safe(r);
    // The worker timed its own scan of the file; a file it never finished gets the batch's time.
    if (r.duration_seconds() <= 0) r.set_duration_seconds(elapsed);
    r.set_size(f.size);
    r.set_sha256(f.sha);
    out[index[j]] = std::move(r);
  }
  return out;
}

std::string ScanEngine::config_error() const {
  // Sandboxed, the whole check (declared options included) runs in a worker, where the scanner
  // libraries are loaded: the host reads no scanner descriptor.
  if (sandbox_) {
    // A cold pool (a command's first scan): every worker the scan may use starts now, from one
    // program start, and the check runs in the first one ready.
    if (sandbox_->idle_workers() == 0) sandbox_->prewarm_async(parallel_width(options_, true));
    return sandbox_->config_error(options_);
  }
  if (auto e =
          scanner_config_error(registry_.by_kind(SECMLOPS_KIND_SCANNER), options_.scanner_config);
      !e.empty())
    return e;
  for (const auto& p : registry_.by_kind(SECMLOPS_KIND_SCANNER)) {
    try {
      Instance check(p, config_for(p, options_.scanner_config));
    } catch (const std::exception& e) {
      return p.name() + ": " + e.what();
    }
  }
  return {};
}

std::future<std::string> ScanEngine::config_error_async() const {
  if (!sandbox_) {
    std::promise<std::string> answer;
    answer.set_value(config_error());
    return answer.get_future();
  }
  // Started here rather than from the checking thread: a worker dies with the thread that
  // started it. One more than the scan's width, for the check itself: a copy of a started
  // worker costs little, a worker started later because all were taken costs a program start.
  if (sandbox_->idle_workers() == 0) sandbox_->prewarm_async(parallel_width(options_, true) + 1);
  return std::async(std::launch::async, [this] { return sandbox_->config_error(options_); });
}

void ScanEngine::prewarm(unsigned workers) const {
  if (sandbox_) sandbox_->prewarm(workers);
}

v1::FileReport ScanEngine::scan_isolated(
    std::shared_ptr<const Stream> stream, const std::string& display_name,
    const std::optional<std::filesystem::path>& base_dir) const {
  // Digest of the very bytes that are scanned (same descriptor or buffer), read with pread so a
  // file truncated meanwhile is an error here rather than a fault.
  std::string sha, digest_error;
  auto digest = [&] {
    try {
      sha = sha256_stream(*stream);
    } catch (const std::exception& e) {
      digest_error = display_name + ": " + e.what();
    }
  };
  v1::FileReport report;
  if (!sandbox_) {
    digest();
    if (!digest_error.empty()) return entry_report(display_name, v1::ERROR, digest_error);
    report = scan_stream_in(stream, display_name, base_dir);
  } else {
    // A large file's digest is computed while the worker scans it (pread on the same open file:
    // no shared offset), so the scan's wall time does not include the hash.
    constexpr uint64_t kConcurrentDigestBytes = 4u << 20;
    bool unscanned = false;  // the bytes could not be handed to a worker: `report` says why
    auto scan = [&] {
      auto t0 = std::chrono::steady_clock::now();
      int fd = -1;
      UniqueFd owned;
      if (const auto* file = dynamic_cast<const FileStream*>(stream.get())) {
        fd = file->fd();
      } else {
        try {
          owned.reset(sandbox::sealed_memfd(*stream, display_name));
        } catch (const std::exception& e) {
          report = entry_report(display_name, v1::ERROR, display_name + ": " + e.what());
          unscanned = true;
          return;
        }
        fd = owned.get();
      }
      report = sandbox_->scan(fd, display_name, base_dir, options_,
                              std::make_shared<CancelToken>(options_.cancel));
      report.set_path(display_name);
      make_utf8_safe(report);
      report.set_duration_seconds(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    };
    if (stream->size() >= kConcurrentDigestBytes) {
      run_beside(digest, scan);
    } else {
      digest();
      scan();
    }
    if (unscanned) return report;
    if (!digest_error.empty()) return entry_report(display_name, v1::ERROR, digest_error);
  }
  report.set_size(stream->size());
  report.set_sha256(sha);
  return report;
}

v1::FileReport ScanEngine::scan_file(const std::filesystem::path& path) const {
  int fd = open_for_scan(path);
  if (fd < 0) {
    if (fd == -ELOOP) return entry_report(path, v1::SKIPPED, "skipped: symlink, not followed");
    return entry_report(path, v1::ERROR, path.string() + ": cannot open: " + std::strerror(-fd));
  }
  return scan_fd(fd, path);
}

// Walks a directory through descriptors: every entry is opened relative to its already-open
// parent without following links, so swapping a file or a folder for a symlink mid-scan can
// never lead outside the tree; entries are visited in sorted order, depth first (the order of
// sorting the full paths).
// Small files cost a sandboxed scan mostly its round trip to a worker: they go in batches, one
// job per batch (bounded by the worker's descriptor limit and by bytes, so a batch stays short).
constexpr uint64_t kBatchFileBytes = 256u << 10;
constexpr uint64_t kBatchBytes = 4u << 20;
constexpr size_t kBatchFiles = 16;

struct ScanEngine::Queue {
  using Rename = std::pair<std::string, std::string>;  // opened path → shown path
  const ScanEngine& engine;
  OrderedPipeline out;
  std::vector<SmallFile> pending;
  std::vector<const Rename*> pending_renames;
  uint64_t pending_bytes = 0;
  const Rename* rename = nullptr;  // for the path now being walked
  unsigned width = 1;
  bool warmed = false;

  // A directory usually means many files: every worker the walk will use starts now, while the
  // walk lists, opens and digests the first batch.
  void entering_directory() {
    if (warmed || !engine.sandbox_ || width <= 1) return;
    warmed = true;
    engine.sandbox_->prewarm_async(width);
  }

  static void apply(const Rename* rename, v1::FileReport& r) {
    if (rename != nullptr) rename_path(r, rename->first, rename->second);
  }
  // A batch of files read and digested by the walk holds no descriptor: many can wait for a
  // worker (while workers start, or scan) within the look-ahead's byte budget.
  void flush() {
    if (pending.empty()) return;
    const bool open = std::any_of(pending.begin(), pending.end(),
                                  [](const SmallFile& f) { return f.stream != nullptr; });
    const JobCost cost{pending_bytes + pending.size() * kFileBytes, open};
    out.submit(
        [e = &engine, files = std::move(pending), renames = std::move(pending_renames)]() mutable {
          auto reports = e->scan_small_files(files);
          for (size_t i = 0; i < reports.size(); ++i) apply(renames[i], reports[i]);
          return reports;
        },
        cost);
    pending.clear();
    pending_renames.clear();
    pending_bytes = 0;
  }
  void ready(v1::FileReport r) {
    flush();
    apply(rename, r);
    out.ready(std::move(r));
  }
  // Takes the descriptor of a regular file or of something to report as skipped.
  void file(int fd, std::filesystem::path path, const struct stat& st) {
    if (engine.sandbox_ && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) <= kBatchFileBytes) {
      const auto size = static_cast<uint64_t>(st.st_size);
      pending.push_back(prepare_small(fd, std::move(path), size));
      pending_renames.push_back(rename);
      pending_bytes += size;
      if (pending.size() >= kBatchFiles || pending_bytes >= kBatchBytes) flush();
      return;
    }
    flush();
    out.submit(
        [e = &engine, fd, path = std::move(path), rename = rename] {
          std::vector<v1::FileReport> r{e->scan_fd(fd, path)};
          apply(rename, r.front());
          return r;
        },
        JobCost{0, true});
  }
  // What a prepared file holds beyond its bytes (path, digest, its report to come).
  static constexpr uint64_t kFileBytes = 4096;
};

void ScanEngine::scan_directory(int dirfd, const std::filesystem::path& path,
                                const std::filesystem::path& rel, Queue& out) const {
  out.entering_directory();
  auto emit = [&](v1::FileReport r) { out.ready(std::move(r)); };
  int listing = ::dup(dirfd);
  DIR* dir = listing < 0 ? nullptr : ::fdopendir(listing);
  if (dir == nullptr) {
    int err = errno;
    if (listing >= 0) ::close(listing);
    emit(entry_report(path, v1::ERROR,
                      path.string() + ": cannot list directory: " + std::strerror(err)));
    return;
  }
  std::vector<std::pair<std::string, unsigned char>> entries;
  errno = 0;
  while (auto* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") entries.emplace_back(std::move(name), e->d_type);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0)
    emit(entry_report(path, v1::ERROR,
                      path.string() + ": cannot list directory: " + std::strerror(err)));
  std::sort(entries.begin(), entries.end());
  for (const auto& [name, type] : entries) {
    if (options_.cancel && options_.cancel->cancelled()) return;
    auto child = path / name;
    // The path below the scanned directory matters only to a shard's selection.
    auto child_rel = options_.select ? rel / name : std::filesystem::path();
    // Entries of another shard are not even opened (a directory, or an unknown type, is opened
    // first to find out what it is).
    if (type != DT_DIR && type != DT_UNKNOWN && !selected(child, child_rel)) continue;
    // Known non-regular entries are reported without being opened at all.
    if (type == DT_LNK || type == DT_FIFO || type == DT_SOCK || type == DT_CHR || type == DT_BLK) {
      emit(skipped(child, DTTOIF(type)));
      continue;
    }
    scan_opened(open_beneath(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY), std::move(child),
                child_rel, out);
  }
}

bool ScanEngine::selected(const std::filesystem::path& path,
                          const std::filesystem::path& rel) const {
  return !options_.select || options_.select(rel.empty() ? path : rel);
}

void ScanEngine::scan_opened(int fd, std::filesystem::path path, const std::filesystem::path& rel,
                             Queue& out) const {
  if (fd < 0 && !selected(path, rel)) return;
  if (fd < 0) {
    if (fd == -ELOOP)
      out.ready(skipped(path, S_IFLNK));
    else
      out.ready(
          entry_report(path, v1::ERROR, path.string() + ": cannot open: " + std::strerror(-fd)));
    return;
  }
  struct stat st {};
  bool stat_ok = ::fstat(fd, &st) == 0;
  if (stat_ok && S_ISDIR(st.st_mode)) {
    UniqueFd dir(fd);
    scan_directory(dir.get(), path, rel, out);
  } else if (!selected(path, rel)) {
    ::close(fd);
  } else {
    if (!stat_ok) st.st_mode = 0;  // scan_fd reports the error
    out.file(fd, std::move(path), st);
  }
}

v1::ScanReport ScanEngine::scan_paths(const std::vector<std::filesystem::path>& paths,
                                      const std::function<void(const v1::FileReport&)>& on_file,
                                      const std::vector<std::string>& shown) const {
  std::vector<Queue::Rename> renames;
  for (size_t i = 0; i < paths.size() && i < shown.size(); ++i)
    renames.emplace_back(paths[i].string(), shown[i]);
  v1::ScanReport report;
  report.set_started_at(now_rfc3339());
  auto t0 = std::chrono::steady_clock::now();
  const unsigned width = parallel_width(options_, sandbox_ != nullptr);
  {
    Queue out{*this,
              OrderedPipeline(width,
                              [&](v1::FileReport fr) {
                                if (on_file) on_file(fr);
                                *report.add_files() = std::move(fr);
                              }),
              {},
              {},
              0,
              nullptr,
              width,
              false};
    for (size_t i = 0; i < paths.size(); ++i) {
      if (options_.cancel && options_.cancel->cancelled()) break;
      out.rename = i < renames.size() ? &renames[i] : nullptr;
      // One non-blocking open decides what the argument is; the descriptor is what gets scanned.
      scan_opened(open_for_scan(paths[i]), paths[i], {}, out);
    }
    out.flush();
    out.out.drain();
  }
  report.set_duration_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  summarise(report);
  return report;
}

void summarise(v1::ScanReport& report) {
  auto* s = report.mutable_summary();
  s->Clear();
  int max_sev = 0;
  for (const auto& f : report.files()) {
    s->set_files(s->files() + 1);
    if (f.status() == v1::ERROR || f.status() == v1::PARTIAL)
      s->set_files_with_errors(s->files_with_errors() + 1);
    for (const auto& fi : f.findings()) {
      (*s->mutable_findings_by_severity())[v1::Severity_Name(fi.severity())] += 1;
      max_sev = std::max<int>(max_sev, fi.severity());
    }
  }
  s->set_max_severity(static_cast<v1::Severity>(max_sev));
}

}  // namespace secmlops::host
