// libFuzzer: the libarchive-backed readers (7z, RAR; the first byte picks which) and the
// members they yield, under small limits.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace secmlops;
  using host::containers::Kind;
  if (size < 1) return 0;
  Kind kind = (data[0] & 1) != 0 ? Kind::rar : Kind::sevenzip;
  auto s = fuzz::to_stream(data + 1, size - 1);
  host::containers::Budget b(fuzz::small_limits());
  auto ex = host::containers::read_libarchive(kind, s, b);
  for (auto& m : ex.members) {
    auto o = m.open(b);
    if (o.stream) fuzz::consume(*o.stream);
  }
  return 0;
}
