// libFuzzer: the safetensors header validator over a whole file image.
#include "safetensors_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)secmlops::plugins::safetensors::validate_file({data, size});
  (void)secmlops::plugins::safetensors::probe({data, size});
  return 0;
}
