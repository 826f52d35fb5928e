// The ONNX probe and walker on arbitrary bytes; sibling lookups answer with flags derived from
// the path so every external-data branch is reachable.
#include "onnx_walker.hpp"
#include "probe.hpp"

#include <cstdint>
#include <functional>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace secmlops;
  (void)plugins::onnx::probe_model(data, size);
  sdk::MemorySource src(data, size);
  plugins::onnx::WalkContext ctx;
  ctx.emit = [](const sdk::Finding&) {};
  ctx.stat_sibling = [](const std::string& rel) {
    secmlops_sibling_info info{};
    info.struct_size = sizeof(info);
    size_t h = std::hash<std::string>{}(rel);
    info.flags = static_cast<uint32_t>(h & 0x3f);
    info.size = h >> 40;
    return info;
  };
  plugins::onnx::WalkOptions opt;
  try {
    plugins::onnx::walk_model(src, ctx, opt);
  } catch (const protowire::ParseError&) {
  }
  return 0;
}
