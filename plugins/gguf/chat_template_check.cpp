#include "chat_template_check.hpp"

#include <array>

namespace secmlops::plugins::gguf {

TemplateHits check_chat_template(std::string_view text) {
  static constexpr std::array<std::string_view, 12> kGadgets = {
      "__class__", "__globals__", "__subclasses__", "__builtins__", "__import__", "__mro__",
      "__base__",  "__bases__",   "__init__",       "__getattribute__", "__dict__", "__code__"};
  static constexpr std::array<std::string_view, 9> kWords = {
      "import", "os.", "popen", "subprocess", "eval(", "exec(", "system(", "open(", "getattr"};
  TemplateHits hits;
  for (auto g : kGadgets)
    if (text.find(g) != std::string_view::npos) hits.gadgets.emplace_back(g);
  for (auto w : kWords)
    if (text.find(w) != std::string_view::npos) hits.code_words.emplace_back(w);
  return hits;
}

}  // namespace secmlops::plugins::gguf
