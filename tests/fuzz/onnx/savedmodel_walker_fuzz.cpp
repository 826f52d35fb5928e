// The SavedModel probe and walker on arbitrary bytes.
#include "probe.hpp"
#include "savedmodel_walker.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace secmlops;
  (void)plugins::savedmodel::probe_saved_model(data, size, "saved_model.pb");
  sdk::MemorySource src(data, size);
  plugins::savedmodel::WalkContext ctx;
  ctx.emit = [](const sdk::Finding&) {};
  try {
    plugins::savedmodel::walk_saved_model(src, ctx);
  } catch (const protowire::ParseError&) {
  }
  return 0;
}
