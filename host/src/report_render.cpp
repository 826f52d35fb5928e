#include "secmlops/host/report_render.hpp"

#include "secmlops/host/printable.hpp"
#include "secmlops/v1/report.pb.h"

#include <google/protobuf/util/json_util.h>

#include <fmt/format.h>

#include <stdexcept>

namespace secmlops::host {

std::string to_json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) throw std::runtime_error("JSON rendering failed: " + status.ToString());
  return out;
}

std::string format_location(const v1::Location& location) {
  std::string s = location.file();
  for (const auto& m : location.members()) s += "!/" + m;
  if (location.has_offset()) s += fmt::format(" @ {}", location.offset());
  if (!location.detail().empty()) s += " (" + location.detail() + ")";
  return s;
}

namespace {
// Text from files (names, messages, evidence) on a terminal: newlines and escape sequences
// escaped, never interpreted.
constexpr size_t kUnbounded = static_cast<size_t>(-1) / 2;
std::string safe(const std::string& s) { return printable(s, kUnbounded); }
}  // namespace

void render_text(const v1::ScanReport& report, std::ostream& out) {
  for (const auto& f : report.files()) {
    std::string status;
    switch (f.status()) {
      case v1::SCANNED:
        status = "scanned";
        break;
      case v1::PARTIAL:
        status = "PARTIAL";
        break;
      case v1::UNSUPPORTED:
        status = "skipped (unrecognised format)";
        break;
      case v1::ERROR:
        status = "ERROR";
        break;
      case v1::SKIPPED:
        status = safe(f.error());
        break;
      default:
        status = "?";
        break;
    }
    out << fmt::format("{}: {}, {} finding(s)\n", safe(f.path()), status, f.findings_size());
    if (!f.error().empty() && f.status() != v1::UNSUPPORTED && f.status() != v1::SKIPPED)
      out << "  error: " << safe(f.error()) << "\n";
    for (const auto& fi : f.findings()) {
      out << fmt::format("  {:<8} {} {}\n           at {}\n", v1::Severity_Name(fi.severity()),
                         safe(fi.rule_id()), safe(fi.message()),
                         safe(format_location(fi.location())));
      if (fi.evidence_size() > 0) {
        std::string ev;
        for (const auto& e : fi.evidence())
          ev += fmt::format("{}{}={}", ev.empty() ? "" : " ", e.key(), e.value());
        out << "           evidence: " << safe(ev) << "\n";
      }
    }
  }
  const auto& s = report.summary();
  std::string counts;
  for (auto sev : {v1::CRITICAL, v1::HIGH, v1::MEDIUM, v1::LOW, v1::INFO}) {
    auto it = s.findings_by_severity().find(v1::Severity_Name(sev));
    if (it != s.findings_by_severity().end())
      counts +=
          fmt::format("{}{} {}", counts.empty() ? "" : ", ", it->second, v1::Severity_Name(sev));
  }
  out << fmt::format("summary: {} file(s), {} with errors, findings: {}\n", s.files(),
                     s.files_with_errors(), counts.empty() ? "none" : counts);
}

void render_text(const v1::PluginList& list, std::ostream& out) {
  out << fmt::format("{:<20} {:<9} {:<9} {:<4} {:<40} {}\n", "NAME", "KIND", "VERSION", "ABI",
                     "CAPABILITIES", "FORMATS");
  for (const auto& p : list.plugins()) {
    std::string caps, formats;
    for (const auto& c : p.capabilities()) caps += (caps.empty() ? "" : ",") + c;
    for (const auto& f : p.formats()) formats += (formats.empty() ? "" : ",") + f;
    std::string kind = v1::PluginKind_Name(p.kind());
    for (auto& ch : kind) ch = static_cast<char>(std::tolower(ch));
    out << fmt::format("{:<20} {:<9} {:<9} {:<4} {:<40} {}\n", p.name(), kind, p.version(),
                       p.abi_version(), caps, formats);
  }
  for (const auto& e : list.errors())
    out << fmt::format("refused {}: {}\n", e.library(), e.reason());
}

}  // namespace secmlops::host
