#include "cli_context.hpp"
#include "option_table.hpp"
#include "secmlops/app/shard.hpp"
#include "secmlops/host/report_html.hpp"
#include "secmlops/host/report_render.hpp"

#include <google/protobuf/util/json_util.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace secmlops::cli {

namespace {

struct HtmlArgs {
  std::vector<std::string> inputs;
  std::string out = "secmlops-report.html";
  std::string title;
};

// Writes next to the final name, then renames: a reader never sees half a file. false (with
// the reason on stderr) when it cannot.
bool write_atomically(const std::filesystem::path& out, const std::string& text,
                      const char* command) {
  const std::filesystem::path tmp = out.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      std::cerr << "secmlops " << command << ": " << out.string() << ": cannot write the file\n";
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    std::cerr << "secmlops " << command << ": " << out.string() << ": " << ec.message() << "\n";
    return false;
  }
  return true;
}

// Exit codes: 0 written, 2 an input could not be read or recognised, or the output not written.
void run_html(const HtmlArgs& a, Context& ctx) {
  std::vector<std::filesystem::path> files(a.inputs.begin(), a.inputs.end());
  v1::PipelineReport report;
  try {
    report = host::assemble_report(files);
  } catch (const std::invalid_argument& e) {
    std::cerr << "secmlops report html: " << e.what() << "\n";
    ctx.exit_code = 2;
    return;
  }
  host::HtmlOptions options;
  options.title = a.title;
  const std::string html = host::render_html(report, options);
  if (!write_atomically(a.out, html, "report html")) {
    ctx.exit_code = 2;
    return;
  }
  spdlog::info("dashboard of {} input(s), {} step(s): {} bytes", files.size(), report.steps_size(),
               html.size());
  std::cout << a.out << "\n";
}

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string format = "json";
  std::string out;
  std::string html;
  bool allow_missing = false;
};

// One shard's ScanReport as `secmlops scan --format json` wrote it (unknown keys refused).
v1::ScanReport read_scan_report(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  v1::ScanReport r;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (auto st = google::protobuf::util::JsonStringToMessage(text.str(), &r, options); !st.ok())
    throw std::invalid_argument(
        path + ": not a scan report (JSON of ScanReport): " + std::string(st.message()));
  return r;
}

// Exit codes as `secmlops scan`: 0 pass, 1 findings at the shards' threshold, 2 a file not
// scanned completely, a shard missing (with --allow-missing), or inputs that do not merge.
void run_merge(const MergeArgs& a, Context& ctx) {
  std::vector<v1::ScanReport> reports;
  v1::ScanReport merged;
  try {
    for (const auto& p : a.inputs) reports.push_back(read_scan_report(p));
    app::MergeOptions options;
    options.allow_missing = a.allow_missing;
    merged = app::merge_scan_reports(reports, options);
  } catch (const std::exception& e) {
    std::cerr << "secmlops report merge: " << e.what() << "\n";
    ctx.exit_code = 2;
    return;
  }
  reports.clear();
  std::string text;
  if (a.format == "json") {
    text = host::to_json(merged);
  } else if (a.format == "sarif") {
    text = host::to_sarif(merged);
  } else {
    std::ostringstream s;
    host::render_text(merged, s);
    text = s.str();
  }
  if (a.out.empty())
    std::cout << text;
  else if (!write_atomically(a.out, text, "report merge"))
    ctx.exit_code = 2;
  if (!a.html.empty()) {
    v1::PipelineReport page;
    host::add_report_json(page, host::to_json(merged), "merged scan");
    page.set_name("merged scan");
    if (!write_atomically(a.html, host::render_html(page), "report merge")) ctx.exit_code = 2;
  }
  const auto& s = merged.summary();
  spdlog::info("merged {} report(s): {} files, {} with errors, verdict {}{}", a.inputs.size(),
               s.files(), s.files_with_errors(), merged.verdict(),
               merged.shard().missing_size()
                   ? " (" + std::to_string(merged.shard().missing_size()) + " shards missing)"
                   : std::string());
  if (ctx.exit_code == 0)
    ctx.exit_code = merged.verdict() == "fail" ? 1 : merged.verdict() == "error" ? 2 : 0;
}

void register_report(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("report", "render results (JSON reports) in other forms");
  cmd->require_subcommand(1);
  auto a = std::make_shared<HtmlArgs>();
  auto* html = cmd->add_subcommand(
      "html",
      "a self-contained HTML dashboard from pipeline, scan, train and attack reports (JSON)");
  add_options(
      html, {
                {"inputs", &a->inputs,
                 "report files as `--format json` prints them; the message each holds is detected",
                 kRequired},
                {"--out,-o", &a->out, "the HTML file to write; its path is printed", kShowDefault},
                {"--title", &a->title, "page title (default: secmlops · <report name>)"},
            });
  html->callback([a, &ctx] { run_html(*a, ctx); });

  auto m = std::make_shared<MergeArgs>();
  auto* merge = cmd->add_subcommand(
      "merge",
      "one scan report of shard reports (`secmlops scan --shard K/N --format json`), with totals");
  add_options(
      merge,
      {
          {"inputs", &m->inputs, "the shards' JSON reports", kRequired},
          {"--format",
           &m->format,
           "json (the ScanReport message), sarif or text",
           kShowDefault,
           {"json", "sarif", "text"}},
          {"--out,-o", &m->out, "write the merged report here instead of stdout"},
          {"--html", &m->html, "also write the HTML dashboard of the merged report"},
          {"--allow-missing", &m->allow_missing,
           "merge although shards are missing (listed in shard.missing; the verdict is never "
           "pass)"},
      });
  merge->callback([m, &ctx] { run_merge(*m, ctx); });
}

}  // namespace

SECMLOPS_CLI_COMMAND(report, register_report)

}  // namespace secmlops::cli
