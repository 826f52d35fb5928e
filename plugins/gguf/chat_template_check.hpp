// Looks for Jinja server-side-template-injection gadgets in GGUF chat templates.
//
// Runtimes render tokenizer.chat_template with Jinja2; when the environment is not sandboxed
// (llama-cpp-python before 0.2.72, CVE-2024-34359) a template reaching Python internals through
// dunder attributes (''.__class__.__mro__[1].__subclasses__(), lipsum.__globals__['os'], …) runs
// arbitrary code while the model loads. Benign chat templates only loop over messages and
// concatenate strings, so dunder access is a strong signal; words like "import" or "os." are
// weaker and reported at LOW.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::gguf {

struct TemplateHits {
  std::vector<std::string> gadgets;  // dunder / introspection constructs (strong)
  std::vector<std::string> code_words;  // code-like words (weak)
};

TemplateHits check_chat_template(std::string_view text);

}  // namespace secmlops::plugins::gguf
