// Reading result JSON files into one PipelineReport for the dashboard.
#include "secmlops/host/report_html.hpp"
#include "secmlops/v1/pipeline.pb.h"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace secmlops::host {

namespace {

using nlohmann::json;

// Keys only the given message has: a document must carry one of them to count as that message
// (an empty object or one holding only shared keys such as "durationSeconds" is not recognised).
bool has_any(const json& doc, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (doc.contains(k)) return true;
  return false;
}

// Deepest nesting of arrays and objects, strings skipped. Reports are a few levels deep; a
// hostile file nested a million levels would exhaust the stack of any recursive reader.
size_t json_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

constexpr size_t kMaxJsonDepth = 64;

// Strict parse: an unknown key means the document is not this message.
bool parse_strict(const std::string& text, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  return google::protobuf::util::JsonStringToMessage(text, &message, options).ok();
}

// A scan report's own verdict, or for one written without it, the CLI's rule: "fail" when a
// finding reaches fail_on (HIGH when unset), else "error" when a file was not scanned completely.
std::string scan_verdict(const v1::ScanReport& scan) {
  if (!scan.verdict().empty()) return scan.verdict();
  const v1::Severity threshold =
      scan.fail_on() != v1::SEVERITY_UNSPECIFIED ? scan.fail_on() : v1::HIGH;
  bool incomplete = false;
  for (const auto& f : scan.files()) {
    incomplete |= f.status() == v1::PARTIAL || f.status() == v1::ERROR;
    for (const auto& fi : f.findings())
      if (fi.severity() >= threshold) return "fail";
  }
  return incomplete ? "error" : "pass";
}

std::string step_id(const v1::PipelineReport& into, const std::string& source) {
  std::string id = source;
  for (int n = 2;; ++n) {
    bool taken = false;
    for (const auto& s : into.steps()) taken = taken || s.id() == id;
    if (!taken) return id;
    id = fmt::format("{} #{}", source, n);
  }
}

void merge_pipeline(v1::PipelineReport& into, const v1::PipelineReport& p) {
  // Identity comes from the first pipeline report; everything that is a list is appended.
  if (into.name().empty()) into.set_name(p.name());
  if (into.tool_version().empty()) into.set_tool_version(p.tool_version());
  if (into.started_at().empty()) into.set_started_at(p.started_at());
  if (into.duration_seconds() == 0) into.set_duration_seconds(p.duration_seconds());
  if (into.verdict().empty()) into.set_verdict(p.verdict());
  if (into.mlflow_run_id().empty()) {
    into.set_mlflow_run_id(p.mlflow_run_id());
    into.set_mlflow_experiment_id(p.mlflow_experiment_id());
    into.set_mlflow_run_url(p.mlflow_run_url());
  }
  if (into.output_dir().empty()) into.set_output_dir(p.output_dir());
  into.mutable_steps()->MergeFrom(p.steps());
  into.mutable_gates()->MergeFrom(p.gates());
  into.mutable_plugins()->MergeFrom(p.plugins());
  into.mutable_settings()->MergeFrom(p.settings());
  into.mutable_analyses()->MergeFrom(p.analyses());
}

ReportKind add_document(v1::PipelineReport& into, const json& doc, const std::string& source) {
  if (!doc.is_object())
    throw std::invalid_argument(
        fmt::format("{}: expected a JSON object (a secmlops report)", source));
  const std::string text = doc.dump();

  v1::PipelineReport pipeline;
  if (has_any(doc, {"steps", "gates", "analyses", "settings", "outputDir", "output_dir"}) &&
      parse_strict(text, pipeline)) {
    merge_pipeline(into, pipeline);
    return ReportKind::pipeline;
  }
  v1::StepResult step;
  step.set_status(v1::STEP_OK);
  ReportKind kind;
  if (has_any(doc, {"files", "summary", "failOn", "fail_on", "scanners"}) &&
      parse_strict(text, *step.mutable_scan())) {
    kind = ReportKind::scan;
    step.mutable_scan()->set_verdict(scan_verdict(step.scan()));
    step.set_started_at(step.scan().started_at());
    step.set_duration_seconds(step.scan().duration_seconds());
    if (step.scan().verdict() == "error") step.set_error("a file could not be scanned completely");
  } else if (v1::AttackReport attack;
             has_any(doc, {"curve", "attack", "cleanAccuracy", "clean_accuracy",
                           "empiricalRobustness", "empirical_robustness"}) &&
             parse_strict(text, attack)) {
    kind = ReportKind::attack;
    step.set_duration_seconds(attack.duration_seconds());
    *step.add_attacks() = std::move(attack);
  } else if (v1::TrainResponse train;
             has_any(doc, {"model", "overfitting", "trainRows", "train_rows", "complexity",
                           "modelSha256", "model_sha256"}) &&
             parse_strict(text, train)) {
    kind = ReportKind::train;
    step.set_duration_seconds(train.duration_seconds());
    *step.add_models() = std::move(train);
  } else if (v1::DatasetRecord dataset;
             has_any(doc, {"schema", "lineage", "privacy", "classCounts", "class_counts"}) &&
             parse_strict(text, dataset)) {
    kind = ReportKind::dataset;
    *step.add_datasets() = std::move(dataset);
  } else {
    throw std::invalid_argument(fmt::format(
        "{}: not a secmlops report (expected a pipeline, scan, train or attack report, or a "
        "dataset record, in protobuf JSON)",
        source));
  }
  step.set_kind(std::string(to_string(kind)));
  step.set_id(step_id(into, source));
  *into.add_steps() = std::move(step);
  return kind;
}

}  // namespace

std::string_view to_string(ReportKind kind) {
  switch (kind) {
    case ReportKind::pipeline:
      return "pipeline";
    case ReportKind::scan:
      return "scan";
    case ReportKind::train:
      return "train";
    case ReportKind::attack:
      return "attack";
    case ReportKind::dataset:
      return "dataset";
  }
  return "?";
}

ReportKind add_report_json(v1::PipelineReport& into, std::string_view text,
                           const std::string& source) {
  if (json_depth(text) > kMaxJsonDepth)
    throw std::invalid_argument(
        fmt::format("{}: JSON nested deeper than {} levels", source, kMaxJsonDepth));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw std::invalid_argument(fmt::format("{}: not valid JSON", source));
  if (!doc.is_array()) return add_document(into, doc, source);
  if (doc.empty()) throw std::invalid_argument(fmt::format("{}: an empty JSON array", source));
  std::optional<ReportKind> first;
  for (size_t i = 0; i < doc.size(); ++i) {
    auto kind =
        add_document(into, doc[i], doc.size() == 1 ? source : fmt::format("{}[{}]", source, i));
    if (!first) first = kind;
  }
  return *first;
}

v1::PipelineReport assemble_report(const std::vector<std::filesystem::path>& files) {
  v1::PipelineReport report;
  bool from_pipeline = false;
  for (const auto& path : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      throw std::invalid_argument(fmt::format("{}: not a readable file", path.string()));
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    if (in) buffer << in.rdbuf();
    if (!in || in.bad() || buffer.fail())
      throw std::invalid_argument(fmt::format("{}: cannot read the file", path.string()));
    from_pipeline |= add_report_json(report, buffer.str(), path.string()) == ReportKind::pipeline;
  }
  if (report.name().empty())
    report.set_name(files.size() == 1 ? files.front().filename().string() : "report");
  if (!from_pipeline || report.verdict().empty()) {
    bool error = false, fail = false;
    for (const auto& s : report.steps()) {
      error |= s.status() == v1::STEP_FAILED || s.scan().verdict() == "error";
      fail |= s.scan().verdict() == "fail";
      for (const auto& g : s.gates()) fail |= !g.passed();
    }
    for (const auto& g : report.gates()) fail |= !g.passed();
    report.set_verdict(fail ? "fail" : error ? "error" : "pass");
  }
  for (const auto& s : report.steps())
    if (report.tool_version().empty() && s.has_scan())
      report.set_tool_version(s.scan().tool_version());
  if (report.tool_version().empty()) report.set_tool_version(SECMLOPS_VERSION);
  return report;
}

}  // namespace secmlops::host
