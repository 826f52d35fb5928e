// libFuzzer: the GGUF header parser over a whole file image (small limits so that big declared
// counts are exercised without spending the run on them).
#include "gguf_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  secmlops::sdk::MemorySource src(data, size);
  secmlops::plugins::gguf::Limits limits;
  limits.max_array = 1 << 16;
  (void)secmlops::plugins::gguf::validate(src, limits);
  return 0;
}
