// What chat templates reach: the Jinja2 analysis on templates written the way attackers and
// ordinary model publishers write them, and tokenizer_config.json read as Python reads it.
#include "jinja_reach.hpp"
#include "tokenizer_config.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

namespace gg = secmlops::plugins::gguf;

std::string escapes(const gg::TemplateAnalysis& a) {
  std::string s;
  for (const auto& e : a.escapes) s += e.attribute + " (" + e.how + ") ";
  return s;
}

TEST(ChatTemplate, NamesBuiltAtRenderTimeAreJudgedAsTheRendererSeesThem) {
  // Each reaches a `_` attribute although no `__class__`-like word is spelled in one piece.
  for (const char* t : {
           "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
           "{{ ''|attr('__cla' ~ 'ss__') }}",
           "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
           "{{ ''|attr('\\u005f_class__') }}",
           "{{ ''|attr('\\137\\137class\\137\\137') }}",
           "{{ ''['__cla' 'ss__'] }}",
           "{{ lipsum|attr(('%c%c' % (95, 95)) ~ 'globals' ~ ('%c%c' % (95, 95))) }}",
           "{{ joiner|attr('%c%cinit%c%c'|format(95,95,95,95)) }}",
           "{{ ''|attr('__ssalc__'[::-1]) }}",
           "{{ ''|attr(['_','_','class','_','_']|join) }}",
           "{% set a = '__glo' %}{% set b = 'bals__' %}{{ namespace.__init__|attr(a ~ b) }}",
           "{{ ''|attr('{}{}class{}{}'.format('_','_','_','_')) }}",
           "{{ ''|attr('XXclassXX'.replace('X', '_')) }}",
           "{{ '{0.__class__.__mro__}'.format(messages) }}",
           "{{ messages|map(attribute='__class__')|list }}",
           "{{ messages|selectattr('__class__')|list }}",
           "{{ messages|groupby('__init__.__globals__')|list }}",
           "{% for n in ['__class__'] %}{{ ''[n] }}{% endfor %}",
           "{{ ''|attr('\\N{LOW LINE}_class__') }}",
           "{{ self._TemplateReference__context }}",
           "{{ x.gi_frame.f_globals }}",
       }) {
    auto a = gg::analyse_template(t);
    EXPECT_FALSE(a.escapes.empty()) << t;
  }
  // The attribute found is the one looked up: '__cla' ~ 'ss__' is __class__.
  auto a = gg::analyse_template("{{ ''|attr('__cla' ~ 'ss__') }}");
  ASSERT_EQ(a.escapes.size(), 1u);
  EXPECT_EQ(a.escapes[0].attribute, "__class__");
  EXPECT_EQ(a.escapes[0].how, "attr filter");
}

TEST(ChatTemplate, NamesAsOutputTextAreNotReached) {
  // `__class__` printed, in a comment, in a raw block or in plain text reaches nothing.
  for (const char* t : {"The attribute __class__ is documented here.", "{# ''.__class__ #}",
                        "{% raw %}{{ ''.__class__ }}{% endraw %}", "{{ '__class__' }}",
                        "{{ message['content'] ~ '__init__' }}"}) {
    auto a = gg::analyse_template(t);
    EXPECT_TRUE(a.escapes.empty()) << t << ": " << escapes(a);
    EXPECT_TRUE(a.dynamic.empty()) << t;
  }
}

TEST(ChatTemplate, ComputedNamesAreDynamic) {
  auto a = gg::analyse_template(
      "{% set ns = namespace(n='') %}{% for c in messages %}{% set ns.n = ns.n ~ c.content %}{% "
      "endfor %}"
      "{{ ''|attr(ns.n) }}");
  EXPECT_TRUE(a.escapes.empty()) << escapes(a);
  ASSERT_FALSE(a.dynamic.empty());
  auto f = gg::template_findings(a, "TOKENIZER-TEMPLATE", "t", 0, "");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rule_id, "TOKENIZER-TEMPLATE-DYNAMIC-ATTRIBUTE");
  EXPECT_EQ(f[0].severity, SECMLOPS_SEVERITY_MEDIUM);
}

TEST(ChatTemplate, OrdinaryTemplatesReachNothing) {
  const char* chatml =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + "
      "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
      "'<|im_start|>assistant\\n' }}{% endif %}";
  const char* llama3 =
      "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
      "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | "
      "trim + "
      "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif "
      "%}{{ content }}"
      "{% endfor %}{% if add_generation_prompt %}{{ "
      "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
      "{% endif %}";
  const char* tools =
      "{%- if tools %}{{- '<tools>' }}{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- "
      "endfor %}"
      "{%- endif %}{%- for message in messages %}{%- if message.role == 'assistant' and "
      "message.tool_calls is "
      "defined %}{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined "
      "%}{%- set "
      "tool_call = tool_call.function %}{%- endif %}{{- '{\"name\": \"' }}{{- tool_call.name }}{{- "
      "'\", "
      "\"arguments\": ' }}{{- tool_call.arguments | tojson }}{%- endfor %}{%- elif message.role "
      "not in "
      "['user', 'system'] %}{{ raise_exception('Conversation roles must alternate "
      "user/assistant/user/"
      "assistant/...') }}{%- else %}{{- message.content.split('</think>')[-1].lstrip('\\n') }}{%- "
      "endif %}"
      "{%- endfor %}{% set ns = namespace(first=true) %}{% if messages[0]['role'] == 'system' %}{% "
      "set "
      "ns.first = false %}{% endif %}{{ strftime_now('%d %b %Y') }}{% for key in ['role', "
      "'content'] %}"
      "{{ messages[0][key] }}{% endfor %}{% for item in message.content | selectattr('type', "
      "'equalto', 'text') %}"
      "{{ item.text }}{% endfor %}{{ (messages|selectattr('role', 'equalto', "
      "'system')|list|last).content }}"
      "{%- for m in messages[::-1] if m.content is string and m.content is not none %}{{ "
      "m.content[:-2] }}"
      "{% endfor %}";
  for (const char* t : {chatml, llama3, tools}) {
    auto a = gg::analyse_template(t);
    EXPECT_TRUE(a.escapes.empty()) << t << ": " << escapes(a);
    EXPECT_TRUE(a.dynamic.empty()) << t;
    EXPECT_FALSE(a.unparsed) << t;
    EXPECT_TRUE(gg::template_findings(a, "TOKENIZER-TEMPLATE", "t", 0, "").empty()) << t;
  }
}

TEST(ChatTemplate, UnparsableTagsAreJudgedByTheirTokens) {
  auto a = gg::analyse_template("{{ ''.__class__ ) }}");
  EXPECT_TRUE(a.unparsed);
  EXPECT_FALSE(a.escapes.empty());
  // Unterminated tags and strings end the analysis without a crash.
  for (const char* t : {"{{ 'abc", "{% if", "{{ ((((", "{{ ''[::0] }}", "{{ 'a' * 99999999999 }}"})
    (void)gg::analyse_template(t);
}

TEST(ChatTemplate, FoldingIsBoundedByAWorkBudget) {
  // Each concatenation would copy a megabyte: the budget stops folding, the analysis ends soon
  // and says it was limited.
  std::string t = "{% set x = 'a' * 1000000 %}{{ x";
  for (int i = 0; i < 2000; ++i) t += " ~ x";
  t += " }}";
  auto a = gg::analyse_template(t);
  EXPECT_TRUE(a.limited);
  auto f = gg::template_findings(a, "TOKENIZER-TEMPLATE", "t", 0, "");
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].rule_id, "TOKENIZER-TEMPLATE-LIMIT");
}

TEST(ChatTemplate, TokenizerConfigIsReadAsPythonReadsIt) {
  // \u escapes in the JSON value, then the last of duplicate keys wins.
  auto r = gg::analyse_tokenizer_config(
      R"({"chat_template": "{{ messages }}", "bos_token": "<s>", "chat_template": "{{ cycler.\u005f_init__ }}"})");
  ASSERT_TRUE(r.error.empty()) << r.error;
  bool ssti = false, dup = false;
  for (const auto& f : r.findings) {
    ssti = ssti || f.rule_id == "TOKENIZER-TEMPLATE-SSTI";
    dup = dup || f.rule_id == "TOKENIZER-TEMPLATE-DUPLICATE-KEY";
  }
  EXPECT_TRUE(ssti);
  EXPECT_TRUE(dup);
  // A list of named templates: each one is analysed.
  auto named = gg::analyse_tokenizer_config(
      R"({"chat_template": [{"name": "default", "template": "{{ messages }}"},
                            {"name": "tool_use", "template": "{{ lipsum.__globals__ }}"}]})");
  ASSERT_EQ(named.findings.size(), 1u);
  EXPECT_EQ(named.findings[0].detail, "chat_template[1]");
  EXPECT_NE(named.findings[0].message.find("tool_use"), std::string::npos);
  auto bad = gg::analyse_tokenizer_config("{\"chat_template\": ");
  EXPECT_FALSE(bad.error.empty());
  // Numbers beyond a double and nesting beyond 512 levels are errors, not exceptions or crashes.
  EXPECT_FALSE(gg::analyse_tokenizer_config("{\"x\": 1e999999}").error.empty());
  EXPECT_FALSE(gg::analyse_tokenizer_config(std::string(100000, '[') + std::string(100000, ']'))
                   .error.empty());
}

TEST(ChatTemplate, ProbeUsesTheNameLoadersUse) {
  const char* format = nullptr;
  std::string head = "{\n  \"added_tokens_decoder\": {}";
  secmlops::sdk::Bytes b(reinterpret_cast<const uint8_t*>(head.data()), head.size());
  EXPECT_GT(gg::probe_template_doc(b, "/models/x/tokenizer_config.json", format), 0u);
  EXPECT_STREQ(format, "chat-template-json");
  EXPECT_EQ(gg::probe_template_doc(b, "/models/x/vocab.json", format), 0u);
  EXPECT_GT(gg::probe_template_doc(b, "chat_template.jinja", format), 0u);
  EXPECT_STREQ(format, "chat-template-jinja");
}

}  // namespace
