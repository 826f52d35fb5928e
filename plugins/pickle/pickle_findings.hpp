// The findings of one pickle: every one carries the pickle's number, where it sits and the
// opcode, and the three ways a pickle stops being followed (malformed, a limit, a stack that
// does not add up) end the machine's run here.
#pragma once

#include "pickle_scan.hpp"

#include <cstdint>
#include <string>

namespace secmlops::plugins::pickle::vm {

struct Fatal {};  // thrown inside the machine: the pickle cannot be followed further

class PickleFindings {
 public:
  // Numbers the pickle (state.pickles_started) and names it in every finding's detail.
  PickleFindings(ScanState& state, const std::string& context);

  // The opcode being executed and its offset: stack and memo errors point at it.
  uint8_t op = 0;
  uint64_t op_off = 0;

  [[nodiscard]] uint32_t index() const { return index_; }
  void report(const std::string& rule, secmlops_severity sev, const std::string& message,
              uint64_t off, uint8_t op, const std::string& global = {},
              const std::string& as_written = {});
  [[noreturn, gnu::cold, gnu::noinline]] void malformed(const std::string& message, uint64_t off,
                                                        uint8_t op);
  [[noreturn, gnu::cold, gnu::noinline]] void malformed(
      const std::string& message);  // at the current opcode
  // Also marks the scan partial: the host reports it as a limit, not as a clean result.
  [[noreturn, gnu::cold, gnu::noinline]] void limit(const std::string& message, uint64_t off,
                                                    uint8_t op);
  [[noreturn, gnu::cold, gnu::noinline]] void underflow(const char* what);

 private:
  ScanState& state_;
  uint32_t index_;
  std::string detail_;
};

}  // namespace secmlops::plugins::pickle::vm
