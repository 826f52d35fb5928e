// The containers a pickle builds whose items the analysis may need later: call arguments
// (tuples), BUILD state and joblib/numpy metadata (dicts), torch persistent ids. Small ones are
// copied out of the stack into one heap, within a budget (Limits::max_tracked); bigger or
// later ones are kept as untracked values (node 0 of their kind). Byte strings too long for a
// value reference are kept here as (offset, length) blobs.
#pragma once

#include "cursor.hpp"
#include "pickle_value.hpp"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace secmlops::plugins::pickle::vm {

class TrackedContainers {
 public:
  explicit TrackedContainers(uint64_t max_tracked) : max_tracked_(max_tracked) {
    nodes_.push_back({0, 0, false});  // node 0: the empty tuple
  }

  // A container of kind k holding items[0, count).
  V make(Kind k, const V* items, size_t count) {
    if (count == 0 && k == kTuple) return mk(kTuple, 1);
    if (count > 128 || tracked_ + count > max_tracked_ || nodes_.size() >= (1u << 31))
      return mk(k, 0);
    reserve();
    Node n{static_cast<uint32_t>(heap_.size()), static_cast<uint32_t>(count), false};
    heap_.append(items, count);
    tracked_ += count;
    nodes_.push_back(n);
    return mk(k, nodes_.size());
  }
  V new_dict() {
    if (tracked_ + 1 > max_tracked_) return mk(kDict, 0);
    reserve();
    ++tracked_;
    nodes_.push_back({static_cast<uint32_t>(heap_.size()), 0, false});
    return mk(kDict, nodes_.size());
  }
  // Adds items[0, count) (key, value pairs) to a tracked dict. Only the dict built last can
  // grow in place; any other is marked partial.
  void dict_add(V d, const V* items, size_t count) {
    if (d.kind() != kDict || d.payload() == 0) return;
    Node& n = nodes_[d.payload() - 1];
    bool at_end = n.count == 0 || n.start + n.count == heap_.size();
    if (!at_end || n.count + count > 256 || tracked_ + count > max_tracked_) {
      n.partial = true;
      return;
    }
    reserve();
    if (n.count == 0) n.start = static_cast<uint32_t>(heap_.size());
    heap_.append(items, count);
    tracked_ += count;
    n.count += static_cast<uint32_t>(count);
  }

  [[nodiscard]] const Node* node(V v) const {
    if (v.payload() == 0) return nullptr;
    switch (v.kind()) {
      case kTuple:
      case kList:
      case kDict:
      case kSet:
      case kFrozenSet:
        return &nodes_[v.payload() - 1];
      default:
        return nullptr;
    }
  }
  [[nodiscard]] V at(const Node& n, uint32_t i) const { return heap_[n.start + i]; }
  // Item i of a tracked tuple, or nullptr.
  [[nodiscard]] const V* item(V tuple, size_t i) const {
    const Node* n = node(tuple);
    if (n == nullptr || tuple.kind() != kTuple || i >= n->count) return nullptr;
    return &heap_[n->start + i];
  }
  // Value of a tracked dict at a string key.
  const V* dict_get(Cursor& cursor, V d, std::string_view key) const;

  // Bytes longer than a value reference holds.
  V long_bytes(uint64_t off, uint64_t len) {
    if (blobs_.size() >= max_tracked_) return mk(kBytesX, 0);
    blobs_.emplace_back(off, len);
    return mk(kBytesX, blobs_.size());
  }
  [[nodiscard]] std::pair<uint64_t, uint64_t> blob(V bytes) const {
    return blobs_[bytes.payload() - 1];
  }

 private:
  // The tracking budget bounds heap_ and nodes_: reserving it once avoids reallocation copies
  // (and the doubled peak they cause); pages never touched are never resident.
  [[gnu::always_inline]] void reserve() {
    if (heap_.size() + 512 <= heap_.capacity() && nodes_.size() + 1 < nodes_.capacity()) [[likely]]
      return;
    grow();
  }
  [[gnu::noinline]] void grow() {
    if (heap_.capacity() == 0) {
      heap_.reserve(4096);
      nodes_.reserve(1024);
    }
    if (heap_.size() + 512 > heap_.capacity() && heap_.capacity() < max_tracked_ + 512)
      heap_.reserve(max_tracked_ + 512);
    if (nodes_.size() + 1 >= nodes_.capacity() && nodes_.capacity() < max_tracked_ + 2)
      nodes_.reserve(max_tracked_ + 2);
  }

  uint64_t max_tracked_;
  uint64_t tracked_ = 0;
  std::vector<Node> nodes_;
  Values heap_;  // appends inlined into the opcode loop
  std::vector<std::pair<uint64_t, uint64_t>> blobs_;
};

}  // namespace secmlops::plugins::pickle::vm
