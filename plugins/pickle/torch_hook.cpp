// torch: what its persistent_load makes of persistent ids, and what a legacy checkpoint's
// pickles tell the format scan (torch_legacy.cpp) about the raw storages after them: each
// storage's element type (from the model pickle) and their order (the storage-key pickle).
#include "opcodes.hpp"
#include "pickle_machine.hpp"
#include "string_refs.hpp"

#include <string_view>
#include <utility>

namespace secmlops::plugins::pickle::vm {
namespace {

uint32_t storage_element_size(std::string_view name) {
  static const std::pair<std::string_view, uint32_t> kSizes[] = {
      {"DoubleStorage", 8},   {"FloatStorage", 4},        {"HalfStorage", 2},
      {"BFloat16Storage", 2}, {"LongStorage", 8},         {"IntStorage", 4},
      {"ShortStorage", 2},    {"CharStorage", 1},         {"ByteStorage", 1},
      {"BoolStorage", 1},     {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16},
      {"QInt8Storage", 1},    {"QUInt8Storage", 1},       {"QInt32Storage", 4},
      {"QUInt4x2Storage", 1}, {"QUInt2x4Storage", 1},     {"UntypedStorage", 1}};
  for (const auto& [n, s] : kSizes)
    if (n == name) return s;
  return 0;
}

}  // namespace

// What persistent_load yields, when it is known statically.
V PickleMachine::persistent(V pid, uint64_t off, uint8_t op) {
  // torch: ('storage', <StorageType>, key, location, numel) is resolved by torch's own
  // persistent_load into a storage; anything else is up to the loader.
  const V* tag = containers_.item(pid, 0);
  if (tag != nullptr && string_equals(cursor_, *tag, "storage")) {
    if (state_.collect_storages) collect_storage(pid);
    return mk(kPers);
  }
  // torch legacy full-model saves: ('module', <class>, source_file, source) loads as the class.
  if (tag != nullptr && string_equals(cursor_, *tag, "module")) {
    const V* cls = containers_.item(pid, 1);
    if (cls != nullptr && cls->kind() == kGlobal) return *cls;
  }
  if (!pers_reported_) {
    pers_reported_ = true;
    findings_.report("PICKLE-PERSISTENT-ID", SECMLOPS_SEVERITY_LOW,
                     std::string(opname(op)) +
                         ": the loader's persistent_load decides what this becomes (not a torch "
                         "storage reference)",
                     off, op);
  }
  return mk(kPers);
}

// A storage reference of the model pickle: its key and element size.
void PickleMachine::collect_storage(V pid) {
  const V* type = containers_.item(pid, 1);
  const V* key = containers_.item(pid, 2);
  std::string k;
  if (key != nullptr && string_text(cursor_, *key, k) &&
      state_.storages.size() < state_.limits.max_tracked) {
    uint32_t es = 0;
    if (type != nullptr && type->kind() == kGlobal)
      es = storage_element_size(reach_.global(static_cast<uint32_t>(type->payload())).name);
    state_.storages[k] = StorageInfo{es};
  }
}

// A string of the storage-key pickle.
void PickleMachine::collect_string(V v) {
  std::string t;
  if (string_text(cursor_, v, t)) state_.strings.push_back(t);
}

}  // namespace secmlops::plugins::pickle::vm
