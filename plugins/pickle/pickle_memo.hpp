// The pickle's memo, keyed like CPython's: MEMOIZE stores at the number of keys set so far,
// which differs from the highest index once PUT has used sparse keys. Dense keys live in a
// buffer reserved in two steps (small, then the whole budget once) so that a large memo is
// never copied by doubling; far-off keys in a map. The common put and get are inlined into the
// opcode loop.
#pragma once

#include "pickle_value.hpp"

#include <cstdint>
#include <unordered_map>

namespace secmlops::plugins::pickle::vm {

class Memo {
 public:
  explicit Memo(uint64_t max_entries) : max_entries_(max_entries) {}

  // Keys set so far: where MEMOIZE stores.
  [[nodiscard]] uint64_t count() const { return count_; }

  // Stores v at idx; false when that would exceed the entry limit (nothing is stored).
  [[gnu::always_inline]] bool put(uint64_t idx, V v) {
    if (idx < dense_.size() && dense_[idx].kind() != kMissing) {
      dense_[idx] = v;
      return true;
    }
    if (idx == dense_.size() && idx == count_ && idx < dense_.capacity() && idx < max_entries_) {
      dense_.append(v);
      ++count_;
      return true;
    }
    return put_slow(idx, v);
  }
  // The value at idx; kMissing when it was never stored.
  [[gnu::always_inline]] V get(uint64_t idx) const {
    if (idx < dense_.size() && dense_[idx].kind() != kMissing) [[likely]]
      return dense_[idx];
    return get_slow(idx);
  }

 private:
  [[gnu::noinline]] bool put_slow(uint64_t idx, V v);
  [[gnu::noinline]] V get_slow(uint64_t idx) const;

  Values dense_;
  std::unordered_map<uint64_t, V> sparse_;
  uint64_t count_ = 0;
  uint64_t max_entries_;
};

}  // namespace secmlops::plugins::pickle::vm
