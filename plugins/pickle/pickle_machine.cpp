#include "pickle_machine.hpp"

#include "op_arguments.hpp"
#include "opcodes.hpp"
#include "ops_constants.hpp"
#include "ops_containers.hpp"
#include "ops_stack_memo.hpp"

#include <algorithm>
#include <cstdio>

namespace secmlops::plugins::pickle {

PickleResult parse_pickle(ScanState& state, uint64_t start, uint64_t end, const std::string& context) {
  vm::PickleMachine machine(state, start, end, context);
  return machine.run();
}

namespace vm {

PickleMachine::PickleMachine(ScanState& state, uint64_t start, uint64_t end, const std::string& context)
    : state_(state),
      cursor_(state.cursor),
      pos_(start),
      end_(end),
      findings_(state, context),
      stack_(state.limits.max_stack, findings_),
      memo_(state.limits.max_memo),
      containers_(state.limits.max_tracked),
      reach_(state, findings_) {}

PickleResult PickleMachine::run() {
  PickleResult r;
  try {
    r.complete = loop();
  } catch (const Fatal&) {
    r.complete = false;
  }
  reach_.report_uninvoked();
  r.end = pos_;
  r.protocol = protocol_;
  return r;
}

// One line per opcode: the handlers say what each does. True at STOP.
inline bool PickleMachine::dispatch(OpBytes at) {
  switch (at.p[0]) {
    case op::kProto: op_proto(at); break;
    case op::kFrame: op_frame(at); break;
    case op::kStop: op_stop(); return true;
    case op::kNone: push_simple(mk(kNone)); break;
    case op::kNewTrue: push_simple(mk(kBool, 1)); break;
    case op::kNewFalse: push_simple(mk(kBool, 0)); break;
    case op::kBinInt1: op_binint1(at); break;
    case op::kBinInt2: op_binint2(at); break;
    case op::kBinInt: op_binint(at); break;
    case op::kBinFloat: op_binfloat(at); break;
    case op::kLong1: case op::kLong4: op_long_binary(); break;
    case op::kInt: case op::kLong: op_int_line(); break;
    case op::kFloat: op_float_line(); break;
    case op::kString: case op::kUnicode: op_string_line(); break;
    case op::kBinString: case op::kShortBinString: case op::kBinUnicode: case op::kShortBinUnicode:
    case op::kBinUnicode8: op_string_binary(); break;
    case op::kBinBytes: case op::kShortBinBytes: case op::kBinBytes8: op_bytes_binary(); break;
    case op::kByteArray8: op_bytearray8(); break;
    case op::kNextBuffer: push_simple(mk(kBuffer)); break;  // out-of-band data
    case op::kReadonlyBuffer: stack_.top(); pos_ += 1; break;
    case op::kEmptyTuple: push_simple(mk(kTuple, 1)); break;
    case op::kEmptyList: push_simple(mk(kList)); break;
    case op::kEmptyDict: push_simple(containers_.new_dict()); break;
    case op::kEmptySet: push_simple(mk(kSet)); break;
    case op::kMark: stack_.push_mark(); pos_ += 1; break;
    case op::kTuple1: case op::kTuple2: case op::kTuple3: op_tuple_n(); break;
    case op::kTuple: case op::kList: case op::kDict: case op::kFrozenSet: op_from_mark(); break;
    case op::kAppend: op_append(); break;
    case op::kAppends: case op::kAddItems: op_appends(); break;
    case op::kSetItem: op_setitem(); break;
    case op::kSetItems: op_setitems(); break;
    case op::kPop: stack_.pop_value_or_mark(); pos_ += 1; break;
    case op::kPopMark: stack_.truncate(stack_.pop_mark()); pos_ += 1; break;
    case op::kDup: op_dup(); break;
    case op::kPut: op_put_line(); break;
    case op::kBinPut: op_binput(at); break;
    case op::kLongBinPut: op_long_binput(at); break;
    case op::kMemoize: memo_put(memo_.count(), stack_.top()); pos_ += 1; break;
    case op::kGet: op_get_line(); break;
    case op::kBinGet: op_binget(at); break;
    case op::kLongBinGet: op_long_binget(at); break;
    case op::kGlobal: op_global(); break;
    case op::kStackGlobal: op_stack_global(); break;
    case op::kExt1: case op::kExt2: case op::kExt4: op_ext(at); break;
    case op::kReduce: case op::kNewObj: op_reduce(); break;
    case op::kNewObjEx: op_newobj_ex(); break;
    case op::kObj: op_obj(); break;
    case op::kInst: op_inst(); break;
    case op::kBuild: op_build(); break;
    case op::kPersId: op_persid_line(); break;
    case op::kBinPersId: op_binpersid(); break;
    default: unknown_opcode();
  }
  return false;
}

bool PickleMachine::loop() {
  const uint64_t max_ops = state_.limits.max_opcodes;
  const uint64_t every = std::max<uint32_t>(state_.limits.check_every, 1);
  // One countdown serves both periodic duties: a cancellation check every `every` opcodes and
  // the opcode limit (the countdown never runs past what is left of the budget).
  uint64_t ops = 0;  // opcodes accounted for by the countdowns started so far
  uint64_t countdown = 1;
  if (state_.collect_strings) state_.strings.clear();
  while (true) {
    if (--countdown == 0) [[unlikely]] {
      if (ops > 0) state_.cursor.input().check_cancelled();
      if (ops >= max_ops) findings_.limit("opcode limit of " + std::to_string(max_ops) + " exceeded", pos_, 0);
      countdown = std::min(every, max_ops - ops);
      ops += countdown;
    }
    // Fast path: most opcodes and their arguments fit in 10 bytes of the current window.
    const uint8_t* p = cursor_.need(pos_, 10);
    if (p == nullptr || pos_ >= end_) [[unlikely]] {
      if (pos_ >= end_) {
        findings_.op = 0;
        findings_.op_off = pos_;
        findings_.malformed("stream ends without STOP", pos_, 0);
      }
      p = cursor_.need(pos_, std::min<uint64_t>(end_ - pos_, 10));
    }
    // Before the opcode is taken: a frame overrun is the previous opcode's.
    if (pos_ >= frame_end_) [[unlikely]]
      frame_boundary();
    findings_.op = p[0];
    findings_.op_off = pos_;
    if (dispatch({p, std::min<uint64_t>(end_ - pos_, 10)})) return true;
  }
}

void PickleMachine::unknown_opcode() {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", findings_.op);
  findings_.malformed(std::string("unknown opcode ") + hex);
}

void PickleMachine::memo_limit() {
  findings_.limit("memo limit of " + std::to_string(state_.limits.max_memo) + " entries exceeded", findings_.op_off,
                  findings_.op);
}

V PickleMachine::memo_missing(uint64_t idx) {
  findings_.report("PICKLE-MEMO-MISSING", SECMLOPS_SEVERITY_HIGH,
                   std::string(opname(findings_.op)) + " reads memo key " + std::to_string(idx) +
                       ", which was never stored: what follows cannot be resolved statically",
                   findings_.op_off, findings_.op);
  return mk(kUnres, findings_.op_off);
}

}  // namespace vm
}  // namespace secmlops::plugins::pickle
