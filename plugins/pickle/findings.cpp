#include "findings.hpp"
#include "pickle_scan.hpp"

namespace secmlops::plugins::pickle {

const char* severity_name(secmlops_severity s) {
  switch (s) {
    case SECMLOPS_SEVERITY_CRITICAL:
      return "CRITICAL";
    case SECMLOPS_SEVERITY_HIGH:
      return "HIGH";
    case SECMLOPS_SEVERITY_MEDIUM:
      return "MEDIUM";
    case SECMLOPS_SEVERITY_LOW:
      return "LOW";
    default:
      return "INFO";
  }
}

void emit(ScanState& state, const std::string& rule, secmlops_severity severity,
          const std::string& message, uint64_t offset, const std::string& detail,
          std::vector<std::pair<std::string, std::string>> evidence) {
  Finding f;
  f.rule_id = rule;
  f.severity = severity;
  f.message = message;
  f.offset = offset;
  f.detail = detail;
  f.evidence = std::move(evidence);
  state.sink->emit(std::move(f));
}

}  // namespace secmlops::plugins::pickle
