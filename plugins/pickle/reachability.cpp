#include "reachability.hpp"

namespace secmlops::plugins::pickle::vm {

uint32_t GlobalReachability::intern(const std::string& module, const std::string& name) {
  key_.assign(module);
  key_ += '\n';
  key_ += name;
  auto it = state_.global_ids.find(key_);
  if (it != state_.global_ids.end()) return it->second;
  if (state_.globals.size() >= (1u << 20))
    findings_.limit("more than 1048576 distinct globals", findings_.op_off, findings_.op);
  uint32_t id = static_cast<uint32_t>(state_.globals.size());
  state_.globals.push_back({module, name, state_.policy.classify(module, name)});
  state_.global_ids.emplace(key_, id);
  return id;
}

std::string GlobalReachability::dotted(uint32_t id) const {
  const auto& g = state_.globals[id];
  return g.name.empty() ? g.module : g.module + "." + g.name;
}

void GlobalReachability::imported(uint32_t id, uint64_t off, uint8_t op, const std::string& how) {
  uint8_t& seen = reported(id);
  if (seen != kNotSeen) return;
  const Verdict& v = verdict(id);
  if (v.action == Action::kUnknown) {
    seen = kImportedUnknown;
    deferred_.push_back({id, off, op, how});
    return;
  }
  seen = kReported;
  if (v.action == Action::kSafe) return;
  report_verdict(id, v.rule, v.severity, how, v.reason, off, op);
}

void GlobalReachability::invoked(uint32_t id, uint64_t off, uint8_t op, const std::string& how) {
  uint8_t& seen = reported(id);
  if (seen == kReported) return;
  const Verdict& v = verdict(id);
  if (v.action != Action::kUnknown) return;
  seen = kReported;
  std::string reason = "invokes a callable that is not known-safe";
  if (v.call_word.empty())
    reason += ": loading runs code the scanner cannot judge";
  else
    reason += ", and " + std::string(v.call_reason) + " ('" + std::string(v.call_word) + "')";
  report_verdict(id, v.call_rule, v.call_severity, how, reason, off, op);
}

void GlobalReachability::report_uninvoked() {
  for (const auto& d : deferred_)
    if (reported_[d.id] == kImportedUnknown) {
      reported_[d.id] = kReported;
      const Verdict& v = verdict(d.id);
      report_verdict(d.id, v.rule, v.severity, d.how, v.reason, d.off, d.op);
    }
  deferred_.clear();
}

void GlobalReachability::report_verdict(uint32_t id, const std::string& rule, secmlops_severity sev,
                                        const std::string& how, const std::string& reason,
                                        uint64_t off, uint8_t op) {
  const Verdict& v = verdict(id);
  std::string what = dotted(id);
  // Evidence names what the import reaches after normalisation (posix.system → os.system);
  // the message keeps the name as written.
  std::string message = how + " " + what;
  if (v.resolved != what) message += " (" + v.resolved + ")";
  findings_.report(rule, sev, message + ": " + reason, off, op, v.resolved,
                   v.resolved != what ? what : std::string());
}

}  // namespace secmlops::plugins::pickle::vm
