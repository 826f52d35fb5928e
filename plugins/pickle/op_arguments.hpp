// Length-prefixed opcode arguments, skipped by offset: a payload's bytes are never read or
// copied unless its content matters later.
//
// Included only by pickle_machine.cpp, to be inlined into the dispatch (strings and bytes are
// among the commonest opcodes).
#pragma once

#include "opcodes.hpp"
#include "pickle_machine.hpp"

namespace secmlops::plugins::pickle::vm {

inline std::pair<uint64_t, uint64_t> PickleMachine::payload(uint64_t header) {
  const uint8_t* p = cursor_.try_at(pos_, 1 + header);
  if (p == nullptr) findings_.malformed("truncated length");
  uint64_t len = 0;
  for (uint64_t i = 0; i < header; ++i) len |= uint64_t{p[1 + i]} << (8 * i);
  if (header == 4 && findings_.op == op::kBinString && (len & 0x80000000u))
    findings_.malformed("negative BINSTRING length");
  uint64_t data = pos_ + 1 + header;
  if (data > end_ || len > end_ - data)
    findings_.malformed("payload of " + std::to_string(len) +
                        " bytes runs past the end of the stream");
  pos_ = data + len;
  return {data, len};
}

inline V PickleMachine::bytes_value(uint64_t off, uint64_t len) {
  if (len <= 0xFFFF) return mk_ref(kBytes, off, len, kEncRaw);
  return containers_.long_bytes(off, len);
}

}  // namespace secmlops::plugins::pickle::vm
