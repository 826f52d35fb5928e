// Walks arbitrary bytes as nested protobuf messages: every length-delimited field is tried as
// a sub-message, strings and packed varints are decoded.
#include "secmlops/protowire/reader.hpp"

#include <cstdint>

using namespace secmlops::protowire;

namespace {
void walk(MessageReader r, int budget) {
  Field f;
  while (r.next(f)) {
    if (f.type != WireType::kLen || budget <= 0) continue;
    (void)r.string(f, 64);
    (void)r.varints(
        f, [](uint64_t) {}, 64);
    try {
      walk(r.sub(f), budget - 1);
    } catch (const ParseError&) {
      // not a message: fine
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  secmlops::sdk::MemorySource src(data, size);
  secmlops::sdk::WindowReader buf(src, 64);
  try {
    walk(MessageReader(buf, 0, size), 200);
  } catch (const ParseError&) {
  }
  uint64_t v;
  (void)decode_varint(data, size, v);
  return 0;
}
