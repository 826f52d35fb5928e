// libFuzzer: the Jinja2 reachability analysis of chat templates, over raw template text and
// over tokenizer_config.json documents (first byte selects which), and the probe of such files.
#include "jinja_reach.hpp"
#include "tokenizer_config.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace gg = secmlops::plugins::gguf;
  const char* format = nullptr;
  (void)gg::probe_template_doc({data, size}, "tokenizer_config.json", format);
  (void)gg::probe_template_doc({data, size}, "weights.bin", format);
  if (data[0] & 1) {
    (void)gg::analyse_tokenizer_config(text);
  } else {
    gg::TemplateLimits limits;
    limits.max_tokens = 1 << 16;
    auto a = gg::analyse_template(text, limits);
    (void)gg::template_findings(a, "TOKENIZER-TEMPLATE", "fuzz", 0, "");
  }
  return 0;
}
