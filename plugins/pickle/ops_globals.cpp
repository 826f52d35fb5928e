// Opcodes that import, call and set state: what a pickle runs when it is loaded. What a call
// reaches is decided in calls.cpp, what BUILD state plants in build_state.cpp.
#include "opcodes.hpp"
#include "pickle_machine.hpp"
#include "string_refs.hpp"

namespace secmlops::plugins::pickle::vm {

// GLOBAL and INST name their global in two lines, module then name: imports it; sets the end
// of the name line.
uint32_t PickleMachine::import_named(uint64_t& name_nl) {
  uint64_t nl1 = line_end(pos_ + 1);
  std::string module(short_line(pos_ + 1, nl1));
  name_nl = line_end(nl1 + 1);
  std::string name(short_line(nl1 + 1, name_nl));
  uint32_t id = reach_.intern(module, name);
  reach_.imported(id, findings_.op_off, findings_.op, "imports");
  return id;
}

void PickleMachine::op_global() {
  uint64_t nl;
  uint32_t id = import_named(nl);
  push(mk(kGlobal, id));
  pos_ = nl + 1;
}

void PickleMachine::op_stack_global() {
  V name = pop();
  V module = pop();
  std::string m, n;
  if (!string_text(cursor_, module, m) || !string_text(cursor_, name, n)) {
    findings_.report("PICKLE-UNRESOLVED-GLOBAL", SECMLOPS_SEVERITY_HIGH,
                     std::string("STACK_GLOBAL imports a name whose module (") +
                         kind_name(module.kind()) + ") or name (" + kind_name(name.kind()) +
                         ") is not a string known statically (built at run time or unreadable)",
                     findings_.op_off, findings_.op);
    push(mk(kUnres, findings_.op_off));
  } else {
    uint32_t id = reach_.intern(m, n);
    reach_.imported(id, findings_.op_off, findings_.op, "imports");
    push(mk(kGlobal, id));
  }
  pos_ += 1;
}

// EXT1, EXT2, EXT4: copyreg's extension registry.
void PickleMachine::op_ext(OpBytes at) {
  const uint8_t op = findings_.op;
  uint64_t n = op == op::kExt1 ? 1 : op == op::kExt2 ? 2 : 4;
  need_args(at, n);
  uint64_t code = 0;
  for (uint64_t i = 0; i < n; ++i) code |= uint64_t{at.p[1 + i]} << (8 * i);
  findings_.report("PICKLE-EXT-CODE", SECMLOPS_SEVERITY_HIGH,
                   std::string(opname(op)) + " imports extension code " + std::to_string(code) +
                       " through copyreg's registry, which the file does not show: the global "
                       "cannot be resolved statically",
                   findings_.op_off, op);
  push(mk(kUnres, findings_.op_off));
  pos_ += 1 + n;
}

// REDUCE (callable, args) and NEWOBJ (cls, args).
void PickleMachine::op_reduce() {
  V args = pop();
  V callable = pop();
  push(call(callable, args, findings_.op_off, findings_.op));
  pos_ += 1;
}

void PickleMachine::op_newobj_ex() {
  pop();  // kwargs
  V args = pop();
  V cls = pop();
  push(call(cls, args, findings_.op_off, findings_.op));
  pos_ += 1;
}

// OBJ: MARK cls args… OBJ.
void PickleMachine::op_obj() {
  size_t k = stack_.pop_mark();
  if (stack_.size() == k) findings_.underflow("has no class to instantiate");
  V cls = stack_[k];
  V args = containers_.make(kTuple, stack_.items(k + 1), stack_.size() - k - 1);
  stack_.truncate(k);
  push(call(cls, args, findings_.op_off, findings_.op));
  pos_ += 1;
}

// INST module name: MARK args… INST, the import and the call in one opcode.
void PickleMachine::op_inst() {
  uint64_t nl;
  uint32_t id = import_named(nl);
  size_t k = stack_.pop_mark();
  V args = containers_.make(kTuple, stack_.items(k), stack_.size() - k);
  stack_.truncate(k);
  push(call(mk(kGlobal, id), args, findings_.op_off, findings_.op));
  pos_ = nl + 1;
}

void PickleMachine::op_build() {
  V state = pop();
  V obj = stack_.top();
  pos_ += 1;  // before the hooks: joblib's array data starts after BUILD
  build(obj, state, findings_.op_off);
}

// PERSID: the id is a line of text nothing reads.
void PickleMachine::op_persid_line() {
  uint64_t nl = line_end(pos_ + 1);
  push(persistent(mk(kStrX), findings_.op_off, findings_.op));
  pos_ = nl + 1;
}

void PickleMachine::op_binpersid() {
  V pid = pop();
  push(persistent(pid, findings_.op_off, findings_.op));
  pos_ += 1;
}

}  // namespace secmlops::plugins::pickle::vm
