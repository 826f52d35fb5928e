#include "pickle_value.hpp"

namespace secmlops::plugins::pickle::vm {

const char* kind_name(Kind k) {
  switch (k) {
    case kNone:
      return "None";
    case kBool:
      return "a bool";
    case kInt:
    case kBigInt:
      return "an int";
    case kFloat:
      return "a float";
    case kStr:
    case kStrX:
      return "a string";
    case kBytes:
    case kBytesX:
      return "bytes";
    case kTuple:
      return "a tuple";
    case kList:
      return "a list";
    case kDict:
      return "a dict";
    case kSet:
      return "a set";
    case kFrozenSet:
      return "a frozenset";
    case kByteArray:
      return "a bytearray";
    case kGlobal:
      return "an imported global";
    case kObj:
      return "the result of a call";
    case kUnres:
      return "an unresolved value";
    case kPers:
      return "a persistent-id object";
    case kBuffer:
      return "an out-of-band buffer";
    default:
      return "a missing memo value";
  }
}

}  // namespace secmlops::plugins::pickle::vm
