#include "secmlops/app/operations.hpp"
#include "secmlops/app/run_scope.hpp"
#include "secmlops/app/shard.hpp"
#include "secmlops/host/plugin_info.hpp"
#include "secmlops/host/report_render.hpp"
#include "secmlops/host/scan_engine.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <future>
#include <set>

namespace secmlops::app {
namespace {

constexpr size_t kMaxPathsPerScan = 10000;

host::ScanOptions scan_options(const Environment& env, const v1::ScanOptions& o) {
  host::ScanOptions out;
  for (const auto& kv : o.scanner_config()) out.scanner_config.emplace_back(kv.key(), kv.value());
  if (!(o.seconds_per_file() >= 0) || !std::isfinite(o.seconds_per_file()))
    fail(AppError::Code::invalid_argument,
         "options.seconds_per_file must be a non-negative number");
  double seconds = o.seconds_per_file() > 0 ? o.seconds_per_file() : env.default_seconds_per_file;
  // A door's cap wins over the request (0 = no cap; a request cannot lift a cap with 0).
  if (env.max_seconds_per_file > 0 && (seconds == 0 || seconds > env.max_seconds_per_file))
    seconds = env.max_seconds_per_file;
  out.limits.seconds_per_file = seconds;
  if (env.worker_memory_bytes) out.limits.worker_memory_bytes = env.worker_memory_bytes;
  out.isolation = env.scan_isolation;
  out.roots = env.scan_roots;
  out.parallel_files = env.parallel_files;
  out.cancel = env.cancel;
  return out;
}

// A configuration the scanners refuse (an unknown mode, a malformed policy) is the request's
// error, before anything is scanned.
void check_config(const host::ScanEngine& engine) {
  if (auto why = engine.config_error(); !why.empty()) fail(AppError::Code::invalid_argument, why);
}

// Holds a scan's finished files until its configuration check (in a worker, while the walk
// lists, opens and digests) has answered: nothing reaches the caller before the check passed,
// and a refused configuration stops the walk and refuses the request as a whole.
class ConfigGate {
 public:
  using Emit = std::function<void(const v1::FileReport&)>;
  ConfigGate(std::future<std::string> answer, std::shared_ptr<host::CancelToken> stop)
      : answer_(std::move(answer)), stop_(std::move(stop)) {}

  // Called in report order, one file at a time.
  void pass(const v1::FileReport& f, const Emit& emit) {
    if (!answered(false)) {
      held_.push_back(f);
      return;
    }
    if (!error_.empty()) return;
    release(emit);
    emit(f);
  }
  // After the scan: waits for the answer; throws the refusal, else passes on what is held.
  void finish(const Emit& emit) {
    answered(true);
    if (!error_.empty()) fail(AppError::Code::invalid_argument, error_);
    release(emit);
  }

 private:
  bool answered(bool wait) {
    if (done_) return true;
    if (!wait && answer_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      return false;
    error_ = answer_.get();
    done_ = true;
    if (!error_.empty()) stop_->cancel();
    return true;
  }
  void release(const Emit& emit) {
    for (const auto& f : held_) emit(f);
    held_.clear();
  }

  std::future<std::string> answer_;
  std::shared_ptr<host::CancelToken> stop_;
  std::vector<v1::FileReport> held_;
  std::string error_;
  bool done_ = false;
};

// Name and version of every scanner that took part, in name order.
void add_scanners(const Environment& env, v1::ScanReport& report) {
  std::set<std::string> names;
  for (const auto& f : report.files()) {
    for (const auto& s : f.streams())
      if (!s.scanner().empty()) names.insert(s.scanner());
    for (const auto& fi : f.findings())
      if (!fi.scanner().empty()) names.insert(fi.scanner());
  }
  for (const auto& name : names) {
    auto* info = report.add_scanners();
    info->set_name(name);
    info->set_kind(v1::SCANNER);
    // A fact of the catalogue: sandboxed scanners ran in workers, the host need not load them.
    for (const auto& p : env.registry.plugins())
      if (p.kind() == SECMLOPS_KIND_SCANNER && p.name() == name) info->set_version(p.version());
  }
}

void record(const Environment& env, RunScope& run, const v1::ScanReport& report) {
  if (!run) return;
  const std::string threshold = v1::Severity_Name(report.fail_on());
  host::record_scan(*run, report, env.registry, threshold, report.verdict());
  host::record_scan_reports(*run, report);  // JSON, SARIF, and SARIF as .json for MLflow's viewer
  run.finish("FINISHED");
}

}  // namespace

std::string scan_verdict(const v1::ScanReport& report, v1::Severity threshold) {
  bool hit = false, failed = false;
  for (const auto& f : report.files()) {
    if (f.status() == v1::ERROR || f.status() == v1::PARTIAL) failed = true;
    for (const auto& fi : f.findings())
      if (fi.severity() >= threshold) hit = true;
  }
  return hit ? "fail" : failed ? "error" : "pass";
}

v1::ScanReport scan(const Environment& env, const v1::ScanRequest& req,
                    const std::function<void(const v1::FileReport&)>& on_file) {
  if (req.paths().empty())
    fail(AppError::Code::invalid_argument, "no paths given: set ScanRequest.paths");
  if (static_cast<size_t>(req.paths_size()) > kMaxPathsPerScan)
    fail(AppError::Code::invalid_argument,
         "at most " + std::to_string(kMaxPathsPerScan) + " paths per request");
  const v1::Severity threshold =
      req.options().fail_on() == v1::SEVERITY_UNSPECIFIED ? v1::HIGH : req.options().fail_on();
  auto options = scan_options(env, req.options());
  check_shard(req.shard());
  if (const auto& shard = req.shard(); shard.count() > 1)
    options.select = [shard](const std::filesystem::path& rel) {
      return shard_of(rel.generic_string(), shard.count()) == shard.index();
    };
  // Every path is resolved before anything is scanned: one refused path refuses the request.
  std::vector<std::filesystem::path> paths;
  for (const auto& p : req.paths()) paths.push_back(env.files.resolve(p));
  // One regular file is one worker's job (its members are scanned inside it): starting a
  // worker per core only to leave them idle costs a copy of the worker each (docs/benchmarks.md).
  std::error_code ec;
  if (options.parallel_files == 0 && paths.size() == 1 &&
      std::filesystem::is_regular_file(paths[0], ec))
    options.parallel_files = 1;
  std::string run_name = "scan " + std::filesystem::path(req.paths(0)).filename().string();
  if (req.shard().count() > 0)
    run_name +=
        " shard " + std::to_string(req.shard().index()) + "/" + std::to_string(req.shard().count());
  RunScope run(env, req.mlflow(), "scan", run_name);

  // The request's own stop: a refused configuration ends the walk early.
  auto stop = std::make_shared<host::CancelToken>(options.cancel);
  options.cancel = stop;
  host::ScanEngine engine(env.registry, options);
  ConfigGate gate(engine.config_error_async(), stop);
  // Reports name files as the request did: a door that resolves paths (a server under its scan
  // roots) must not show where its roots lie.
  std::vector<std::string> shown(req.paths().begin(), req.paths().end());
  uint64_t done = 0;
  const ConfigGate::Emit emit = [&](const v1::FileReport& f) {
    ++done;
    v1::ProgressEvent ev;
    ev.set_kind("scan");
    ev.set_phase("progress");
    ev.set_item(f.path());
    ev.set_done(done);
    env.report(ev);
    if (on_file) on_file(f);
  };
  auto report = engine.scan_paths(
      paths, [&](const v1::FileReport& f) { gate.pass(f, emit); }, shown);
  gate.finish(emit);
  env.throw_if_cancelled("scan");
  report.set_tool_version(SECMLOPS_VERSION);
  report.set_fail_on(threshold);
  report.set_verdict(scan_verdict(report, threshold));
  if (req.shard().count() > 0) *report.mutable_shard() = req.shard();
  add_scanners(env, report);
  record(env, run, report);
  return report;
}

v1::FileReport scan_stream(const Environment& env, std::shared_ptr<const host::Stream> stream,
                           const std::string& name, const v1::ScanOptions& options) {
  host::ScanEngine engine(env.registry, scan_options(env, options));
  check_config(engine);
  auto report = engine.scan_stream(std::move(stream), name);
  env.throw_if_cancelled("scan");
  return report;
}

}  // namespace secmlops::app
