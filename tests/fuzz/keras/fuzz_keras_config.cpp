// libFuzzer: the JSON probe (by content and by the member name Keras loads), the Keras config
// walker and metadata reader on arbitrary JSON text.
#include "bytecode_peek.hpp"
#include "keras_config.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const char* format = nullptr;
  (void)secmlops::plugins::keras::probe_json({data, size}, "archive/config.json", format);
  (void)secmlops::plugins::keras::probe_json({data, size}, "other.json", format);
  (void)secmlops::plugins::keras::analyze_config_json(text);
  (void)secmlops::plugins::keras::analyze_metadata_json(text);
  if (auto decoded = secmlops::plugins::keras::decode_base64(text))
    (void)secmlops::plugins::keras::peek_marshalled_code(*decoded);
  return 0;
}
