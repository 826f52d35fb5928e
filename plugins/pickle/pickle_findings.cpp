#include "pickle_findings.hpp"

#include "opcodes.hpp"

#include <utility>
#include <vector>

namespace secmlops::plugins::pickle::vm {

PickleFindings::PickleFindings(ScanState& state, const std::string& context)
    : state_(state), index_(++state.pickles_started), detail_("pickle #" + std::to_string(index_)) {
  if (!context.empty()) detail_ += " (" + context + ")";
}

void PickleFindings::report(const std::string& rule, secmlops_severity sev,
                            const std::string& message, uint64_t off, uint8_t op,
                            const std::string& global, const std::string& as_written) {
  std::vector<std::pair<std::string, std::string>> ev;
  if (!global.empty()) ev.emplace_back("global", global);
  if (!as_written.empty()) ev.emplace_back("as_written", as_written);
  ev.emplace_back("opcode", opname(op));
  ev.emplace_back("pickle_index", std::to_string(index_));
  emit(state_, rule, sev, message, off, detail_, std::move(ev));
}

void PickleFindings::malformed(const std::string& message, uint64_t off, uint8_t op) {
  report("PICKLE-MALFORMED", SECMLOPS_SEVERITY_MEDIUM,
         message + "; a loader stops here, after running everything before", off, op);
  throw Fatal{};
}

void PickleFindings::malformed(const std::string& message) { malformed(message, op_off, op); }

void PickleFindings::limit(const std::string& message, uint64_t off, uint8_t op) {
  report("PICKLE-LIMIT", SECMLOPS_SEVERITY_MEDIUM,
         message + "; the rest of this pickle was not analysed", off, op);
  state_.limit_hit = true;
  if (state_.limit_message.empty())
    state_.limit_message = message + " at offset " + std::to_string(off);
  throw Fatal{};
}

void PickleFindings::underflow(const char* what) {
  report("PICKLE-STACK-UNDERFLOW", SECMLOPS_SEVERITY_HIGH,
         std::string(opname(op)) + " " + what +
             ": the stack does not add up, so what this pickle calls cannot be resolved statically",
         op_off, op);
  throw Fatal{};
}

}  // namespace secmlops::plugins::pickle::vm
