// What a pickle can reach: its imported globals, interned across the whole scan with their
// policy verdicts, and reported once per pickle. A known global is reported when imported. An
// unknown one waits: invoked, it is judged by what its name says it reaches (invoked()); never
// invoked, it is reported LOW when the pickle ends (report_uninvoked()).
#pragma once

#include "pickle_findings.hpp"
#include "pickle_scan.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace secmlops::plugins::pickle::vm {

class GlobalReachability {
 public:
  GlobalReachability(ScanState& state, PickleFindings& findings)
      : state_(state), findings_(findings) {}

  // The id of module.name (its verdict classified on first sight).
  uint32_t intern(const std::string& module, const std::string& name);
  [[nodiscard]] const ScanState::Global& global(uint32_t id) const { return state_.globals[id]; }
  [[nodiscard]] const Verdict& verdict(uint32_t id) const { return state_.globals[id].verdict; }
  // "module.name" as written.
  [[nodiscard]] std::string dotted(uint32_t id) const;

  // The pickle imports global `id` (or reaches it through a resolver); `how` starts the message.
  void imported(uint32_t id, uint64_t off, uint8_t op, const std::string& how);
  // The pickle invokes global `id` (REDUCE, NEWOBJ, OBJ, INST, or a helper that calls its
  // argument): an unknown callable is judged by what it can reach, at least MEDIUM.
  void invoked(uint32_t id, uint64_t off, uint8_t op, const std::string& how);
  // At the end of the pickle: unknown globals imported but never invoked.
  void report_uninvoked();

 private:
  enum : uint8_t { kNotSeen = 0, kImportedUnknown = 1, kReported = 2 };
  struct Deferred {
    uint32_t id;
    uint64_t off;
    uint8_t op;
    std::string how;
  };
  void report_verdict(uint32_t id, const std::string& rule, secmlops_severity sev,
                      const std::string& how, const std::string& reason, uint64_t off, uint8_t op);
  uint8_t& reported(uint32_t id) {
    if (reported_.size() <= id) reported_.resize(id + 1, kNotSeen);
    return reported_[id];
  }

  ScanState& state_;
  PickleFindings& findings_;
  std::vector<uint8_t> reported_;  // per global id: kNotSeen, kImportedUnknown or kReported
  std::vector<Deferred> deferred_;
  std::string key_;  // reused: "module\nname"
};

}  // namespace secmlops::plugins::pickle::vm
