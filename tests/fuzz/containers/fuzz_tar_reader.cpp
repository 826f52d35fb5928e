// libFuzzer: the tar reader (ustar, GNU long names, pax) and the members it yields.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace secmlops;
  auto s = fuzz::to_stream(data, size);
  host::containers::Budget b(fuzz::small_limits());
  auto ex = host::containers::read_tar(s, b);
  for (auto& m : ex.members) {
    auto o = m.open(b);
    if (o.stream) fuzz::consume(*o.stream);
  }
  return 0;
}
