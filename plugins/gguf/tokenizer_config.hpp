// Chat templates outside GGUF: a Hugging Face tokenizer_config.json (or chat_template.json)
// whose `chat_template` is a string or a list of {name, template}, and standalone
// `chat_template.jinja` files. transformers renders them with Jinja2 when a chat is formatted,
// so they get the same reachability analysis as GGUF templates (jinja_reach.hpp).
//
// JSON is read as Python's json module reads it: escapes decoded (`\u005f` is `_`), and the last
// of duplicate keys wins; a duplicated key on the way to a template is itself a finding, since
// parsers that keep the first value see another template than transformers does.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::gguf {

struct TemplateDocResult {
  std::vector<sdk::Finding> findings;
  std::string error;  // not JSON (the offset in error_at)
  uint64_t error_at = 0;
};

// Confidence (0..100) that a stream is a tokenizer config / chat template, and its format:
// "chat-template-json" or "chat-template-jinja". Loaders find these files by name, so the name
// decides together with the content's first bytes.
uint32_t probe_template_doc(sdk::Bytes head, std::string_view name, const char*& format);

TemplateDocResult analyse_tokenizer_config(std::string_view text);
TemplateDocResult analyse_jinja_file(std::string_view text);

}  // namespace secmlops::plugins::gguf
