// BUILD: the state a pickle sets on an object. Setting state on an imported global patches a
// module or class for every later user; a state dict that plants a method the unpickler or
// ordinary use calls implicitly makes a later BUILD or call run whatever it holds. A joblib
// array wrapper's BUILD is followed by the array's raw bytes (joblib_hook.cpp).
#include "opcodes.hpp"
#include "pickle_machine.hpp"
#include "string_refs.hpp"

#include <string>

namespace secmlops::plugins::pickle::vm {
namespace {

// Methods that the unpickler or ordinary use of the object call implicitly.
bool is_hook(const std::string& key) {
  static const char* kHooks[] = {"__setstate__",
                                 "__reduce__",
                                 "__reduce_ex__",
                                 "__getstate__",
                                 "__getattr__",
                                 "__getattribute__",
                                 "__setattr__",
                                 "__delattr__",
                                 "__class__",
                                 "__dict__",
                                 "__init__",
                                 "__new__",
                                 "__call__",
                                 "__del__",
                                 "__eq__",
                                 "__hash__",
                                 "__iter__",
                                 "__next__",
                                 "__len__",
                                 "__getitem__",
                                 "__setitem__",
                                 "__enter__",
                                 "__exit__",
                                 "__repr__",
                                 "__str__",
                                 "__format__",
                                 "__bool__",
                                 "__index__",
                                 "__setformat__",
                                 "__instancecheck__",
                                 "__subclasscheck__",
                                 "__get__",
                                 "__set__",
                                 "__contains__",
                                 "__add__",
                                 "__mul__",
                                 "__lt__",
                                 "__copy__",
                                 "__deepcopy__",
                                 "append",
                                 "extend"};
  for (const char* h : kHooks)
    if (key == h) return true;
  return false;
}

}  // namespace

void PickleMachine::build(V obj, V state, uint64_t off) {
  if (obj.kind() == kGlobal) {
    std::string g = reach_.dotted(static_cast<uint32_t>(obj.payload()));
    findings_.report("PICKLE-BUILD-ON-GLOBAL", SECMLOPS_SEVERITY_HIGH,
                     "BUILD sets state on the imported global " + g +
                         " itself (monkey-patches a module or class for later calls)",
                     off, op::kBuild, g);
  }
  check_setstate_override(state, off);
  if (obj.kind() != kObj || obj_call(obj) == 0) return;
  Call& c = calls_[obj_call(obj) - 1];
  c.state = state;
  if (reach_.verdict(c.global).special == Special::kJoblibWrapper) joblib_array(c, off);
}

// The state is a dict, or a (dict, slots dict) tuple.
void PickleMachine::check_setstate_override(V state, uint64_t off) {
  auto scan_dict = [&](V d) {
    const Node* n = containers_.node(d);
    if (n == nullptr || d.kind() != kDict) return;
    std::string key;
    for (uint32_t i = 0; i + 1 < n->count; i += 2)
      if (string_text(cursor_, containers_.at(*n, i), key) && is_hook(key)) {
        findings_.report("PICKLE-SETSTATE-OVERRIDE", SECMLOPS_SEVERITY_HIGH,
                         "BUILD state sets the attribute '" + key +
                             "': a later BUILD or call on this object runs whatever it holds",
                         off, op::kBuild);
        return;
      }
  };
  scan_dict(state);
  if (state.kind() == kTuple)
    for (size_t i = 0; i < 2; ++i)
      if (const V* d = containers_.item(state, i)) scan_dict(*d);
}

}  // namespace secmlops::plugins::pickle::vm
