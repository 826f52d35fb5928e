#include "secmlops/host/report_html.hpp"

#include "dashboard/html_text.hpp"
#include "secmlops/v1/pipeline.pb.h"
#include "secmlops/v1/report.pb.h"
#include "support/temp_dir.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace secmlops::host {
namespace {

using dashboard::escape_html;

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

TEST(HtmlEscape, SpecialCharactersBecomeEntities) {
  EXPECT_EQ(escape_html(R"(<a href="x" title='y'>&</a>)"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(escape_html("</svg><script>"), "&lt;/svg&gt;&lt;script&gt;");
  EXPECT_EQ(escape_html("plain text, ümlaut, 日本, 🙂"), "plain text, ümlaut, 日本, 🙂");
}

TEST(HtmlEscape, InvalidUtf8AndControlsAreReplaced) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(escape_html(std::string("a\xFF"
                                    "b")),
            "a" + fffd + "b");
  EXPECT_EQ(escape_html(std::string("\xC0\xBC")), fffd + fffd);             // overlong '<'
  EXPECT_EQ(escape_html(std::string("\xED\xA0\x80")), fffd + fffd + fffd);  // a surrogate
  EXPECT_EQ(escape_html(std::string("\xE2\x82")), fffd + fffd);             // truncated
  EXPECT_EQ(escape_html(std::string("a\0b\x1b", 4)), "a" + fffd + "b" + fffd);
  EXPECT_EQ(escape_html("tab\tnewline\n"), "tab\tnewline\n");
  EXPECT_EQ(escape_html("\xE2\x80\xAEgnp.exe"), "[U+202E]gnp.exe");  // right-to-left override
}

TEST(HtmlEscape, OnlyHttpLinksSurvive) {
  EXPECT_EQ(dashboard::safe_link("https://mlflow.example/#/runs/1"),
            "https://mlflow.example/#/runs/1");
  EXPECT_EQ(dashboard::safe_link("javascript:alert(1)"), "");
  EXPECT_EQ(dashboard::safe_link("JAVASCRIPT:alert(1)"), "");
  EXPECT_EQ(dashboard::safe_link("data:text/html,<script>"), "");
  EXPECT_EQ(dashboard::safe_link("http://x/\" onmouseover=\"a"), "");
  EXPECT_EQ(dashboard::safe_link("http://x/ y"), "");
}

TEST(HtmlNumbers, Formatting) {
  EXPECT_EQ(dashboard::format_number(0.8125), "0.8125");
  EXPECT_EQ(dashboard::format_number(1e-5), "1e-05");
  EXPECT_EQ(dashboard::format_number(std::nan("")), "\xE2\x80\x93");
  EXPECT_EQ(dashboard::format_duration(0.25), "250 ms");
  EXPECT_EQ(dashboard::format_duration(125), "2 min 05 s");
  EXPECT_EQ(dashboard::format_bytes(1536), "1.5 KiB");
}

constexpr const char* kHostile = R"(<script>x()</script>"onload='y()'</svg>&)";

// Every string field of the message and of its sub-messages (one element of each repeated field,
// one entry of each map) set to the hostile string.
void fill_hostile(google::protobuf::Message& m, int depth = 0) {
  using google::protobuf::FieldDescriptor;
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (f->is_repeated())
        r->AddString(&m, f, kHostile);
      else
        r->SetString(&m, f, kHostile);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && depth < 6) {
      auto* sub = f->is_repeated() ? r->AddMessage(&m, f) : r->MutableMessage(&m, f);
      fill_hostile(*sub, depth + 1);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE && !f->is_repeated()) {
      r->SetDouble(&m, f, 0.5);
    }
  }
}

TEST(RenderHtml, EveryReportStringIsEscaped) {
  v1::PipelineReport report;
  fill_hostile(report);
  report.set_mlflow_run_url("javascript:alert(1)");
  for (const bool csp : {true, false}) {
    HtmlOptions options;
    options.content_security_policy = csp;
    const std::string html = render_html(report, options);
    EXPECT_EQ(count(html, "<script"), 0u);
    EXPECT_EQ(count(html, kHostile), 0u);
    EXPECT_EQ(count(html, "onload='"), 0u);
    EXPECT_EQ(count(html, "href=\"javascript:"), 0u);    // shown as text, never linked
    EXPECT_GT(count(html, escape_html(kHostile)), 20u);  // shown, as text
    EXPECT_EQ(count(html, "Content-Security-Policy"), csp ? 1u : 0u);
    // Each string field occurs as text only: the page's own markup is unchanged around it.
    EXPECT_EQ(count(html, "<svg class=\"chart\""), 2u);
    EXPECT_EQ(count(html, "</svg>"), count(html, "<svg"));
    EXPECT_EQ(count(html, "<section"), count(html, "</section>"));
  }
}

TEST(RenderHtml, AnEmptyReportStillRendersEverySection) {
  const std::string html = render_html(v1::PipelineReport{});
  for (const char* id : {"identity", "data", "models", "robustness", "findings", "steps"})
    EXPECT_EQ(count(html, std::string("<section id=\"") + id + "\""), 1u) << id;
  EXPECT_EQ(count(html, "No attack in this report."), 1u);
  EXPECT_EQ(count(html, "class=\"banner unknown\""), 1u);
}

v1::AttackReport attack(const std::string& model, const std::string& name,
                        std::vector<double> accuracies) {
  v1::AttackReport a;
  a.set_model_name(model);
  a.set_attack(name);
  for (size_t i = 0; i < accuracies.size(); ++i) {
    auto* p = a.add_curve();
    p->set_eps(0.1 * static_cast<double>(i));
    p->set_adversarial_accuracy(accuracies[i]);
    p->set_success_rate(1 - accuracies[i]);
  }
  return a;
}

TEST(RenderHtml, OneSeriesPerModelAndAttackWithItsValues) {
  v1::PipelineReport report;
  auto* step = report.add_steps();
  *step->add_attacks() = attack("m1", "fgsm", {0.9, 0.5, 0.25});
  *step->add_attacks() = attack("m1", "pgd", {0.9, 0.4});
  *step->add_attacks() = attack("m2", "fgsm", {0.8, 0.125});
  const std::string html = render_html(report);
  EXPECT_EQ(count(html, "<g class=\"series\""), 6u);  // 3 series in each of the two charts
  EXPECT_EQ(
      count(html, "data-model=\"m1\" data-attack=\"pgd\" data-metric=\"adversarial_accuracy\""),
      1u);
  EXPECT_EQ(count(html, "<circle class=\"pt\""), 14u);
  EXPECT_EQ(count(html, "data-value=\"0.125\""), 1u);
  EXPECT_EQ(count(html, "data-value=\"0.875\""), 1u);  // its success rate
  EXPECT_EQ(count(html, "<table class=\"chart-table\""), 2u);
  EXPECT_EQ(count(html, "<script"), 0u);
}

TEST(RenderHtml, FindingsAreRankedForEverySortOrder) {
  v1::PipelineReport report;
  auto* scan = report.add_steps()->mutable_scan();
  auto* file = scan->add_files();
  file->set_path("a.pkl");
  for (auto [rule, sev] :
       {std::pair{"B-RULE", v1::LOW}, {"A-RULE", v1::CRITICAL}, {"C-RULE", v1::MEDIUM}}) {
    auto* f = file->add_findings();
    f->set_rule_id(rule);
    f->set_severity(sev);
  }
  const std::string html = render_html(report);
  // Rows are written worst first; --r is the rank by rule id.
  const auto critical = html.find("data-severity=\"CRITICAL\"><td>");
  const auto medium = html.find("data-severity=\"MEDIUM\"><td>");
  const auto low = html.find("data-severity=\"LOW\"><td>");
  EXPECT_LT(critical, medium);
  EXPECT_LT(medium, low);
  EXPECT_NE(html.find("<tr style=\"--r:1;"), std::string::npos);
  EXPECT_EQ(count(html, "rules.md#:~:text=A-RULE"), 1u);
}

TEST(ReportJson, DetectsEachMessage) {
  v1::PipelineReport into;
  EXPECT_EQ(add_report_json(into, R"({"files":[{"path":"a"}],"verdict":"pass"})", "scan.json"),
            ReportKind::scan);
  EXPECT_EQ(add_report_json(into, R"({"attack":"fgsm","curve":[{"eps":0.1}]})", "a.json"),
            ReportKind::attack);
  EXPECT_EQ(add_report_json(into, R"({"model":{"plugin":"logreg"},"trainRows":"10"})", "t.json"),
            ReportKind::train);
  EXPECT_EQ(add_report_json(into, R"({"name":"d","schema":[{"name":"x"}]})", "d.json"),
            ReportKind::dataset);
  EXPECT_EQ(
      add_report_json(into, R"({"name":"p","steps":[{"id":"s"}],"verdict":"fail"})", "p.json"),
      ReportKind::pipeline);
  EXPECT_EQ(add_report_json(into, R"([{"attack":"a"},{"attack":"b"}])", "many.json"),
            ReportKind::attack);
  ASSERT_EQ(into.steps_size(), 7);
  EXPECT_EQ(into.steps(0).id(), "scan.json");
  EXPECT_EQ(into.steps(0).kind(), "scan");
  EXPECT_EQ(into.steps(4).id(), "s");
  EXPECT_EQ(into.steps(6).id(), "many.json[1]");
  EXPECT_EQ(into.name(), "p");
  // The same file twice: distinct step ids.
  add_report_json(into, R"({"attack":"fgsm"})", "a.json");
  EXPECT_EQ(into.steps(7).id(), "a.json #2");
}

TEST(ReportJson, RejectsWhatIsNotAReportAndNamesTheSource) {
  v1::PipelineReport into;
  for (const char* text : {"", "not json", "{}", "[]", "42", R"({"durationSeconds":1})",
                           R"({"files":[],"bogus":1})", R"({"attack":7})", R"({"curve":"x"})"}) {
    try {
      add_report_json(into, text, "input-7.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("input-7.json"), std::string::npos) << e.what();
    }
  }
  // Nesting that would exhaust a recursive reader's stack is refused up front.
  const std::string deep =
      R"({"files":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_THROW(add_report_json(into, deep, "deep.json"), std::invalid_argument);
  EXPECT_EQ(into.steps_size(), 0);
}

TEST(ReportJson, AssembledVerdict) {
  test::TempDir dir;
  auto pass = dir.write("pass.json", R"({"files":[{"path":"a"}],"verdict":"pass"})");
  auto error =
      dir.write("error.json", R"({"files":[{"path":"b","status":"PARTIAL"}],"verdict":"error"})");
  auto fail = dir.write("fail.json", R"({"files":[{"path":"c"}],"verdict":"fail"})");
  EXPECT_EQ(assemble_report({pass}).verdict(), "pass");
  EXPECT_EQ(assemble_report({pass, error}).verdict(), "error");
  EXPECT_EQ(assemble_report({error, fail}).verdict(), "fail");
  // Without a verdict of its own a scan is judged at fail_on, HIGH by default.
  auto high =
      dir.write("high.json", R"({"files":[{"path":"d","findings":[{"severity":"HIGH"}]}]})");
  auto medium =
      dir.write("medium.json", R"({"files":[{"path":"e","findings":[{"severity":"MEDIUM"}]}]})");
  auto medium_strict =
      dir.write("strict.json", R"({"files":[{"path":"f","findings":[{"severity":"MEDIUM"}]}],
                                                    "failOn":"MEDIUM"})");
  auto partial = dir.write("partial.json", R"({"files":[{"path":"g","status":"PARTIAL"}]})");
  EXPECT_EQ(assemble_report({high}).verdict(), "fail");
  EXPECT_EQ(assemble_report({medium}).verdict(), "pass");
  EXPECT_EQ(assemble_report({medium_strict}).verdict(), "fail");
  EXPECT_EQ(assemble_report({partial}).verdict(), "error");
  try {
    assemble_report({pass, dir.path() / "missing.json"});
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace secmlops::host
