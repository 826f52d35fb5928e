// Static analysis of pickle streams: a streaming opcode parser (protocols 0–5) with stack and
// memo emulation that resolves what every GLOBAL, STACK_GLOBAL, INST, OBJ, NEWOBJ(_EX), REDUCE
// and BUILD imports and calls. Nothing is ever executed or unpickled.
//
// This header is the core's entry: the state one scan shares across every pickle it meets, and
// the stream-level calls. The opcode machine behind parse_pickle is pickle_machine.hpp.
#pragma once

#include "cursor.hpp"
#include "findings.hpp"
#include "input.hpp"
#include "policy.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace secmlops::plugins::pickle {

struct Limits {
  uint64_t max_opcodes = 4'000'000'000ULL;  // per pickle
  uint64_t max_stack = 1u << 20;            // values on the stack, marks included
  uint64_t max_memo =
      1u << 25;  // memo entries per pickle (8 bytes each, reserved, touched only when used)
  uint32_t max_nesting = 8;         // pickles inside pickles (npy, joblib, loaders)
  uint64_t max_tracked = 1u << 20;  // container items kept for analysis
  uint64_t max_pickles = 100000;    // stacked pickles in one stream
  uint32_t check_every = 1u << 16;  // opcodes between cancellation checks
};

// Torch legacy checkpoints: what the model pickle says about each storage.
struct StorageInfo {
  uint32_t element_size = 0;  // 0: unknown storage type
};

struct ScanState {
  ScanState(Input& in, const Policy& policy, Sink& sink, Limits limits = {})
      : cursor(in, kCursorWindow), policy(policy), sink(&sink), limits(limits) {}
  Cursor cursor;
  const Policy& policy;
  Sink* sink;
  Limits limits;
  uint32_t pickles_started = 0;
  uint32_t depth = 0;
  bool limit_hit = false;  // a limit stopped some analysis: the scan is partial
  std::string limit_message;
  // Interned globals (module, name) with their verdicts.
  struct Global {
    std::string module, name;
    Verdict verdict;
  };
  std::vector<Global> globals;
  std::unordered_map<std::string, uint32_t> global_ids;
  // Torch legacy: storage key → info, filled from persistent ids when collect_storages is set.
  bool collect_storages = false;
  std::unordered_map<std::string, StorageInfo> storages;
  // Torch legacy: every string pushed by the last pickle, in order (the storage-key list).
  bool collect_strings = false;
  std::vector<std::string> strings;
};

struct PickleResult {
  uint64_t end = 0;       // offset just after STOP, or where the analysis stopped
  bool complete = false;  // reached STOP without a fatal problem
  int protocol = 0;
};

// Parses one pickle starting at `start` (must end before `end`). `context` names where it sits
// ("npy object array", "joblib object array" …) in finding details.
PickleResult parse_pickle(ScanState& state, uint64_t start, uint64_t end,
                          const std::string& context);

// Scans a stream of pickles from `start` to `end`: every stacked pickle, then whatever follows
// the last STOP. Returns false when the analysis could not reach the end.
bool scan_pickle_stream(ScanState& state, uint64_t start, uint64_t end, const std::string& context,
                        bool stacked_is_expected = false);

// Describes bytes that follow a pickle or array data ("a zip archive", "zero padding" …) and
// reports them; a following pickle is scanned. Returns false when analysis stopped early.
bool inspect_trailing(ScanState& state, uint64_t pos, uint64_t end,
                      const std::string& what_precedes, const std::string& context);

// Emits a finding with the evidence every pickle finding carries.
void emit(ScanState& state, const std::string& rule, secmlops_severity severity,
          const std::string& message, uint64_t offset, const std::string& detail,
          std::vector<std::pair<std::string, std::string>> evidence = {});

}  // namespace secmlops::plugins::pickle
