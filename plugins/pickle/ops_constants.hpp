// Opcodes that push a constant: None, bools, numbers, strings, bytes. Numbers keep their value
// when it fits in 56 bits (a shape, an index, a flag a hook reads); floats only their kind;
// strings and bytes a reference into the input.
//
// Included only by pickle_machine.cpp: these run for most opcodes of a pickle, and the
// compiler inlines them into the dispatch only when it sees them there.
#pragma once

#include "opcodes.hpp"
#include "pickle_machine.hpp"
#include "string_refs.hpp"

namespace secmlops::plugins::pickle::vm {

[[gnu::always_inline]] inline void PickleMachine::op_binint1(OpBytes at) {
  need_args(at, 1);
  push(mk_int(at.p[1]));
}

[[gnu::always_inline]] inline void PickleMachine::op_binint2(OpBytes at) {
  need_args(at, 2);
  push(mk_int(at.p[1] | (at.p[2] << 8)));
}

[[gnu::always_inline]] inline void PickleMachine::op_binint(OpBytes at) {
  need_args(at, 4);
  push(mk_int(static_cast<int32_t>(at.u32())));
}

[[gnu::always_inline]] inline void PickleMachine::op_binfloat(OpBytes at) {
  need_args(at, 8);
  push(mk(kFloat));
}

// LONG1 / LONG4: little-endian two's complement.
[[gnu::always_inline]] inline void PickleMachine::op_long_binary() {
  auto [off, len] = payload(findings_.op == op::kLong1 ? 1 : 4);
  if (len > 7) {
    push(mk(kBigInt));
    return;
  }
  const uint8_t* d = cursor_.try_at(off, len);
  int64_t v = 0;
  for (uint64_t i = 0; i < len; ++i) v |= int64_t{d[i]} << (8 * i);
  if (len > 0 && (d[len - 1] & 0x80)) v -= int64_t{1} << (8 * len);
  push(mk_int(v));
}

// INT / LONG: a decimal line (INT's "00"/"01" are False/True).
inline void PickleMachine::op_int_line() {
  uint64_t nl = line_end(pos_ + 1);
  V v = line_int(pos_ + 1, nl, findings_.op == op::kLong);
  push(v);
  pos_ = nl + 1;
}

inline void PickleMachine::op_float_line() {
  uint64_t nl = line_end(pos_ + 1);
  push(mk(kFloat));
  pos_ = nl + 1;
}

// STRING (a quoted literal) / UNICODE (raw-unicode-escape): the line is the string.
inline void PickleMachine::op_string_line() {
  uint64_t nl = line_end(pos_ + 1);
  uint64_t len = nl - (pos_ + 1);
  V v =
      mk_ref(kStr, pos_ + 1, len, findings_.op == op::kString ? kEncEscaped : kEncRawUnicodeEscape);
  if (state_.collect_strings) {
    std::string t;
    if (string_text(cursor_, v, t)) state_.strings.push_back(t);
  }
  push(v);
  pos_ = nl + 1;
}

// BINSTRING, SHORT_BINSTRING, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8. Returns where the next
// opcode starts, so that the loop need not read it back from pos_.
[[gnu::always_inline]] inline uint64_t PickleMachine::op_string_binary() {
  const uint8_t op = findings_.op;
  uint64_t h = op == op::kShortBinString || op == op::kShortBinUnicode ? 1
               : op == op::kBinUnicode8                                ? 8
                                                                       : 4;
  auto [off, len] = payload(h);
  V v = mk_ref(kStr, off, len, kEncRaw);
  if (state_.collect_strings && state_.strings.size() < state_.limits.max_tracked) [[unlikely]]
    collect_string(v);
  push(v);
  return off + len;
}

// BINBYTES, SHORT_BINBYTES, BINBYTES8.
[[gnu::always_inline]] inline void PickleMachine::op_bytes_binary() {
  const uint8_t op = findings_.op;
  auto [off, len] = payload(op == op::kShortBinBytes ? 1 : op == op::kBinBytes ? 4 : 8);
  push(bytes_value(off, len));
}

inline void PickleMachine::op_bytearray8() {
  payload(8);
  push(mk(kByteArray));
}

}  // namespace secmlops::plugins::pickle::vm
