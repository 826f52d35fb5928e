#pragma once
// Runs `secmlops scan --format json` on files with the in-tree plugins and gives back the parsed
// report, the exit code and the rule ids found — for end-to-end scanner tests.

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>

namespace secmlops::test {

struct CliScan {
  int exit_code = -1;
  nlohmann::json report;
  std::multiset<std::string> rules;  // every finding's ruleId
  std::string max_severity;          // summary.maxSeverity ("" when no finding)
  std::string status;                // the first file's status
  std::string error;                 // the first file's error
};

inline CliScan cli_scan(const std::string& args) {
  auto r = run_command(std::string(SECMLOPS_CLI) +
                       " --plugin-dir " SECMLOPS_PLUGIN_DIR " scan --format json " + args +
                       " 2>/dev/null");
  CliScan s;
  s.exit_code = r.exit_code;
  s.report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!s.report.is_object()) return s;
  for (const auto& f : s.report.value("files", nlohmann::json::array()))
    for (const auto& fi : f.value("findings", nlohmann::json::array()))
      s.rules.insert(fi.value("ruleId", ""));
  s.max_severity = s.report["summary"].value("maxSeverity", "");
  if (!s.report["files"].empty()) {
    s.status = s.report["files"][0].value("status", "");
    s.error = s.report["files"][0].value("error", "");
  }
  return s;
}

// Scans a copy of `path` named `misleading_name`: routing must follow the content, never the
// name or extension.
inline CliScan cli_scan_renamed(const std::string& path, const std::string& misleading_name) {
  TempDir d;
  auto target = d.path() / misleading_name;
  std::filesystem::copy_file(path, target);
  return cli_scan(target.string());
}

}  // namespace secmlops::test
