#include "secmlops/host/scan_engine.hpp"

#include "scan_job.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace secmlops::host {
namespace {

std::string join_members(const std::vector<std::string>& members) {
  std::string s;
  for (const auto& m : members) s += "!/" + m;
  return s;
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool handles_any(const Plugin& p);

struct Route {
  std::optional<Plugin> scanner;
  std::string format;
  uint32_t confidence = 0;
};

// Offers the first bytes to every scanner's probe; the most confident one wins, the first loaded
// wins ties. The name is only a hint the probes may use to break their own ties.
Route route(const Registry& registry, const Stream& stream, const std::string& name,
            uint64_t probe_bytes) {
  uint64_t n = std::min<uint64_t>(probe_bytes, stream.size());
  std::vector<uint8_t> copy;
  const uint8_t* head = stream.view(0, n);
  if (head == nullptr) {
    copy.resize(n);
    n = stream.read_at(0, copy.data(), n);
    head = copy.data();
  }
  Route best;
  for (const auto& p : registry.by_kind(SECMLOPS_KIND_SCANNER)) {
    const auto* api = p.descriptor().scanner;
    if (handles_any(p)) continue;
    if (api->probe == nullptr) continue;
    const char* format = nullptr;
    uint32_t c = api->probe(head, n, name.c_str(), &format);
    if (c > best.confidence) {
      best.scanner = p;
      best.confidence = c;
      best.format = format ? format : p.formats().front();
    }
  }
  return best;
}

}  // namespace

ScanEngine::ScanEngine(const Registry& registry, ScanOptions options)
    : registry_(registry), options_(std::move(options)) {}

namespace {

bool handles_any(const Plugin& p) {
  auto f = p.formats();
  return std::find(f.begin(), f.end(), "*") != f.end();
}

// Runs one scanner over one stream and records the outcome in a StreamResult.
void run_scanner(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                 const std::vector<std::string>& members, const Plugin& scanner,
                 const std::string& format, const ScanOptions& options,
                 const std::shared_ptr<CancelToken>& cancel,
                 const std::optional<std::filesystem::path>& base_dir) {
  auto* sr = report.add_streams();
  for (const auto& m : members) sr->add_members(m);
  sr->set_size(stream->size());
  sr->set_format(format);
  sr->set_scanner(scanner.name());
  std::string member_chain = join_members(members);
  try {
    Instance inst(scanner, options.scanner_config);
    ScanJobContext job(stream, report, members, scanner.name(), options.limits.max_findings_per_stream);
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

void ScanEngine::scan_into(v1::FileReport& report, const std::shared_ptr<const Stream>& stream,
                           const std::vector<std::string>& members,
                           const std::shared_ptr<CancelToken>& cancel,
                           const std::optional<std::filesystem::path>& base_dir) const {
  std::string name = members.empty() ? report.path() : members.back();
  Route r = route(registry_, *stream, name, options_.limits.probe_bytes);
  if (r.scanner) {
    spdlog::debug("{}{}: routed to {} as {} (confidence {})", report.path(), join_members(members),
                  r.scanner->name(), r.format, r.confidence);
    run_scanner(report, stream, members, *r.scanner, r.format, options_, cancel, base_dir);
  } else {
    auto* sr = report.add_streams();
    for (const auto& m : members) sr->add_members(m);
    sr->set_size(stream->size());
    sr->set_status(v1::UNSUPPORTED);
    sr->set_error("no scanner recognises this content");
  }
  // Scanners declaring the format "*" (signature matchers) see every stream as well.
  for (const auto& p : registry_.by_kind(SECMLOPS_KIND_SCANNER))
    if (handles_any(p)) run_scanner(report, stream, members, p, "*", options_, cancel, base_dir);
}

v1::FileReport ScanEngine::scan_stream(std::shared_ptr<const Stream> stream,
                                       const std::string& display_name) const {
  return scan_stream_in(std::move(stream), display_name, std::nullopt);
}

v1::FileReport ScanEngine::scan_stream_in(std::shared_ptr<const Stream> stream,
                                          const std::string& display_name,
                                          const std::optional<std::filesystem::path>& base_dir) const {
  v1::FileReport report;
  report.set_path(display_name);
  report.set_size(stream->size());
  auto t0 = std::chrono::steady_clock::now();
  auto cancel = std::make_shared<CancelToken>(options_.cancel);
  if (options_.limits.seconds_per_file > 0)
    cancel->set_deadline(t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(options_.limits.seconds_per_file)));
  scan_into(report, stream, {}, cancel, base_dir);

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
  return report;
}

v1::FileReport ScanEngine::scan_file(const std::filesystem::path& path) const {
  std::shared_ptr<const Stream> stream;
  try {
    stream = std::make_shared<FileStream>(path);
  } catch (const std::exception& e) {
    v1::FileReport report;
    report.set_path(path.string());
    report.set_status(v1::ERROR);
    report.set_error(e.what());
    return report;
  }
  return scan_stream_in(stream, path.string(), path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

v1::ScanReport ScanEngine::scan_paths(const std::vector<std::filesystem::path>& paths,
                                      const std::function<void(const v1::FileReport&)>& on_file) const {
  v1::ScanReport report;
  report.set_started_at(now_rfc3339());
  auto t0 = std::chrono::steady_clock::now();
  auto emit = [&](v1::FileReport fr) {
    if (on_file) on_file(fr);
    *report.add_files() = std::move(fr);
  };
  for (const auto& p : paths) {
    if (options_.cancel && options_.cancel->cancelled()) break;
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> files;
      // Symlinks are not followed: a scan of a tree must not escape it.
      for (auto it = std::filesystem::recursive_directory_iterator(
               p, std::filesystem::directory_options::skip_permission_denied, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
      }
      if (ec) {
        v1::FileReport fr;
        fr.set_path(p.string());
        fr.set_status(v1::ERROR);
        fr.set_error(p.string() + ": cannot list directory: " + ec.message());
        emit(std::move(fr));
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (options_.cancel && options_.cancel->cancelled()) break;
        emit(scan_file(f));
      }
    } else {
      emit(scan_file(p));
    }
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
