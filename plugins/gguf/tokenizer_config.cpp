#include "tokenizer_config.hpp"

#include "jinja_reach.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace secmlops::plugins::gguf {
namespace {

constexpr int kMaxDepth = 512;

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string base_name(std::string_view path) {
  size_t slash = path.find_last_of("/\\");
  std::string b(slash == std::string_view::npos ? path : path.substr(slash + 1));
  std::transform(b.begin(), b.end(), b.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return b;
}

std::string printable(std::string_view s, size_t max = 80) {
  std::string out;
  for (char c : s.substr(0, max)) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return s.size() > max ? out + "..." : out;
}

void add_template(TemplateDocResult& r, const std::string& text, const std::string& where,
                  const std::string& detail) {
  for (auto& f : template_findings(analyse_template(text), "TOKENIZER-TEMPLATE", where,
                                   SECMLOPS_NO_OFFSET, detail))
    r.findings.push_back(std::move(f));
}

}  // namespace

uint32_t probe_template_doc(sdk::Bytes head, std::string_view name, const char*& format) {
  const std::string base = base_name(name);
  if (ends_with(base, ".jinja") || ends_with(base, ".jinja2")) {
    format = "chat-template-jinja";
    return 50;
  }
  size_t i = 0;
  if (head.size() >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) i = 3;
  while (i < head.size() &&
         (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t'))
    ++i;
  if (i >= head.size() || head[i] != '{') return 0;
  format = "chat-template-json";
  if (base == "tokenizer_config.json" || base == "chat_template.json") return 75;
  // Another name: the key must be visible (a loader given this file by another name reads it
  // through its own code, which is not transformers' template path).
  std::string_view text(reinterpret_cast<const char*>(head.data()) + i, head.size() - i);
  return text.find("\"chat_template\"") != std::string_view::npos ? 45 : 0;
}

TemplateDocResult analyse_tokenizer_config(std::string_view text) {
  TemplateDocResult r;
  // Duplicate keys of the top-level object and of template entries: Python keeps the last.
  std::vector<std::set<std::string>> seen;
  std::set<std::string> duplicated;
  struct TooDeep {};
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    if (depth > kMaxDepth) throw TooDeep();  // documents are freed recursively: bound the nesting
    if (ev == nlohmann::json::parse_event_t::object_start) seen.emplace_back();
    if (ev == nlohmann::json::parse_event_t::object_end && !seen.empty()) seen.pop_back();
    if (ev == nlohmann::json::parse_event_t::key && !seen.empty() && depth <= 3) {
      auto k = parsed.get<std::string>();
      if (!seen.back().insert(k).second && (k == "chat_template" || k == "template" || k == "name"))
        duplicated.insert(k);
    }
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    r.error = std::string("not JSON: ") + e.what();
    r.error_at = e.byte;
    return r;
  } catch (const TooDeep&) {
    r.error = "JSON nests deeper than " + std::to_string(kMaxDepth) + " levels";
    return r;
  } catch (const nlohmann::json::exception& e) {
    // Valid syntax that cannot be represented, e.g. a number beyond a double.
    r.error = std::string("unreadable JSON: ") + e.what();
    return r;
  }
  for (const auto& k : duplicated)
    r.findings.push_back(
        {SECMLOPS_SEVERITY_MEDIUM,
         "TOKENIZER-TEMPLATE-DUPLICATE-KEY",
         "key '" + k +
             "' appears more than once on the way to a chat template: Python's json keeps "
             "the last value, parsers that keep the first render another template",
         SECMLOPS_NO_OFFSET,
         k,
         {}});
  if (!doc.is_object()) return r;
  auto it = doc.find("chat_template");
  if (it == doc.end()) return r;
  if (it->is_string()) {
    add_template(r, it->get<std::string>(), "chat template 'chat_template'", "chat_template");
  } else if (it->is_array()) {
    size_t i = 0;
    for (const auto& entry : *it) {
      std::string detail = "chat_template[" + std::to_string(i++) + "]";
      if (!entry.is_object()) continue;
      auto t = entry.find("template");
      if (t == entry.end() || !t->is_string()) continue;
      auto n = entry.find("name");
      std::string label =
          n != entry.end() && n->is_string() ? printable(n->get<std::string>()) : detail;
      add_template(r, t->get<std::string>(), "chat template '" + label + "'", detail);
    }
  }
  return r;
}

TemplateDocResult analyse_jinja_file(std::string_view text) {
  TemplateDocResult r;
  add_template(r, std::string(text), "chat template file", "");
  return r;
}

}  // namespace secmlops::plugins::gguf
