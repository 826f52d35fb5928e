#include "secmlops/host/run_recorder.hpp"

#include "secmlops/host/dataset_record.hpp"

#include "secmlops/host/digest.hpp"
#include "secmlops/host/plugin_instance.hpp"
#include "secmlops/host/printable.hpp"
#include "secmlops/host/report_render.hpp"
#include "secmlops/v1/report.pb.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>

namespace secmlops::host {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Plugin reporter_plugin(const Registry& registry, const std::string& name) {
  auto plugin = registry.find(SECMLOPS_KIND_REPORTER, name);
  if (!plugin)
    throw PluginError(
        SECMLOPS_ERR_UNSUPPORTED,
        "the '" + name + "' reporter plugin is not installed (see `secmlops plugins`)");
  return *plugin;
}

// A floating-point literal ("0.10000000000000001", "5e-2") in its shortest exact form; any
// other text (integers, names, lists) as given.
std::string exact_number(const std::string& text) {
  if (text.find_first_of(".eE") == std::string::npos) return text;
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) return text;
  return number_text(d);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

RunRecorder::RunRecorder(const Registry& registry, const KeyValues& config,
                         const std::string& reporter)
    : session_(reporter_plugin(registry, reporter), config) {}

RunRecorder::~RunRecorder() = default;

void RunRecorder::send(secmlops_event_type type, const std::string& key, const std::string& value,
                       const std::string& path, double number, int64_t step, int64_t timestamp_ms,
                       const std::string& schema, const std::string& profile) {
  // Names and values often come from file names, which are bytes: a tracking server's JSON and
  // a file store's YAML need UTF-8. An artifact's path is a local file and stays as it is.
  const std::string k = utf8_safe(key), v = utf8_safe(value);
  const std::string p = type == SECMLOPS_EVENT_ARTIFACT ? path : utf8_safe(path);
  secmlops_run_event e{};
  e.struct_size = sizeof(e);
  e.type = type;
  e.key = k.c_str();
  e.value = v.c_str();
  e.path = p.c_str();
  e.number = number;
  e.step = step;
  e.timestamp_ms = timestamp_ms > 0 ? timestamp_ms : now_ms();
  const std::string sc = utf8_safe(schema), pr = utf8_safe(profile);
  e.schema = sc.c_str();
  e.profile = pr.c_str();
  session_.send(e);
}

void RunRecorder::start(const std::string& experiment, const std::string& run_name) {
  send(SECMLOPS_EVENT_RUN_START, experiment, run_name, "");
  started_ = true;
}
void RunRecorder::start(const std::string& experiment, const std::string& run_name,
                        const std::string& parent_run_id) {
  start(experiment, run_name);
  if (!parent_run_id.empty()) tag("mlflow.parentRunId", parent_run_id);
}
void RunRecorder::param(const std::string& k, const std::string& v) {
  send(SECMLOPS_EVENT_PARAM, k, v, "");
}
void RunRecorder::param_number(const std::string& k, double v) { param(k, number_text(v)); }
void RunRecorder::metric(const std::string& k, double v, int64_t step) {
  send(SECMLOPS_EVENT_METRIC, k, "", "", v, step);
}
void RunRecorder::metric_at(const std::string& k, double v, int64_t step, int64_t timestamp_ms) {
  send(SECMLOPS_EVENT_METRIC, k, "", "", v, step, timestamp_ms);
}
void RunRecorder::tag(const std::string& k, const std::string& v) {
  send(SECMLOPS_EVENT_TAG, k, v, "");
}
void RunRecorder::dataset(const std::string& name, const std::string& digest,
                          const std::string& source, const std::string& schema,
                          const std::string& profile) {
  send(SECMLOPS_EVENT_DATASET, name, digest, source, 0, 0, 0, schema, profile);
}
void RunRecorder::artifact(const std::string& local_path, const std::string& artifact_dir) {
  send(SECMLOPS_EVENT_ARTIFACT, artifact_dir, "", local_path);
}

void RunRecorder::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  send(SECMLOPS_EVENT_RUN_END, "", status, "");
  session_.flush();
}

std::string RunRecorder::property(const std::string& key) const {
  for (const auto& [k, v] : session_.emitted().properties)
    if (k == key) return v;
  return "";
}

std::string RunRecorder::run_location() const {
  std::string url = property("mlflow.run_url");
  return url.empty() ? property("mlflow.run_dir") : url;
}

std::string number_text(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(value);
}

void record_scan(RunRecorder& run, const v1::ScanReport& report, const Registry& registry,
                 const std::string& fail_on, const std::string& verdict) {
  run.tag("secmlops.kind", "scan");
  run.tag("secmlops.version",
          report.tool_version().empty() ? SECMLOPS_VERSION : report.tool_version());
  run.tag("secmlops.scan.verdict", verdict);
  const auto& summary = report.summary();
  run.tag("secmlops.scan.max_severity", summary.max_severity() == v1::SEVERITY_UNSPECIFIED
                                            ? "NONE"
                                            : v1::Severity_Name(summary.max_severity()));
  run.param("scan.fail_on", fail_on);
  std::string paths;
  for (const auto& f : report.files()) paths += (paths.empty() ? "" : ",") + file_uri(f.path());
  run.param("scan.paths", paths);

  run.metric("scan.files", summary.files());
  run.metric("scan.files_with_errors", summary.files_with_errors());
  uint64_t streams = 0, total = 0;
  for (const auto& f : report.files()) streams += static_cast<uint64_t>(f.streams_size());
  run.metric("scan.streams", static_cast<double>(streams));
  for (int s = v1::INFO; s <= v1::CRITICAL; ++s) {
    std::string name = v1::Severity_Name(static_cast<v1::Severity>(s));
    auto it = summary.findings_by_severity().find(name);
    uint32_t n = it == summary.findings_by_severity().end() ? 0 : it->second;
    total += n;
    run.metric("scan.findings." + lower(name), n);
  }
  run.metric("scan.findings.total", static_cast<double>(total));
  run.metric("scan.duration_seconds", report.duration_seconds());

  // The scanners that looked at something, with their versions (params are immutable: one each).
  std::map<std::string, std::string> used;
  for (const auto& f : report.files())
    for (const auto& s : f.streams())
      if (!s.scanner().empty() && s.scanner() != "host") used[s.scanner()] = "";
  for (auto& [name, version] : used) {
    auto p = registry.find(SECMLOPS_KIND_SCANNER, name);
    run.param("scanner." + name + ".version", p ? p->version() : "unknown");
  }
  // Scanned files as dataset inputs: their digest is what the verdict is about.
  size_t n = 0;
  for (const auto& f : report.files()) {
    if (++n > 100) break;  // a directory of thousands of files: the JSON report has them all
    std::string digest = f.sha256();
    if (digest.empty()) {
      try {
        digest = sha256_file(f.path());
      } catch (const std::exception& e) {
        spdlog::warn("mlflow: {} is not logged as a dataset input: {}", f.path(), e.what());
        continue;
      }
    }
    run.dataset(std::filesystem::path(f.path()).filename().string(), digest, file_uri(f.path()));
  }
}

void record_content(RunRecorder& run, const std::string& file_name, std::string_view content,
                    const std::string& artifact_dir) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "secmlops-mlflow-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("cannot create a temporary directory in " +
                             std::filesystem::temp_directory_path().string());
  const std::filesystem::path dir = tmpl;
  // The reporter copies each artifact when it is logged: the directory can go right after.
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  const auto path = dir / file_name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  run.artifact(path.string(), artifact_dir);
}

void record_scan_reports(RunRecorder& run, const v1::ScanReport& report) {
  const std::string sarif = to_sarif(report);
  record_content(run, "scan-report.json", to_json(report), "reports");
  record_content(run, "scan-report.sarif", sarif, "reports");
  record_content(run, "scan-report.sarif.json", sarif, "reports");
}

void record_attack_point(RunRecorder& run, int64_t step, const v1::RobustnessPoint& p) {
  run.metric("attack.eps", p.eps(), step);
  run.metric("attack.adversarial_accuracy", p.adversarial_accuracy(), step);
  run.metric("attack.success_rate", p.success_rate(), step);
  run.metric("attack.flip_rate", p.flip_rate(), step);
  run.metric("attack.perturbation.l2_mean", p.perturbation().mean_l2(), step);
  run.metric("attack.perturbation.l2_max", p.perturbation().max_l2(), step);
  run.metric("attack.perturbation.linf_mean", p.perturbation().mean_linf(), step);
  run.metric("attack.perturbation.linf_max", p.perturbation().max_linf(), step);
  run.metric("attack.perturbation.l0_mean", p.perturbation().mean_l0(), step);
  run.metric("attack.queries", static_cast<double>(p.model_queries()), step);
}

void record_attack(RunRecorder& run, const v1::AttackReport& report) {
  record_attack(run, report, false);
}

void record_attack(RunRecorder& run, const v1::AttackReport& report, bool points_recorded) {
  run.tag("secmlops.kind", "attack");
  run.param("attack.name", report.attack());
  run.param("model.name", report.model());
  if (!report.method().empty()) run.tag("attack.method", report.method());
  run.param("attack.targeted", report.targeted() ? "true" : "false");
  for (const auto& [k, v] : report.params()) run.param("attack.param." + k, exact_number(v));
  std::string eps_list;
  for (const auto& p : report.curve())
    eps_list += (eps_list.empty() ? "" : ",") + number_text(p.eps());
  run.param("attack.eps", eps_list);
  run.metric("attack.samples", static_cast<double>(report.samples()));
  run.metric("attack.clean_accuracy", report.clean_accuracy());
  if (!points_recorded)
    for (int i = 0; i < report.curve_size(); ++i)
      record_attack_point(run, static_cast<int64_t>(i), report.curve(i));
  if (report.has_empirical_robustness())
    run.metric("attack.empirical_robustness", report.empirical_robustness());
}

void record_model(RunRecorder& run, const std::string& model, double train_accuracy,
                  double test_accuracy, const Emitted& description) {
  run.tag("secmlops.kind", "train");
  run.param("model.name", model);
  run.metric("model.train_accuracy", train_accuracy);
  run.metric("model.test_accuracy", test_accuracy);
  run.metric("model.overfitting_gap", train_accuracy - test_accuracy);
  for (const auto& [key, value] : description.metrics)
    run.metric("model.complexity." + key, value.first, value.second);
  for (const auto& [key, value] : description.properties) run.param("model." + key, value);
}

}  // namespace secmlops::host
