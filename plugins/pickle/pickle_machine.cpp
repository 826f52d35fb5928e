#include "pickle_machine.hpp"

#include "op_arguments.hpp"
#include "opcodes.hpp"
#include "ops_constants.hpp"
#include "ops_containers.hpp"
#include "ops_stack_memo.hpp"

#include <algorithm>
#include <cstdio>

namespace secmlops::plugins::pickle {

PickleResult parse_pickle(ScanState& state, uint64_t start, uint64_t end,
                          const std::string& context) {
  vm::PickleMachine machine(state, start, end, context);
  return machine.run();
}

namespace vm {

PickleMachine::PickleMachine(ScanState& state, uint64_t start, uint64_t end,
                             const std::string& context)
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

// One line per opcode: the handlers say what each does, the line how far it moves.
inline uint64_t PickleMachine::dispatch(OpBytes at) {
  switch (at.p[0]) {
    case op::kProto:
      op_proto(at);
      return pos_;
    case op::kFrame:
      op_frame(at);
      return pos_;
    case op::kStop:
      op_stop();
      return kStopped;
    case op::kNone:
      push(mk(kNone));
      return at.next(1);
    case op::kNewTrue:
      push(mk(kBool, 1));
      return at.next(1);
    case op::kNewFalse:
      push(mk(kBool, 0));
      return at.next(1);
    case op::kBinInt1:
      op_binint1(at);
      return at.next(2);
    case op::kBinInt2:
      op_binint2(at);
      return at.next(3);
    case op::kBinInt:
      op_binint(at);
      return at.next(5);
    case op::kBinFloat:
      op_binfloat(at);
      return at.next(9);
    case op::kLong1:
    case op::kLong4:
      op_long_binary();
      return pos_;
    case op::kInt:
    case op::kLong:
      op_int_line();
      return pos_;
    case op::kFloat:
      op_float_line();
      return pos_;
    case op::kString:
    case op::kUnicode:
      op_string_line();
      return pos_;
    case op::kBinString:
    case op::kShortBinString:
    case op::kBinUnicode:
    case op::kShortBinUnicode:
    case op::kBinUnicode8:
      return op_string_binary();
    case op::kBinBytes:
    case op::kShortBinBytes:
    case op::kBinBytes8:
      op_bytes_binary();
      return pos_;
    case op::kByteArray8:
      op_bytearray8();
      return pos_;
    case op::kNextBuffer:
      push(mk(kBuffer));
      return at.next(1);  // out-of-band data
    case op::kReadonlyBuffer:
      stack_.top();
      return at.next(1);
    case op::kEmptyTuple:
      push(mk(kTuple, 1));
      return at.next(1);
    case op::kEmptyList:
      push(mk(kList));
      return at.next(1);
    case op::kEmptyDict:
      push(containers_.new_dict());
      return at.next(1);
    case op::kEmptySet:
      push(mk(kSet));
      return at.next(1);
    case op::kMark:
      stack_.push_mark();
      return at.next(1);
    case op::kTuple1:
    case op::kTuple2:
    case op::kTuple3:
      op_tuple_n();
      return at.next(1);
    case op::kTuple:
    case op::kList:
    case op::kDict:
    case op::kFrozenSet:
      op_from_mark();
      return at.next(1);
    case op::kAppend:
      op_append();
      return at.next(1);
    case op::kAppends:
    case op::kAddItems:
      op_appends();
      return at.next(1);
    case op::kSetItem:
      op_setitem();
      return at.next(1);
    case op::kSetItems:
      op_setitems();
      return at.next(1);
    case op::kPop:
      stack_.pop_value_or_mark();
      return at.next(1);
    case op::kPopMark:
      stack_.truncate(stack_.pop_mark());
      return at.next(1);
    case op::kDup:
      op_dup();
      return at.next(1);
    case op::kPut:
      op_put_line();
      return pos_;
    case op::kBinPut:
      op_binput(at);
      return at.next(2);
    case op::kLongBinPut:
      op_long_binput(at);
      return at.next(5);
    case op::kMemoize:
      memo_put(memo_.count(), stack_.top());
      return at.next(1);
    case op::kGet:
      op_get_line();
      return pos_;
    case op::kBinGet:
      op_binget(at);
      return at.next(2);
    case op::kLongBinGet:
      op_long_binget(at);
      return at.next(5);
    case op::kGlobal:
      op_global();
      return pos_;
    case op::kStackGlobal:
      op_stack_global();
      return pos_;
    case op::kExt1:
    case op::kExt2:
    case op::kExt4:
      op_ext(at);
      return pos_;
    case op::kReduce:
    case op::kNewObj:
      op_reduce();
      return pos_;
    case op::kNewObjEx:
      op_newobj_ex();
      return pos_;
    case op::kObj:
      op_obj();
      return pos_;
    case op::kInst:
      op_inst();
      return pos_;
    case op::kBuild:
      op_build();
      return pos_;
    case op::kPersId:
      op_persid_line();
      return pos_;
    case op::kBinPersId:
      op_binpersid();
      return pos_;
    default:
      unknown_opcode();
  }
}

bool PickleMachine::loop() {
  const uint64_t max_ops = state_.limits.max_opcodes;
  const uint64_t every = std::max<uint32_t>(state_.limits.check_every, 1);
  // One countdown serves both periodic duties: a cancellation check every `every` opcodes and
  // the opcode limit (the countdown never runs past what is left of the budget).
  uint64_t ops = 0;  // opcodes accounted for by the countdowns started so far
  uint64_t countdown = 1;
  if (state_.collect_strings) state_.strings.clear();
  // The position lives in this register; pos_ gets a copy (a store, off the critical path) for
  // the handlers and the error exits, which read it as the current opcode's offset.
  uint64_t pos = pos_;
  while (true) {
    pos_ = pos;
    if (--countdown == 0) [[unlikely]] {
      if (ops > 0) state_.cursor.source().check_cancelled();
      if (ops >= max_ops)
        findings_.limit("opcode limit of " + std::to_string(max_ops) + " exceeded", pos, 0);
      countdown = std::min(every, max_ops - ops);
      ops += countdown;
    }
    // Fast path: most opcodes and their arguments fit in 10 bytes of the current window.
    const uint8_t* p = cursor_.try_at(pos, 10);
    if (p == nullptr || pos >= end_) [[unlikely]] {
      if (pos >= end_) {
        findings_.op = 0;
        findings_.op_off = pos;
        findings_.malformed("stream ends without STOP", pos, 0);
      }
      p = cursor_.try_at(pos, std::min<uint64_t>(end_ - pos, 10));
    }
    // Before the opcode is taken: a frame overrun is the previous opcode's.
    if (pos >= frame_end_) [[unlikely]]
      frame_boundary();
    findings_.op = p[0];
    findings_.op_off = pos;
    pos = dispatch({p, pos, end_});
    if (pos == kStopped) return true;
  }
}

void PickleMachine::unknown_opcode() {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", findings_.op);
  findings_.malformed(std::string("unknown opcode ") + hex);
}

void PickleMachine::memo_limit() {
  findings_.limit("memo limit of " + std::to_string(state_.limits.max_memo) + " entries exceeded",
                  findings_.op_off, findings_.op);
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
