// Opcodes that build containers and add items to them. Lists, sets and frozensets are kept as
// bare kinds: nothing the analysis follows reads their items. Tuples and dicts are tracked
// (call arguments, BUILD state, metadata) within the budget of TrackedContainers.
//
// Included only by pickle_machine.cpp, to be inlined into the dispatch.
#pragma once

#include "opcodes.hpp"
#include "pickle_machine.hpp"

namespace secmlops::plugins::pickle::vm {

// TUPLE1, TUPLE2, TUPLE3.
[[gnu::always_inline]] inline void PickleMachine::op_tuple_n() {
  size_t n = findings_.op - op::kTuple1 + 1;
  stack_.require(n, "needs more items than the stack holds");
  size_t from = stack_.size() - n;
  stack_.collapse(from, containers_.make(kTuple, stack_.items(from), n));
}

// TUPLE, LIST, DICT, FROZENSET: the container of everything above the last MARK.
[[gnu::always_inline]] inline void PickleMachine::op_from_mark() {
  size_t k = stack_.pop_mark();
  size_t n = stack_.size() - k;
  V c;
  switch (findings_.op) {
    case op::kTuple:
      c = containers_.make(kTuple, stack_.items(k), n);
      break;
    case op::kList:
      c = mk(kList);
      break;
    case op::kFrozenSet:
      c = mk(kFrozenSet);
      break;
    default:
      if (n % 2) findings_.underflow("has a key without a value");
      c = containers_.new_dict();
      containers_.dict_add(c, stack_.items(k), n);
  }
  stack_.collapse(k, c);
}

[[gnu::always_inline]] inline void PickleMachine::op_append() {
  pop();
  stack_.top();
}

// APPENDS, ADDITEMS: the items above the MARK go into the list or set below it.
[[gnu::always_inline]] inline void PickleMachine::op_appends() {
  stack_.truncate(stack_.pop_mark());
  stack_.top();
}

[[gnu::always_inline]] inline void PickleMachine::op_setitem() {
  stack_.require(3, "needs a dict, a key and a value");
  size_t from = stack_.size() - 2;
  containers_.dict_add(stack_[from - 1], stack_.items(from), 2);
  stack_.truncate(from);
}

[[gnu::always_inline]] inline void PickleMachine::op_setitems() {
  size_t k = stack_.pop_mark();
  size_t n = stack_.size() - k;
  if (n % 2) findings_.underflow("has a key without a value");
  if (k <= stack_.fence()) findings_.underflow("has no dict to update");
  containers_.dict_add(stack_[k - 1], stack_.items(k), n);
  stack_.truncate(k);
}

}  // namespace secmlops::plugins::pickle::vm
