// Opcodes that move values between the stack and the memo: DUP, PUT, GET (MARK, POP and
// MEMOIZE are one line in the dispatch).
//
// Included only by pickle_machine.cpp, to be inlined into the dispatch.
#pragma once

#include "pickle_machine.hpp"

namespace secmlops::plugins::pickle::vm {

[[gnu::always_inline]] inline void PickleMachine::op_dup() {
  V v = stack_.top();
  push(v);
}

inline void PickleMachine::op_put_line() {
  uint64_t nl = line_end(pos_ + 1);
  uint64_t idx = line_uint(pos_ + 1, nl);
  memo_put(idx, stack_.top());
  pos_ = nl + 1;
}

[[gnu::always_inline]] inline void PickleMachine::op_binput(OpBytes at) {
  need_args(at, 1);
  memo_put(at.p[1], stack_.top());
}

[[gnu::always_inline]] inline void PickleMachine::op_long_binput(OpBytes at) {
  need_args(at, 4);
  memo_put(at.u32(), stack_.top());
}

inline void PickleMachine::op_get_line() {
  uint64_t nl = line_end(pos_ + 1);
  uint64_t idx = line_uint(pos_ + 1, nl);
  push(memo_get(idx));
  pos_ = nl + 1;
}

[[gnu::always_inline]] inline void PickleMachine::op_binget(OpBytes at) {
  need_args(at, 1);
  push(memo_get(at.p[1]));
}

[[gnu::always_inline]] inline void PickleMachine::op_long_binget(OpBytes at) {
  need_args(at, 4);
  push(memo_get(at.u32()));
}

}  // namespace secmlops::plugins::pickle::vm
