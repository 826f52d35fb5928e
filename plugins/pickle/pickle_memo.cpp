#include "pickle_memo.hpp"

namespace secmlops::plugins::pickle::vm {

bool Memo::put_slow(uint64_t idx, V v) {
  if (dense_.capacity() == 0)
    dense_.reserve(4096);
  else if (idx >= dense_.capacity() && dense_.capacity() < max_entries_ + 4096)
    dense_.reserve(max_entries_ + 4096);
  if (idx < dense_.size()) {
    if (dense_[idx].kind() == kMissing) ++count_;
    dense_[idx] = v;
    return true;
  }
  if (count_ >= max_entries_) return false;
  // Keys a little past the end extend the buffer (the gap reads as missing); farther ones, which
  // would make the buffer mostly gap, go to the map.
  if (idx < dense_.size() + 4096 && idx < max_entries_ + 4096) {
    dense_.resize(idx + 1, mk(kMissing));
    dense_[idx] = v;
    ++count_;
  } else {
    if (sparse_.emplace(idx, v).second)
      ++count_;
    else
      sparse_[idx] = v;
  }
  return true;
}

V Memo::get_slow(uint64_t idx) const {
  if (idx < dense_.size()) return dense_[idx];
  if (auto it = sparse_.find(idx); it != sparse_.end()) return it->second;
  return mk(kMissing);
}

}  // namespace secmlops::plugins::pickle::vm
