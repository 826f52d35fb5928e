// What a Jinja2 template (a chat template of a GGUF file or a tokenizer_config.json) can reach.
//
// Runtimes render chat templates with Jinja2. A sandboxed environment (transformers, and
// llama-cpp-python since 0.2.72) refuses attributes starting with `_` and a few frame/code
// attributes; an unsandboxed one (llama-cpp-python < 0.2.72, CVE-2024-34359, and any custom
// renderer) lets `cycler.__init__.__globals__.os.popen(...)` run code while the model loads.
// Matching names in the raw text misses what the renderer sees: names built by concatenation
// (`'__cla' ~ 'ss__'`), string escapes (`'\x5f\x5fclass\x5f\x5f'`), `|attr(...)`, `%` and
// `format` formatting, reversed slices, and flags names that only appear as output text. So the
// template is lexed as Jinja2 lexes it (delimiters, raw blocks, comments, string escapes as
// `unicode-escape`), expressions are parsed with Jinja2's precedence, and string values are
// folded where they are constants; every attribute the template reads is judged by the name
// the renderer would look up.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::gguf {

struct TemplateReach {
  size_t offset = 0;      // character offset of the access in the template
  std::string path;       // what is reached, e.g. "lipsum.__globals__" (printable, bounded)
  std::string attribute;  // the attribute name the renderer looks up ("" when not computable)
  std::string how;        // "attribute", "subscript", "attr filter", "format field"
};

struct TemplateAnalysis {
  // Attributes outside Jinja2's sandbox: `_`-prefixed names and frame/code attributes.
  std::vector<TemplateReach> escapes;
  // Attribute names built at render time from values that are not constants (`|attr(x ~ y)`):
  // what they reach cannot be said statically.
  std::vector<TemplateReach> dynamic;
  std::vector<std::string> code_words;  // weak signal: code-like words in the template's text
  bool unparsed = false;                // a tag Jinja2 would refuse; its tokens were judged alone
  bool limited = false;                 // the work limit stopped the analysis before the end
  size_t tags = 0;
};

struct TemplateLimits {
  size_t max_tokens = 4u << 20;         // work bound: tokens lexed in one template
  size_t max_depth = 100;               // expression nesting (each level is a dozen stack frames)
  size_t max_string = 1u << 20;         // a folded string value (repetition, concatenation)
  size_t max_folded_bytes = 64u << 20;  // work bound: bytes of all folded values of one template
  size_t max_reported = 50;             // escapes and dynamic accesses kept each
};

TemplateAnalysis analyse_template(std::string_view text, const TemplateLimits& limits = {});

// The findings of one analysed template, rule ids `<prefix>-SSTI` (HIGH: an attribute outside
// the sandbox), `<prefix>-DYNAMIC-ATTRIBUTE` (MEDIUM: a name computed from non-constants),
// `<prefix>-LIMIT` (MEDIUM) and `<prefix>-CODE` (LOW: code-like words only). `what` names the
// template in messages ("chat template 'tokenizer.chat_template'"); `offset` is where it starts.
std::vector<sdk::Finding> template_findings(const TemplateAnalysis& a, std::string_view prefix,
                                            std::string_view what, uint64_t offset,
                                            const std::string& detail);

// True when `name` is an attribute Jinja2's SandboxedEnvironment refuses.
bool outside_sandbox(std::string_view name);

}  // namespace secmlops::plugins::gguf
