#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/app/shard.hpp"
#include "secmlops/host/large_allocations.hpp"
#include "secmlops/host/report_render.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace secmlops::cli {
namespace {

// Exit codes: 0 nothing at or above the threshold, 1 findings at or above it, 2 a file could
// not be scanned. 1 wins over 2: a payload found before a parse error matters more.
int exit_code(const std::string& verdict) {
  return verdict == "fail" ? 1 : verdict == "error" ? 2 : 0;
}

// Reads the policy file whole (bounded: a policy is text, not a model).
std::string read_policy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CLI::ValidationError("--policy", path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  if (s.size() > (16u << 20))
    throw CLI::ValidationError("--policy", path.string() + ": larger than 16 MiB");
  return s;
}

void add_config(v1::ScanOptions& o, const std::string& key, const std::string& value) {
  auto* kv = o.add_scanner_config();
  kv->set_key(key);
  kv->set_value(value);
}

void register_scan(CLI::App& app, Context& ctx) {
  auto* cmd =
      app.add_subcommand("scan", "scan model files and directories for code-execution risks");
  struct Args {
    std::vector<std::string> paths;
    std::string format = "text";
    std::string fail_on = "HIGH";
    std::filesystem::path policy;
    bool allowlist = false;
    std::vector<std::string> options;
    double timeout = 300;
    bool in_process = false;
    std::filesystem::path require_signature;
    std::string shard;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("paths", args->paths, "files or directories (recursive)")->required();
  cmd->add_option("--format", args->format,
                  "text, json (the ScanReport message) or sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->capture_default_str();
  cmd->add_option("--fail-on", args->fail_on, "exit 1 when a finding reaches this severity")
      ->transform(CLI::IsMember({"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}, CLI::ignore_case))
      ->capture_default_str();
  cmd->add_option("--policy", args->policy,
                  "policy file for the scanners that declare config key 'policy' (pickle)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--allowlist", args->allowlist,
                "allowlist mode: only known-safe content passes (config key 'mode' = 'allowlist')");
  cmd->add_option("--option", args->options,
                  "KEY=VALUE scanner configuration, to the scanners that declare KEY (repeatable)")
      ->each([](const std::string& kv) {
        if (kv.find('=') == std::string::npos || kv.front() == '=')
          throw CLI::ValidationError("--option", "'" + kv + "' is not KEY=VALUE");
      });
  cmd->add_option("--timeout", args->timeout, "seconds allowed per file (0 = no limit)")
      ->capture_default_str();
  cmd->add_flag("--in-process", args->in_process,
                "run scanner plugins inside this process instead of sandboxed workers (debugging "
                "plugins only: a crashing plugin then ends the scan)");
  cmd->add_option("--require-signature", args->require_signature,
                  "public key (PEM): a path whose signature (DIR/model.sig, FILE.sig) fails is a "
                  "CRITICAL finding");
  cmd->add_option(
      "--shard", args->shard,
      "K/N: only the files of shard K (0-based) of N, by a hash of each file's path below "
      "the directory scanned (docs/scale-out.md); `secmlops report merge` joins the reports");
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, args, mlflow] {
    // The scan's helper threads parse reports while the main thread reads files. Before any
    // thread is started: glibc reads the limit once.
    host::give_helper_threads_arenas();
    std::string threshold_name = args->fail_on;
    for (auto& c : threshold_name) c = static_cast<char>(std::toupper(c));
    v1::Severity threshold = v1::HIGH;
    v1::Severity_Parse(threshold_name, &threshold);

    v1::ScanRequest req;
    for (const auto& p : args->paths) req.add_paths(p);
    if (!args->shard.empty()) *req.mutable_shard() = app::parse_shard(args->shard, "--shard");
    auto* o = req.mutable_options();
    o->set_fail_on(threshold);
    add_config(*o, "mode", args->allowlist ? "allowlist" : "default");
    if (!args->policy.empty()) add_config(*o, "policy", read_policy(args->policy));
    for (const auto& kv : args->options) {
      auto eq = kv.find('=');
      add_config(*o, kv.substr(0, eq), kv.substr(eq + 1));
    }
    *req.mutable_mlflow() = to_recording(*mlflow);
    auto& env = ctx.env();
    // --timeout 0 means no limit on the command line.
    env.default_seconds_per_file = args->timeout;
    if (args->in_process) env.scan_isolation = host::Isolation::in_process;
    auto report = app::scan(env, req);
    if (!args->require_signature.empty()) {
      app::require_signatures(report, {args->paths.begin(), args->paths.end()},
                              args->require_signature);
      report.set_verdict(app::scan_verdict(report, threshold));
    }
    if (args->format == "json")
      std::cout << host::to_json(report);
    else if (args->format == "sarif")
      std::cout << host::to_sarif(report);
    else
      host::render_text(report, std::cout);
    ctx.exit_code = exit_code(report.verdict());
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(scan, register_scan)

}  // namespace secmlops::cli
