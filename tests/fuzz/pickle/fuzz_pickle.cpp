// libFuzzer target: the pickle scanner core on arbitrary bytes. The first byte picks the
// format (pickle, numpy, torch-legacy) so one corpus exercises every parser; the npy header
// parser is also called directly.
#include "formats.hpp"
#include "pickle_scan.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace secmlops::plugins::pickle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Policy policy;
  static const char* kFormats[] = {kFormatPickle, kFormatNumpy, kFormatTorchLegacy};
  if (size == 0) return 0;
  const char* format = kFormats[data[0] % 3];
  // Probed files keep their natural routing; the selector byte only matters for the rest. Bit 2
  // of the selector probes the bytes as a PyTorch storage member, whose probe is stricter.
  const char* probed = nullptr;
  std::string_view name = (data[0] & 4) != 0 ? "archive/data/0" : "";
  if (probe_format({data + 1, size - 1}, probed, name) > 0) format = probed;
  NpyHeader header;
  (void)parse_npy_header(data + 1, size - 1, header);
  MemoryInput in(data + 1, size - 1);
  VectorSink sink;
  Limits limits;
  limits.max_memo = 1u << 16;  // keep each run small; limits themselves are exercised
  limits.max_stack = 1u << 16;
  limits.max_opcodes = 1u << 20;
  limits.max_tracked = 1u << 14;
  ScanState state(in, policy, sink, limits);
  (void)scan_format(state, format);
  return 0;
}
