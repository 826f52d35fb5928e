// A user policy document (YAML): its `pickle:` section extends or overrides the built-in
// policy (docs/rules.md).
#include "policy.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <stdexcept>

namespace secmlops::plugins::pickle {
namespace {

secmlops_severity parse_severity(const std::string& s, const std::string& where) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "CRITICAL") return SECMLOPS_SEVERITY_CRITICAL;
  if (u == "HIGH") return SECMLOPS_SEVERITY_HIGH;
  if (u == "MEDIUM") return SECMLOPS_SEVERITY_MEDIUM;
  if (u == "LOW") return SECMLOPS_SEVERITY_LOW;
  if (u == "INFO") return SECMLOPS_SEVERITY_INFO;
  throw std::runtime_error(where + ": severity must be CRITICAL, HIGH, MEDIUM, LOW or INFO, got '" +
                           s + "'");
}

}  // namespace

void Policy::load_yaml(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("policy: not valid YAML: " + std::string(e.what()));
  }
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) throw std::runtime_error("policy: the document must be a mapping");
  YAML::Node section = root["pickle"];
  if (!section) return;
  if (!section.IsMap()) throw std::runtime_error("policy: 'pickle' must be a mapping");
  try {
    if (auto mode = section["mode"]) {
      std::string m = mode.as<std::string>();
      if (m == "allowlist")
        allowlist_ = true;
      else if (m == "default")
        allowlist_ = false;
      else
        throw std::runtime_error("policy: pickle.mode must be 'default' or 'allowlist', got '" + m +
                                 "'");
    }
    if (auto allow = section["allow"]) {
      if (!allow.IsSequence()) throw std::runtime_error("policy: pickle.allow must be a list");
      for (const auto& a : allow) {
        std::string pattern = a.IsMap() ? a["global"].as<std::string>("") : a.as<std::string>();
        if (pattern.empty())
          throw std::runtime_error("policy: pickle.allow entry without a global");
        user_.push_back({pattern, Action::kSafe, SECMLOPS_SEVERITY_INFO, "", ""});
      }
    }
    if (auto deny = section["deny"]) {
      if (!deny.IsSequence()) throw std::runtime_error("policy: pickle.deny must be a list");
      for (const auto& d : deny) {
        PolicyEntry e;
        e.action = Action::kDeny;
        if (d.IsMap()) {
          e.pattern = d["global"].as<std::string>("");
          e.severity = parse_severity(d["severity"].as<std::string>("HIGH"),
                                      "policy: pickle.deny[" + e.pattern + "]");
          e.reason = d["reason"].as<std::string>("");
          e.rule = d["rule"].as<std::string>("");
        } else {
          e.pattern = d.as<std::string>();
        }
        if (e.pattern.empty())
          throw std::runtime_error("policy: pickle.deny entry without a global");
        user_.push_back(std::move(e));
      }
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("policy: " + std::string(e.what()));
  }
  // Patterns are written with the module names users know (posix.system) but matched after
  // normalisation, like the globals they are compared with.
  for (auto& e : user_) e.pattern = normalise_module(e.pattern);
}

}  // namespace secmlops::plugins::pickle
