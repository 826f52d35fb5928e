// SARIF 2.1.0 rendering of a scan report, in the shape GitHub code scanning ingests: one run,
// tool.driver with every rule that fired, results with ruleId/level/message/locations and stable
// partialFingerprints, and files that could not be scanned as tool execution notifications.
#include "secmlops/host/report_html.hpp"
#include "secmlops/host/report_render.hpp"
#include "secmlops/v1/report.pb.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <map>

namespace secmlops::host {
namespace {

using nlohmann::json;

const char* level_of(v1::Severity s) {
  switch (s) {
    case v1::CRITICAL:
    case v1::HIGH:
      return "error";
    case v1::MEDIUM:
      return "warning";
    default:
      return "note";
  }
}

// GitHub ranks security alerts by this property of the rule (0.0–10.0).
const char* security_severity(v1::Severity s) {
  switch (s) {
    case v1::CRITICAL:
      return "9.5";
    case v1::HIGH:
      return "8.0";
    case v1::MEDIUM:
      return "5.5";
    case v1::LOW:
      return "3.0";
    default:
      return "1.0";
  }
}

// FNV-1a: deterministic across builds and platforms, unlike std::hash.
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A relative path becomes a relative URI reference (percent-encoded); an absolute one a file URI.
std::string to_uri(const std::string& path) {
  std::string out = !path.empty() && path[0] == '/' ? "file://" : "";
  for (unsigned char c : path) {
    if (std::isalnum(c) ||
        std::string_view("/-._~").find(static_cast<char>(c)) != std::string_view::npos)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace

std::string to_sarif(const v1::ScanReport& report) {
  // Rules first: one per rule id, at the highest severity it was reported with.
  std::map<std::string, std::pair<v1::Severity, std::string>> rules;
  for (const auto& f : report.files())
    for (const auto& fi : f.findings()) {
      auto& r = rules[fi.rule_id()];
      if (fi.severity() > r.first) r.first = fi.severity();
      if (r.second.empty()) r.second = fi.scanner();
    }
  json rule_list = json::array();
  std::map<std::string, size_t> rule_index;
  for (const auto& [id, r] : rules) {
    rule_index[id] = rule_list.size();
    rule_list.push_back({
        {"id", id},
        {"name", id},
        {"shortDescription", {{"text", fmt::format("{} ({} finding)", id, r.second)}}},
        {"helpUri", std::string(kRulesDocUrl)},
        {"defaultConfiguration", {{"level", level_of(r.first)}}},
        {"properties",
         {{"security-severity", security_severity(r.first)},
          {"tags", json::array({"security", "ml-model"})},
          {"scanner", r.second}}},
    });
  }

  json results = json::array();
  json notifications = json::array();
  for (const auto& f : report.files()) {
    for (const auto& fi : f.findings()) {
      const auto& loc = fi.location();
      std::string where = format_location(loc);
      json region = {{"startLine", 1}};
      // A byte offset inside an archive member is not an offset in the file: keep it in properties.
      if (loc.has_offset() && loc.members_size() == 0) region["byteOffset"] = loc.offset();
      json physical = {
          {"artifactLocation", {{"uri", to_uri(loc.file().empty() ? f.path() : loc.file())}}},
          {"region", region}};
      json members = json::array();
      for (const auto& m : loc.members()) members.push_back(m);
      json evidence = json::object();
      std::string evidence_text;
      for (const auto& e : fi.evidence()) {
        evidence[e.key()] = e.value();
        evidence_text += e.key() + "=" + e.value() + ";";
      }
      std::string key = fi.rule_id() + "|" + loc.file();
      for (const auto& m : loc.members()) key += "|" + m;
      key += "|" + (loc.has_offset() ? std::to_string(loc.offset()) : std::string("-")) + "|" +
             evidence_text;
      json result = {
          {"ruleId", fi.rule_id()},
          {"ruleIndex", rule_index[fi.rule_id()]},
          {"level", level_of(fi.severity())},
          {"message", {{"text", fmt::format("{} (at {})", fi.message(), where)}}},
          {"locations", json::array({{{"physicalLocation", physical}}})},
          {"partialFingerprints", {{"secmlopsFinding/v1", fmt::format("{:016x}", fnv1a(key))}}},
          {"properties",
           {{"severity", v1::Severity_Name(fi.severity())},
            {"scanner", fi.scanner()},
            {"members", members},
            {"evidence", evidence}}},
      };
      if (loc.has_offset()) result["properties"]["offset"] = loc.offset();
      if (!loc.detail().empty()) result["properties"]["detail"] = loc.detail();
      results.push_back(std::move(result));
    }
    if (f.status() == v1::ERROR || f.status() == v1::PARTIAL) {
      notifications.push_back({
          {"level", "error"},
          {"message", {{"text", fmt::format("{} not fully scanned: {}", f.path(), f.error())}}},
          {"locations", json::array({{{"physicalLocation",
                                       {{"artifactLocation", {{"uri", to_uri(f.path())}}}}}}})},
      });
    } else if (f.status() == v1::SKIPPED) {
      notifications.push_back({
          {"level", "note"},
          {"message", {{"text", fmt::format("{} {}", f.path(), f.error())}}},
          {"locations", json::array({{{"physicalLocation",
                                       {{"artifactLocation", {{"uri", to_uri(f.path())}}}}}}})},
      });
    }
  }

  json run = {
      {"tool",
       {{"driver",
         {{"name", "secmlops"},
          {"version", report.tool_version().empty() ? SECMLOPS_VERSION : report.tool_version()},
          {"semanticVersion", SECMLOPS_VERSION},
          {"informationUri", "https://github.com/secmlops/secmlops"},
          {"rules", rule_list}}}}},
      {"results", results},
      {"invocations", json::array({{{"executionSuccessful", true},
                                    {"toolExecutionNotifications", notifications}}})},
      {"columnKind", "unicodeCodePoints"},
  };
  json doc = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs", json::array({run})},
  };
  return doc.dump(2) + "\n";
}

}  // namespace secmlops::host
