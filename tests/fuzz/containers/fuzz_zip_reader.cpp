// libFuzzer: the zip reader (central directory, local headers, zip64, hidden members) and the
// members it yields.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace secmlops;
  auto s = fuzz::to_stream(data, size);
  host::containers::Budget b(fuzz::small_limits());
  auto ex = host::containers::read_zip(s, b);
  for (auto& m : ex.members) {
    auto o = m.open(b);
    if (o.stream) {
      fuzz::consume(*o.stream);
      fuzz::expand_all(o.stream, b, 1);
    }
  }
  return 0;
}
