// The opcode machine: runs one pickle's opcodes over the value model (pickle_value.hpp), its
// stack (value_stack.hpp), memo (pickle_memo.hpp) and tracked containers, and reports what
// the pickle imports and calls (reachability.hpp). Nothing is executed.
//
// Where each part lives:
//   pickle_machine.cpp        the loop: budgets, fetching an opcode, dispatch, error exits
//   op_arguments.hpp/.cpp     length-prefixed payloads and protocol-0 text lines
//   ops_constants.hpp         numbers, strings, bytes
//   ops_containers.hpp        tuples, lists, dicts, sets and their item opcodes
//   ops_stack_memo.hpp        DUP, PUT, GET (MARK, POP, MEMOIZE are one line in the dispatch)
//   ops_framing.cpp           PROTO, FRAME, STOP and the frame rules of the two unpicklers
//   ops_globals.cpp           GLOBAL, STACK_GLOBAL, INST, EXT, REDUCE, NEWOBJ, OBJ, BUILD,
//                             PERSID
//   calls.cpp                 what a call reaches: resolvers, helpers that call their
//                             arguments, nested loaders
//   build_state.cpp           BUILD: monkey-patched globals, planted hooks
//   joblib_hook.cpp           joblib arrays written after a BUILD
//   torch_hook.cpp            persistent ids: torch storages and modules
// The hot opcode families are headers included only by pickle_machine.cpp, so that the
// compiler inlines them into the dispatch: the opcode-dense benchmark depends on it.
#pragma once

#include "pickle_findings.hpp"
#include "pickle_memo.hpp"
#include "pickle_scan.hpp"
#include "pickle_value.hpp"
#include "reachability.hpp"
#include "tracked_containers.hpp"
#include "value_stack.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secmlops::plugins::pickle::vm {

// The opcode at the machine's position and up to 9 argument bytes after it that lie inside the
// pickle (the window holds them when pos + 10 <= end).
struct OpBytes {
  const uint8_t* p;
  uint64_t pos;  // the opcode's offset
  uint64_t end;  // the pickle's end
  // Where the next opcode starts when this one, with its argument, is n bytes long.
  [[nodiscard]] uint64_t next(uint64_t n) const { return pos + n; }
  // The 4-byte little-endian argument (BININT, LONG_BINPUT, LONG_BINGET).
  [[nodiscard]] uint32_t u32() const {
    uint32_t v;
    std::memcpy(&v, p + 1, 4);
    return v;
  }
};

class PickleMachine {
 public:
  PickleMachine(ScanState& state, uint64_t start, uint64_t end, const std::string& context);
  PickleResult run();

 private:
  // ---- the loop (pickle_machine.cpp) ----
  bool loop();
  // Runs the opcode and returns where the next one starts (kStopped after STOP). Fixed-size
  // opcodes are advanced here, not in their handlers, so the position stays in a register from
  // one opcode to the next instead of making a round trip through pos_ on the loop's critical
  // path; handlers of variable-size opcodes set pos_ and the dispatch returns it.
  static constexpr uint64_t kStopped = 0;  // no opcode ends at offset 0
  [[gnu::always_inline]] uint64_t dispatch(OpBytes at);
  [[gnu::always_inline]] void need_args(OpBytes at, uint64_t n) {
    // n <= 8: the opcode and its argument lie within the 10 bytes fetched when they lie within
    // the pickle. Compared only by opcodes that take an argument.
    if (n + 1 > at.end - at.pos) findings_.malformed("truncated opcode argument");
  }
  [[gnu::always_inline]] void push(V v) { stack_.push(v); }
  [[gnu::always_inline]] V pop() { return stack_.pop(); }
  [[noreturn, gnu::cold, gnu::noinline]] void unknown_opcode();

  // ---- arguments (op_arguments.hpp, op_arguments.cpp) ----
  // Length-prefixed payloads: returns (offset of the payload, length) and skips it unread.
  std::pair<uint64_t, uint64_t> payload(uint64_t header);
  V bytes_value(uint64_t off, uint64_t len);
  // Protocol 0 arguments are lines: the offset of the '\n' ending the one at `from`.
  uint64_t line_end(uint64_t from);
  std::string_view short_line(uint64_t from, uint64_t nl);
  uint64_t line_uint(uint64_t from, uint64_t nl);
  V line_int(uint64_t from, uint64_t nl, bool is_long);

  // ---- constants (ops_constants.hpp) ----
  void op_binint1(OpBytes at);
  void op_binint2(OpBytes at);
  void op_binint(OpBytes at);
  void op_binfloat(OpBytes at);
  void op_long_binary();
  void op_int_line();
  void op_float_line();
  void op_string_line();
  uint64_t op_string_binary();
  void op_bytes_binary();
  void op_bytearray8();

  // ---- containers (ops_containers.hpp) ----
  void op_tuple_n();
  void op_from_mark();
  void op_append();
  void op_appends();
  void op_setitem();
  void op_setitems();

  // ---- stack and memo (ops_stack_memo.hpp) ----
  void op_dup();
  void op_put_line();
  void op_binput(OpBytes at);
  void op_long_binput(OpBytes at);
  void op_get_line();
  void op_binget(OpBytes at);
  void op_long_binget(OpBytes at);
  [[gnu::always_inline]] void memo_put(uint64_t idx, V v) {
    if (!memo_.put(idx, v)) [[unlikely]]
      memo_limit();
  }
  [[gnu::always_inline]] V memo_get(uint64_t idx) {
    V v = memo_.get(idx);
    if (v.kind() == kMissing) [[unlikely]]
      return memo_missing(idx);
    return v;
  }
  [[noreturn, gnu::cold, gnu::noinline]] void memo_limit();
  [[gnu::cold, gnu::noinline]] V memo_missing(uint64_t idx);

  // ---- framing and protocol (ops_framing.cpp) ----
  void op_proto(OpBytes at);
  void op_frame(OpBytes at);
  void op_stop();
  [[gnu::cold, gnu::noinline]] void frame_boundary();
  [[gnu::cold, gnu::noinline]] void frame_mismatch(const std::string& message);

  // ---- globals, calls, BUILD, persistent ids (ops_globals.cpp, calls.cpp, build_state.cpp) ----
  uint32_t import_named(uint64_t& name_nl);
  void op_global();
  void op_stack_global();
  void op_ext(OpBytes at);
  void op_reduce();
  void op_newobj_ex();
  void op_obj();
  void op_inst();
  void op_build();
  void op_persid_line();
  void op_binpersid();
  V call(V callable, V args, uint64_t off, uint8_t op);
  V unresolved_call(V callable, uint64_t off, uint8_t op);
  void call_arguments(uint32_t gid, size_t how_many, V args, uint64_t off, uint8_t op);
  V record_call(uint32_t gid, V args);
  V unresolved_resolver(uint32_t gid, uint64_t off, uint8_t op);
  V resolve_getattr(uint32_t gid, V args, uint64_t off, uint8_t op);
  V resolve_import(uint32_t gid, Special sp, V args, uint64_t off, uint8_t op);
  void nested_loader(uint32_t gid, V args, uint64_t off, uint8_t op,
                     bool pickle_bytes_only = false);
  bool nested(uint64_t start, uint64_t end, const std::string& context, uint64_t off, uint8_t op);
  void build(V obj, V state, uint64_t off);
  void check_setstate_override(V state, uint64_t off);

  // ---- format hooks (joblib_hook.cpp, torch_hook.cpp) ----
  void joblib_array(const Call& wrapper, uint64_t off);
  [[noreturn]] void joblib_unknown_size(const std::string& why, uint64_t off);
  uint64_t joblib_element_count(V shape, uint64_t off);
  uint64_t joblib_itemsize(V dtype, bool& has_object, std::string& typestr, uint64_t off);
  void joblib_object_array(uint64_t off);
  V persistent(V pid, uint64_t off, uint8_t op);
  void collect_storage(V pid);
  [[gnu::cold, gnu::noinline]] void collect_string(V v);

  ScanState& state_;
  Cursor& cursor_;
  uint64_t pos_;  // the next opcode
  uint64_t end_;  // the pickle must end before this
  int protocol_ = 0;
  PickleFindings findings_;
  ValueStack stack_;
  Memo memo_;
  TrackedContainers containers_;
  GlobalReachability reach_;
  std::vector<Call> calls_;
  // FRAME: the end of the current frame as Python's _Unframer reads it (UINT64_MAX: none).
  uint64_t frame_end_ = UINT64_MAX;
  bool frame_reported_ = false;
  std::string overlong_frame_;  // a FRAME declared longer than the stream, pending STOP
  bool pers_reported_ = false;
  std::string line_;  // reused: the current protocol-0 line
};

}  // namespace secmlops::plugins::pickle::vm
