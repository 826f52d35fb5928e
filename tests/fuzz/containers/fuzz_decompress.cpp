// libFuzzer: every decompressor (the first byte picks the codec) plus detection and expansion
// of whatever the bytes look like.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace secmlops;
  using host::containers::Codec;
  if (size < 1) return 0;
  static constexpr Codec codecs[] = {Codec::deflate_raw, Codec::zlib,     Codec::gzip,
                                     Codec::bzip2,       Codec::xz,       Codec::lzma_alone,
                                     Codec::lzma_zip,    Codec::lz4_frame};
  Codec c = codecs[data[0] % 8];
  auto s = fuzz::to_stream(data + 1, size - 1);
  host::containers::Budget b(fuzz::small_limits());
  uint64_t consumed = 0;
  auto o = host::containers::decompress(c, s, 0, s->size(), b, 0x12345678u, &consumed);
  if (o.stream) fuzz::consume(*o.stream);
  if (consumed > s->size()) __builtin_trap();
  fuzz::expand_all(s, b, 0);
  return 0;
}
