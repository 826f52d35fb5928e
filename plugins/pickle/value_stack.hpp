// The pickle's stack and its MARKs. The value buffer is small at first and replaced once by one
// sized for the stack limit (checked on every push), so pushes are a store and an increment and
// a small pickle never reserves the large buffer. Everything here is inlined into the opcode
// loop; only the error exits are calls.
#pragma once

#include "pickle_findings.hpp"
#include "pickle_value.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace secmlops::plugins::pickle::vm {

class ValueStack {
 public:
  ValueStack(uint64_t max_depth, PickleFindings& findings)
      : max_depth_(max_depth), findings_(findings) {
    values_.reserve(std::min<size_t>(max_depth + 8, 4096));
  }

  [[nodiscard]] size_t size() const { return values_.size(); }
  V& operator[](size_t i) { return values_[i]; }
  const V* items(size_t from) { return values_.begin() + from; }
  // Index of the first value above the last MARK: nothing below it may be popped.
  [[nodiscard]] size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }

  [[gnu::always_inline]] void push(V v) {
    if (values_.size() + marks_.size() >= max_depth_) [[unlikely]]
      depth_limit();
    append(v);
  }
  [[gnu::always_inline]] V pop() {
    if (values_.size() <= fence()) [[unlikely]]
      findings_.underflow("pops an empty stack");
    V v = values_.back();
    values_.pop_back();
    return v;
  }
  V& top() {
    if (values_.size() <= fence()) findings_.underflow("needs a value on an empty stack");
    return values_.back();
  }
  // Fails unless `n` values lie above the last MARK.
  void require(size_t n, const char* what) {
    if (values_.size() < fence() + n) findings_.underflow(what);
  }
  void push_mark() {
    if (values_.size() + marks_.size() >= max_depth_) depth_limit();
    marks_.push_back(values_.size());
  }
  // Pops to the last MARK; returns the index of the first value above it.
  size_t pop_mark() {
    if (marks_.empty()) findings_.underflow("finds no MARK");
    size_t k = marks_.back();
    marks_.pop_back();
    return k;
  }
  // POP: the top value, or the MARK on top when no value lies above it.
  void pop_value_or_mark() {
    if (values_.size() > fence())
      values_.pop_back();
    else if (!marks_.empty())
      marks_.pop_back();
    else
      findings_.underflow("pops an empty stack");
  }
  void truncate(size_t n) { values_.shrink(n); }
  // Replaces the values from `from` up with one (a container built from them): no limit check,
  // the stack does not grow.
  void collapse(size_t from, V v) {
    values_.shrink(from);
    append(v);
  }

 private:
  [[gnu::always_inline]] void append(V v) {
    if (values_.size() == values_.capacity()) [[unlikely]]
      values_.reserve(max_depth_ + 8);
    values_.append(v);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void depth_limit() {
    findings_.limit("stack depth limit of " + std::to_string(max_depth_) + " exceeded",
                    findings_.op_off, findings_.op);
  }

  Values values_;
  std::vector<size_t> marks_;
  uint64_t max_depth_;
  PickleFindings& findings_;
};

}  // namespace secmlops::plugins::pickle::vm
