#include "tracked_containers.hpp"

#include "string_refs.hpp"

namespace secmlops::plugins::pickle::vm {

const V* TrackedContainers::dict_get(Cursor& cursor, V d, std::string_view key) const {
  const Node* n = node(d);
  if (n == nullptr || d.kind() != kDict) return nullptr;
  for (uint32_t i = 0; i + 1 < n->count; i += 2)
    if (string_equals(cursor, heap_[n->start + i], key)) return &heap_[n->start + i + 1];
  return nullptr;
}

}  // namespace secmlops::plugins::pickle::vm
