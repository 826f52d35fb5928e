// What a call reaches. The callable's verdict is reported (reachability.hpp); helpers the
// policy marks special are followed further: resolvers (getattr, __import__, dotted-name
// lookups) yield the global they resolve to, helpers that call their arguments invoke those,
// loaders of nested pickles have their bytes scanned, and numpy.dtype and joblib's wrapper keep
// a call record for the format hooks.
#include "opcodes.hpp"
#include "pickle_machine.hpp"
#include "string_refs.hpp"

#include <algorithm>
#include <tuple>

namespace secmlops::plugins::pickle::vm {

V PickleMachine::call(V callable, V args, uint64_t off, uint8_t op) {
  if (callable.kind() != kGlobal) return unresolved_call(callable, off, op);
  uint32_t gid = static_cast<uint32_t>(callable.payload());
  reach_.invoked(gid, off, op, std::string(opname(op)) + " calls");
  Special sp = reach_.verdict(gid).special;
  switch (sp) {
    case Special::kInvokesFirstArg:
      call_arguments(gid, 1, args, off, op);
      break;
    case Special::kInvokesTwoArgs:
      call_arguments(gid, 2, args, off, op);
      break;
    case Special::kNumpyDtype:
    case Special::kJoblibWrapper:
      return record_call(gid, args);
    case Special::kGetattr:
      return resolve_getattr(gid, args, off, op);
    case Special::kImportModule:
    case Special::kModuleAndName:
    case Special::kDottedName:
      return resolve_import(gid, sp, args, off, op);
    case Special::kNestedLoader:
      nested_loader(gid, args, off, op);
      break;
    default: {
      // Any other deserialiser (listed, or judged one by its name) whose first argument is
      // bytes of this file that start like a pickle: those bytes are scanned too.
      const Verdict& v = reach_.verdict(gid);
      std::string_view rule = v.action == Action::kUnknown ? std::string_view(v.call_rule) : v.rule;
      if (rule == "PICKLE-NESTED-LOADER")
        nested_loader(gid, args, off, op, /*pickle_bytes_only=*/true);
      break;
    }
  }
  return mk(kObj, gid);
}

V PickleMachine::unresolved_call(V callable, uint64_t off, uint8_t op) {
  std::string desc = kind_name(callable.kind());
  if (callable.kind() == kObj && obj_global(callable) != kNoGlobal)
    desc += " of " + reach_.dotted(obj_global(callable));
  findings_.report("PICKLE-UNRESOLVED-CALL", SECMLOPS_SEVERITY_HIGH,
                   std::string(opname(op)) + " calls " + desc +
                       ", which cannot be resolved statically to a known function",
                   off, op);
  return mk(kUnres, off);
}

// A known-safe helper that calls its first (or first two) arguments: those are invoked.
void PickleMachine::call_arguments(uint32_t gid, size_t how_many, V args, uint64_t off,
                                   uint8_t op) {
  for (size_t i = 0; i < how_many; ++i) {
    const V* a = containers_.item(args, i);
    if (a == nullptr) break;
    if (a->kind() == kGlobal)
      reach_.invoked(static_cast<uint32_t>(a->payload()), off, op, reach_.dotted(gid) + " calls");
    else if (i == 0 && a->kind() != kNone)
      findings_.report("PICKLE-UNRESOLVED-CALL", SECMLOPS_SEVERITY_HIGH,
                       reach_.dotted(gid) + " calls its first argument, " + kind_name(a->kind()) +
                           ", which cannot be resolved statically to a known function",
                       off, op, reach_.dotted(gid));
  }
}

// numpy.dtype and joblib's NumpyArrayWrapper: their arguments and BUILD state size arrays.
V PickleMachine::record_call(uint32_t gid, V args) {
  if (calls_.size() < state_.limits.max_tracked) {
    calls_.push_back({gid, args, mk(kNone)});
    return mk(kObj, gid | (uint64_t{calls_.size()} << 24));
  }
  return mk(kObj, gid | (uint64_t{0} << 24));
}

V PickleMachine::unresolved_resolver(uint32_t gid, uint64_t off, uint8_t op) {
  findings_.report(
      "PICKLE-UNRESOLVED-CALL", SECMLOPS_SEVERITY_HIGH,
      reach_.dotted(gid) + " fetches a callable whose name cannot be resolved statically", off, op,
      reach_.dotted(gid));
  return mk(kUnres, off);
}

// getattr(global, "name") is the global global.name.
V PickleMachine::resolve_getattr(uint32_t gid, V args, uint64_t off, uint8_t op) {
  const V* target = containers_.item(args, 0);
  const V* attr = containers_.item(args, 1);
  std::string name;
  if (target == nullptr || attr == nullptr || target->kind() != kGlobal ||
      !string_text(cursor_, *attr, name))
    return unresolved_resolver(gid, off, op);
  const auto& g = reach_.global(static_cast<uint32_t>(target->payload()));
  uint32_t id = reach_.intern(g.module, g.name.empty() ? name : g.name + "." + name);
  reach_.imported(id, off, op, "getattr reaches");
  return mk(kGlobal, id);
}

// __import__("m"), _ufunc_reconstruct("m", "n"), locate("m.n") / resolve_name("m:n").
V PickleMachine::resolve_import(uint32_t gid, Special sp, V args, uint64_t off, uint8_t op) {
  const V* a0 = containers_.item(args, 0);
  std::string first, second;
  if (a0 == nullptr || !string_text(cursor_, *a0, first)) return unresolved_resolver(gid, off, op);
  std::string module, name;
  if (sp == Special::kImportModule) {
    module = first;
  } else if (sp == Special::kModuleAndName) {
    const V* a1 = containers_.item(args, 1);
    if (a1 == nullptr || !string_text(cursor_, *a1, second))
      return unresolved_resolver(gid, off, op);
    module = first;
    name = second;
  } else {
    auto colon = first.find(':');
    auto dot = first.rfind('.');
    if (colon != std::string::npos) {
      module = first.substr(0, colon);
      name = first.substr(colon + 1);
    } else if (dot != std::string::npos) {
      module = first.substr(0, dot);
      name = first.substr(dot + 1);
    } else {
      module = first;
    }
  }
  uint32_t id = reach_.intern(module, name);
  reach_.imported(id, off, op, reach_.dotted(gid) + " imports");
  return mk(kGlobal, id);
}

// pickle.loads(b"…") & co: the bytes argument, when the file holds it, is scanned as a pickle.
void PickleMachine::nested_loader(uint32_t gid, V args, uint64_t off, uint8_t op,
                                  bool pickle_bytes_only) {
  const V* a0 = containers_.item(args, 0);
  if (a0 == nullptr) return;
  uint64_t start = 0, len = 0;
  if (pickle_bytes_only && a0->kind() != kBytes && a0->kind() != kBytesX) return;
  if (a0->kind() == kBytes || a0->kind() == kStr) {
    if (ref_enc(*a0) != kEncRaw) return;
    start = ref_off(*a0);
    len = ref_len(*a0);
  } else if (a0->kind() == kBytesX && a0->payload() != 0) {
    std::tie(start, len) = containers_.blob(*a0);
  } else {
    return;
  }
  if (pickle_bytes_only) {
    const uint8_t* h = cursor_.try_at(start, std::min<uint64_t>(len, 2));
    if (len < 2 || h == nullptr || h[0] != 0x80 || h[1] > 5) return;
  }
  nested(start, start + len,
         "argument of " + reach_.dotted(gid) + " at offset " + std::to_string(off), off, op);
}

// Scans bytes inside this pickle as a pickle stream of their own.
bool PickleMachine::nested(uint64_t start, uint64_t end, const std::string& context, uint64_t off,
                           uint8_t op) {
  if (state_.depth + 1 > state_.limits.max_nesting) {
    findings_.report("PICKLE-LIMIT", SECMLOPS_SEVERITY_MEDIUM,
                     "embedded pickle nested deeper than " +
                         std::to_string(state_.limits.max_nesting) + " levels was not analysed",
                     off, op);
    state_.limit_hit = true;
    return false;
  }
  ++state_.depth;
  bool ok = scan_pickle_stream(state_, start, end, context);
  --state_.depth;
  return ok;
}

}  // namespace secmlops::plugins::pickle::vm
