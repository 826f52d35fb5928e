#include "cli_context.hpp"
#include "secmlops/host/report_html.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
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
  // Written next to its final name, then renamed: a reader never sees half a page.
  const std::filesystem::path out(a.out);
  const std::filesystem::path tmp = out.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << html;
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      std::cerr << "secmlops report html: " << out.string() << ": cannot write the file\n";
      ctx.exit_code = 2;
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    std::cerr << "secmlops report html: " << out.string() << ": " << ec.message() << "\n";
    ctx.exit_code = 2;
    return;
  }
  spdlog::info("dashboard of {} input(s), {} step(s): {} bytes", files.size(), report.steps_size(), html.size());
  std::cout << out.string() << "\n";
}

void register_report(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("report", "render results (JSON reports) in other forms");
  cmd->require_subcommand(1);
  auto a = std::make_shared<HtmlArgs>();
  auto* html = cmd->add_subcommand(
      "html", "a self-contained HTML dashboard from pipeline, scan, train and attack reports (JSON)");
  html->add_option("inputs", a->inputs,
                   "report files as `--format json` prints them; the message each holds is detected")
      ->required();
  html->add_option("--out,-o", a->out, "the HTML file to write; its path is printed")->capture_default_str();
  html->add_option("--title", a->title, "page title (default: secmlops · <report name>)");
  html->callback([a, &ctx] { run_html(*a, ctx); });
}

}  // namespace

SECMLOPS_CLI_COMMAND(report, register_report)

}  // namespace secmlops::cli
