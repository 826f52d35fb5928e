#pragma once

// The security dashboard: one self-contained HTML file (inline CSS and SVG, no script, nothing
// fetched) that shows a pipeline's verdict, data, models, robustness curves, findings and
// timings. docs/dashboard.md describes the page.

#include "secmlops/host/proto_fwd.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::host {

// Rule ids link here, to their row in the rules table (a text fragment, "#:~:text=RULE-ID").
inline constexpr std::string_view kRulesDocUrl =
    "https://github.com/secmlops/secmlops/blob/main/docs/rules.md";

struct HtmlOptions {
  std::string title;                    // default: "secmlops · <report name>"
  std::string rules_url{kRulesDocUrl};  // base of the rule links
  // A Content-Security-Policy <meta> forbidding scripts and every network load. It is a second
  // guard only: every report string is escaped whether or not it is there (tests prove both).
  bool content_security_policy = true;
};

// The dashboard of a pipeline report. Every string in the report is treated as hostile.
std::string render_html(const v1::PipelineReport& report, const HtmlOptions& options = {});

// Which message a JSON document holds.
enum class ReportKind { pipeline, scan, train, attack, dataset };
std::string_view to_string(ReportKind kind);

// Adds one JSON document (protobuf's JSON mapping, as `--format json` prints it; or an array of
// such documents) to `into`, detecting the message it holds. A PipelineReport is merged (steps,
// gates, analyses, identity); a ScanReport, TrainResponse, AttackReport or DatasetRecord becomes
// one step whose id is `source`. Returns the kind of the (first) document. Throws
// std::invalid_argument naming `source` for text that is not JSON or not one of these messages.
ReportKind add_report_json(v1::PipelineReport& into, std::string_view json,
                           const std::string& source);

// Reads each file with add_report_json, then sets the verdict when no pipeline report gave one:
// "fail" if a scan or a gate failed, else "error" if a scan could not complete or a step failed,
// else "pass". A scan report without a verdict is judged as the CLI does: "fail" at a finding of
// its fail_on severity (HIGH when unset), "error" for a file not scanned completely. Throws
// std::invalid_argument naming the file that cannot be read or recognised.
v1::PipelineReport assemble_report(const std::vector<std::filesystem::path>& files);

}  // namespace secmlops::host
