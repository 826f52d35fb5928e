// The HTML dashboard of a PipelineReport. Every report string goes through escape_html (text and
// attributes alike); numbers are formatted here; nothing on the page loads anything.
#include "secmlops/host/report_html.hpp"

#include "dashboard/dashboard_style.hpp"
#include "dashboard/html_text.hpp"
#include "dashboard/svg_chart.hpp"
#include "secmlops/v1/pipeline.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace secmlops::host {

namespace {

using dashboard::append_escaped;
using dashboard::escape_html;
using dashboard::format_bytes;
using dashboard::format_duration;
using dashboard::format_number;

const std::string kDash = "\xE2\x80\x93";  // shown for a missing value

// Everything the page shows, gathered from the report's steps once.
struct View {
  const v1::PipelineReport& report;
  std::vector<const v1::DatasetRecord*> datasets;
  std::vector<const v1::TrainResponse*> models;
  std::vector<const v1::AttackReport*> attacks;
  std::vector<const v1::ScanReport*> scans;
  std::vector<const v1::ModelAnalysis*> analyses;
  std::vector<const v1::GateResult*> gates;
  std::vector<const v1::PluginInfo*> plugins;
  struct FindingRef {
    const v1::Finding* finding;
    const v1::FileReport* file;
  };
  std::vector<FindingRef> findings;
};

std::string model_label(const v1::TrainResponse& t) {
  if (!t.model().name().empty()) return t.model().name();
  if (!t.out().empty()) return std::filesystem::path(t.out()).filename().string();
  return t.model().plugin();
}

std::string model_label(const v1::AttackReport& a) {
  return a.model_name().empty() ? a.model() : a.model_name();
}

View collect(const v1::PipelineReport& r) {
  View v{r, {}, {}, {}, {}, {}, {}, {}, {}};
  std::set<std::string> seen_datasets, seen_analyses, seen_plugins;
  auto add_dataset = [&](const v1::DatasetRecord& d) {
    if (d.sha256().empty() && d.name().empty()) return;
    if (seen_datasets.insert(d.sha256() + '\n' + d.name()).second) v.datasets.push_back(&d);
  };
  auto add_plugin = [&](const v1::PluginInfo& p) {
    if (seen_plugins.insert(p.name() + '\n' + p.version()).second) v.plugins.push_back(&p);
  };
  for (const auto& p : r.plugins()) add_plugin(p);
  for (const auto& a : r.analyses())
    if (seen_analyses.insert(a.model()).second) v.analyses.push_back(&a);
  for (const auto& g : r.gates()) v.gates.push_back(&g);
  for (const auto& s : r.steps()) {
    for (const auto& d : s.datasets()) add_dataset(d);
    for (const auto& m : s.models()) {
      v.models.push_back(&m);
      if (m.has_dataset()) add_dataset(m.dataset());
    }
    for (const auto& a : s.attacks()) v.attacks.push_back(&a);
    if (s.has_scan()) {
      v.scans.push_back(&s.scan());
      for (const auto& p : s.scan().scanners()) add_plugin(p);
      for (const auto& f : s.scan().files())
        for (const auto& fi : f.findings()) v.findings.push_back({&fi, &f});
    }
    for (const auto& a : s.analyses())
      if (seen_analyses.insert(a.model()).second) v.analyses.push_back(&a);
    if (r.gates_size() == 0)
      for (const auto& g : s.gates()) v.gates.push_back(&g);
  }
  return v;
}

std::string severity_name(v1::Severity s) {
  return v1::Severity_IsValid(s) ? v1::Severity_Name(s)
                                 : fmt::format("SEVERITY_{}", static_cast<int>(s));
}

std::string severity_html(v1::Severity s) {
  const std::string name = escape_html(severity_name(s));
  return fmt::format("<span class=\"sev sev-{0}\">{0}</span>", name);
}

std::string file_status_name(v1::FileStatus s) {
  switch (s) {
    case v1::SCANNED:
      return "scanned";
    case v1::PARTIAL:
      return "partial";
    case v1::UNSUPPORTED:
      return "unsupported";
    case v1::ERROR:
      return "error";
    default:
      return "unknown";
  }
}

std::string step_status_html(v1::StepStatus s) {
  switch (s) {
    case v1::STEP_OK:
      return "<span class=\"st-ok\">ok</span>";
    case v1::STEP_FAILED:
      return "<span class=\"st-bad\">failed</span>";
    case v1::STEP_SKIPPED:
      return "<span class=\"st-warn\">skipped</span>";
    case v1::STEP_CANCELLED:
      return "<span class=\"st-warn\">cancelled</span>";
    default:
      return "<span class=\"muted\">unknown</span>";
  }
}

std::string short_digest(const std::string& hex) {
  return hex.size() > 16 ? escape_html(hex.substr(0, 12)) + "\xE2\x80\xA6" : escape_html(hex);
}

// A digest shown short, the full value on hover.
std::string digest_html(const std::string& hex) {
  if (hex.empty()) return kDash;
  return fmt::format("<code title=\"{}\">{}</code>", escape_html(hex), short_digest(hex));
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string rule_link(const std::string& rules_url, const std::string& rule_id) {
  const std::string base = dashboard::safe_link(rules_url);
  if (base.empty()) return fmt::format("<code>{}</code>", escape_html(rule_id));
  return fmt::format("<a href=\"{}#:~:text={}\"><code>{}</code></a>", escape_html(base),
                     percent_encode(rule_id), escape_html(rule_id));
}

std::string location_html(const v1::Location& loc, const v1::FileReport& file) {
  const std::string sep = "<span class=\"sep\"> \xE2\x86\x92 </span>";
  std::string o = "<span class=\"file\">";
  append_escaped(o, loc.file().empty() ? file.path() : loc.file());
  o += "</span>";
  for (const auto& m : loc.members()) {
    o += sep + "<span class=\"member\">";
    append_escaped(o, m);
    o += "</span>";
  }
  if (loc.has_offset()) o += fmt::format("{}<span class=\"offset\">@ {}</span>", sep, loc.offset());
  if (!loc.detail().empty())
    o += " <span class=\"muted\">(" + escape_html(loc.detail()) + ")</span>";
  return o;
}

std::string num_cell(const std::string& text) { return "<td class=\"num\">" + text + "</td>"; }
std::string num_cell(double v, int digits = 4) { return num_cell(format_number(v, digits)); }

// ---- sections ----

void render_banner(std::string& o, const View& v, const HtmlOptions& opt) {
  const auto& r = v.report;
  std::string verdict = r.verdict().empty() ? "unknown" : r.verdict();
  const bool known = verdict == "pass" || verdict == "fail" || verdict == "error";
  o += fmt::format("<header class=\"banner {}\" id=\"verdict\"><h1>", known ? verdict : "unknown");
  append_escaped(o, opt.title.empty() ? "secmlops \xC2\xB7 " + r.name() : opt.title);
  o += "</h1><div class=\"verdict\" data-verdict=\"" + escape_html(verdict) + "\">";
  std::string upper = verdict;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  append_escaped(o, upper);
  o += "</div>";

  const auto passed =
      std::count_if(v.gates.begin(), v.gates.end(), [](auto* g) { return g->passed(); });
  if (!v.gates.empty()) {
    o += fmt::format("<div>{} of {} gate check(s) passed</div><ul class=\"gates\">", passed,
                     v.gates.size());
    for (const auto* g : v.gates) {
      o += fmt::format("<li data-passed=\"{}\">{} <code>", g->passed() ? "true" : "false",
                       g->passed() ? "\xE2\x9C\x94 pass" : "\xE2\x9C\x98 FAIL");
      append_escaped(o, g->condition());
      o += "</code>";
      if (!g->subject().empty()) o += " on " + escape_html(g->subject());
      if (!g->detail().empty()) o += " \xE2\x80\x94 " + escape_html(g->detail());
      if (!g->step().empty())
        o += " <span class=\"gstep\">(step " + escape_html(g->step()) + ")</span>";
      o += "</li>";
    }
    o += "</ul>";
  } else {
    o += "<div>no gate checks recorded</div>";
  }

  const View::FindingRef* worst = nullptr;
  for (const auto& f : v.findings)
    if (worst == nullptr || f.finding->severity() > worst->finding->severity()) worst = &f;
  o += "<div class=\"worst\">";
  if (worst != nullptr) {
    o += "Worst finding: <strong>" + escape_html(severity_name(worst->finding->severity())) +
         "</strong> <code>" + escape_html(worst->finding->rule_id()) + "</code> in " +
         location_html(worst->finding->location(), *worst->file);
  } else if (!v.scans.empty()) {
    o += "No findings.";
  } else {
    o += "No scan in this report.";
  }
  o += "</div></header>\n";
}

void render_nav(std::string& o) {
  o += "<nav aria-label=\"sections\">";
  for (auto [id, name] : {std::pair{"identity", "Run"},
                          {"data", "Data"},
                          {"models", "Models"},
                          {"robustness", "Robustness"},
                          {"findings", "Findings"},
                          {"steps", "Steps"}})
    o += fmt::format("<a href=\"#{}\">{}</a>", id, name);
  o += "</nav>\n";
}

void render_identity(std::string& o, const View& v) {
  const auto& r = v.report;
  o += "<section id=\"identity\"><h2>Run</h2><dl class=\"kv\">";
  auto row = [&](const char* key, const std::string& html) {
    if (!html.empty()) o += fmt::format("<dt>{}</dt><dd>{}</dd>", key, html);
  };
  row("name", escape_html(r.name()));
  row("started", escape_html(r.started_at()));
  if (r.duration_seconds() > 0) row("duration", format_duration(r.duration_seconds()));
  row("secmlops", escape_html(r.tool_version()));
  row("output", r.output_dir().empty() ? "" : "<code>" + escape_html(r.output_dir()) + "</code>");
  if (!r.mlflow_run_id().empty() || !r.mlflow_run_url().empty()) {
    const std::string link = dashboard::safe_link(r.mlflow_run_url());
    std::string run = "<code>" + escape_html(r.mlflow_run_id()) + "</code>";
    if (!link.empty())
      run = fmt::format("<a href=\"{}\" rel=\"noreferrer\">{}</a>", escape_html(link), run);
    else if (!r.mlflow_run_url().empty())
      run += " <code>" + escape_html(r.mlflow_run_url()) + "</code>";
    if (!r.mlflow_experiment_id().empty())
      run += " (experiment " + escape_html(r.mlflow_experiment_id()) + ")";
    row("MLflow run", run);
  }
  o += "</dl>";
  if (!v.plugins.empty()) {
    o += "<h3>Plugins</h3><div class=\"tablewrap\"><table><thead><tr><th>plugin</th><th>kind</th>"
         "<th>version</th><th>ABI</th></tr></thead><tbody>";
    for (const auto* p : v.plugins) {
      std::string kind = v1::PluginKind_IsValid(p->kind()) ? v1::PluginKind_Name(p->kind()) : "";
      for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      o += "<tr><td>" + escape_html(p->name()) + "</td><td>" + escape_html(kind) + "</td><td>" +
           escape_html(p->version()) + "</td><td>" + escape_html(p->abi_version()) + "</td></tr>";
    }
    o += "</tbody></table></div>";
  }
  if (r.settings_size() > 0) {
    o += "<h3>Settings</h3><table><tbody>";
    for (const auto& kv : r.settings())
      o += "<tr><th scope=\"row\"><code>" + escape_html(kv.key()) + "</code></th><td><code>" +
           escape_html(kv.value()) + "</code></td></tr>";
    o += "</tbody></table>";
  }
  o += "</section>\n";
}

template <typename Map>
std::vector<std::pair<std::string, typename Map::mapped_type>> sorted(const Map& m) {
  std::vector<std::pair<std::string, typename Map::mapped_type>> out(m.begin(), m.end());
  std::sort(out.begin(), out.end());
  return out;
}

void render_dataset(std::string& o, const v1::DatasetRecord& d) {
  o += "<div class=\"card dataset\"><h3>";
  append_escaped(o, d.name().empty() ? "dataset" : d.name());
  o += "</h3><dl class=\"kv\">";
  o += "<dt>sha256</dt><dd><code>" + (d.sha256().empty() ? kDash : escape_html(d.sha256())) +
       "</code></dd>";
  o += fmt::format("<dt>shape</dt><dd>{} rows \xC3\x97 {} columns</dd>", d.rows(), d.columns());
  if (!d.path().empty()) o += "<dt>file</dt><dd><code>" + escape_html(d.path()) + "</code></dd>";
  if (!d.label_column().empty())
    o += "<dt>label</dt><dd><code>" + escape_html(d.label_column()) + "</code></dd>";
  if (d.classes_size() > 0) {
    o += "<dt>classes</dt><dd>";
    bool first = true;
    for (const auto& c : d.classes()) {
      if (!first) o += ", ";
      first = false;
      append_escaped(o, c);
      auto it = d.class_counts().find(c);
      if (it != d.class_counts().end()) o += fmt::format(" ({})", it->second);
    }
    o += "</dd>";
  }
  const auto& l = d.lineage();
  if (!l.source().empty())
    o += "<dt>source</dt><dd><code>" + escape_html(l.source()) + "</code></dd>";
  if (!l.generator().empty()) o += "<dt>generator</dt><dd>" + escape_html(l.generator()) + "</dd>";
  if (l.parameters_size() > 0) {
    o += "<dt>parameters</dt><dd>";
    for (const auto& [k, val] : sorted(l.parameters()))
      o += "<code>" + escape_html(k) + "=" + escape_html(val) + "</code> ";
    o += "</dd>";
  }
  for (const auto& p : l.parent_digests())
    o += "<dt>derived from</dt><dd>" + digest_html(p) + "</dd>";
  for (const auto& t : l.transformations())
    o += "<dt>transformation</dt><dd><code>" + escape_html(t) + "</code></dd>";
  const auto& priv = d.privacy();
  o += std::string("<dt>personal data</dt><dd class=\"privacy\">") +
       (priv.personal_data() ? "<strong class=\"st-bad\">yes</strong>"
                             : "<span class=\"st-ok\">none detected</span>");
  o += "</dd></dl>";
  if (priv.columns_size() > 0) {
    o += "<table class=\"privacy\"><thead><tr><th>column</th><th>kind</th><th "
         "class=\"num\">matches</th>"
         "<th class=\"num\">examined</th><th>detected by</th></tr></thead><tbody>";
    for (const auto& c : priv.columns())
      o += "<tr><td><code>" + escape_html(c.column()) + "</code></td><td>" + escape_html(c.kind()) +
           "</td>" + num_cell(std::to_string(c.matches())) + num_cell(std::to_string(c.rows())) +
           "<td>" + escape_html(c.detected_by()) + "</td></tr>";
    o += "</tbody></table>";
  }
  if (d.schema_size() > 0) {
    o += "<details><summary>schema (" + std::to_string(d.schema_size()) +
         " columns)</summary><div class=\"tablewrap\"><table "
         "class=\"schema\"><thead><tr><th>column</th>"
         "<th>type</th><th class=\"num\">missing</th><th class=\"num\">distinct</th><th "
         "class=\"num\">min</th>"
         "<th class=\"num\">max</th><th class=\"num\">mean</th></tr></thead><tbody>";
    for (const auto& c : d.schema()) {
      o += "<tr><td><code>" + escape_html(c.name()) + "</code></td><td>" + escape_html(c.type()) +
           "</td>" + num_cell(std::to_string(c.missing())) +
           num_cell(std::to_string(c.distinct())) +
           num_cell(c.has_min() ? format_number(c.min()) : kDash) +
           num_cell(c.has_max() ? format_number(c.max()) : kDash) +
           num_cell(c.has_mean() ? format_number(c.mean()) : kDash) + "</tr>";
    }
    o += "</tbody></table></div></details>";
  }
  o += "</div>";
}

void render_data(std::string& o, const View& v) {
  o += "<section id=\"data\"><h2>Data</h2>";
  if (v.datasets.empty()) o += "<p class=\"empty\">No dataset recorded.</p>";
  o += "<div class=\"cards\">";
  for (const auto* d : v.datasets) render_dataset(o, *d);
  o += "</div></section>\n";
}

void render_models(std::string& o, const View& v) {
  o += "<section id=\"models\"><h2>Models</h2>";
  // One column per model: trained ones first, then models only an analysis names.
  std::vector<std::string> names;
  for (const auto* m : v.models) names.push_back(model_label(*m));
  for (const auto* a : v.analyses)
    if (std::find(names.begin(), names.end(), a->model()) == names.end())
      names.push_back(a->model());
  if (names.empty()) {
    o += "<p class=\"empty\">No model trained or analysed in this report.</p></section>\n";
    return;
  }
  auto train_of = [&](size_t i) -> const v1::TrainResponse* {
    return i < v.models.size() ? v.models[i] : nullptr;
  };
  auto analysis_of = [&](const std::string& name) -> const v1::ModelAnalysis* {
    for (const auto* a : v.analyses)
      if (a->model() == name) return a;
    return nullptr;
  };
  o += "<div class=\"tablewrap\"><table class=\"models\"><thead><tr><th></th>";
  for (const auto& n : names)
    o += "<th scope=\"col\" data-model=\"" + escape_html(n) + "\">" + escape_html(n) + "</th>";
  o += "</tr></thead><tbody>";
  auto row = [&](const std::string& label, auto cell) {
    std::string cells;
    bool any = false;
    for (size_t i = 0; i < names.size(); ++i) {
      std::string c = cell(train_of(i), analysis_of(names[i]));
      any = any || !c.empty();
      cells += c.empty() ? "<td class=\"muted\">" + kDash + "</td>" : c;
    }
    if (any) o += "<tr><th scope=\"row\">" + label + "</th>" + cells + "</tr>";
  };
  using T = const v1::TrainResponse*;
  using A = const v1::ModelAnalysis*;
  row("plugin", [](T t, A a) -> std::string {
    if (t) return "<td>" + escape_html(t->model().plugin()) + "</td>";
    return a && !a->plugin().empty() ? "<td>" + escape_html(a->plugin()) + "</td>" : "";
  });
  row("training data", [](T t, A) -> std::string {
    if (!t || !t->has_dataset()) return "";
    return "<td>" + escape_html(t->dataset().name()) + " " + digest_html(t->dataset().sha256()) +
           "</td>";
  });
  row("rows (train / held out)", [](T t, A) -> std::string {
    return t ? num_cell(fmt::format("{} / {}", t->train_rows(), t->test_rows())) : "";
  });
  row("train accuracy", [](T t, A a) -> std::string {
    if (t && t->has_train()) return num_cell(t->train().accuracy());
    return a ? num_cell(a->train_accuracy()) : "";
  });
  row("held-out accuracy", [](T t, A a) -> std::string {
    if (t && t->has_overfitting()) return num_cell(t->overfitting().held_out().accuracy());
    return a ? num_cell(a->held_out_accuracy()) : "";
  });
  row("accuracy gap", [](T t, A) -> std::string {
    return t && t->has_overfitting() ? num_cell(t->overfitting().accuracy_gap(), 3) : "";
  });
  row("log-loss gap", [](T t, A) -> std::string {
    return t && t->has_overfitting() ? num_cell(t->overfitting().log_loss_gap(), 3) : "";
  });
  row("overfitting", [](T t, A a) -> std::string {
    if (t && t->has_overfitting()) {
      const auto& f = t->overfitting();
      return std::string("<td class=\"overfit\">") +
             (f.flagged() ? "<strong class=\"st-bad\">flagged</strong>"
                          : "<span class=\"st-ok\">no</span>") +
             (f.verdict().empty()
                  ? ""
                  : "<br><span class=\"muted\">" + escape_html(f.verdict()) + "</span>") +
             "</td>";
    }
    if (a)
      return a->overfitting() ? "<td><strong class=\"st-bad\">flagged</strong></td>"
                              : "<td>no</td>";
    return "";
  });
  // Complexity: one row per key any model reports, in first-seen order.
  std::vector<std::string> keys;
  for (const auto* m : v.models)
    for (const auto& c : m->complexity())
      if (std::find(keys.begin(), keys.end(), c.key()) == keys.end()) keys.push_back(c.key());
  for (const auto& key : keys)
    row("<code>" + escape_html(key) + "</code>", [&](T t, A) -> std::string {
      if (!t) return "";
      for (const auto& c : t->complexity())
        if (c.key() == key) return num_cell(c.value(), 6);
      return "";
    });
  row("model file", [](T t, A) -> std::string {
    if (!t || t->out().empty()) return "";
    return "<td><code>" + escape_html(t->out()) + "</code><br>" + digest_html(t->model_sha256()) +
           "</td>";
  });
  row("training time", [](T t, A) -> std::string {
    return t && t->duration_seconds() > 0 ? num_cell(format_duration(t->duration_seconds())) : "";
  });
  row("risk", [](T, A a) -> std::string {
    return a && !a->risk().empty() ? "<td class=\"risk-" + escape_html(a->risk()) + "\"><strong>" +
                                         escape_html(a->risk()) + "</strong></td>"
                                   : "";
  });
  row("worst adversarial accuracy", [](T, A a) -> std::string {
    if (!a || a->worst_attack().empty()) return "";
    return "<td>" + format_number(a->worst_adversarial_accuracy()) + " <span class=\"muted\">(" +
           escape_html(a->worst_attack()) + ", eps " + format_number(a->worst_eps()) +
           ")</span></td>";
  });
  row("findings", [](T, A a) -> std::string {
    if (!a) return "";
    return "<td>" + std::to_string(a->findings()) +
           (a->findings() > 0 ? " (worst " + severity_html(a->worst_finding()) + ")" : "") +
           "</td>";
  });
  row("recommendations", [](T, A a) -> std::string {
    if (!a || a->recommendations_size() == 0) return "";
    std::string c = "<td><ul>";
    for (const auto& r : a->recommendations()) c += "<li>" + escape_html(r) + "</li>";
    return c + "</ul></td>";
  });
  o += "</tbody></table></div></section>\n";
}

// Colours: a categorical palette for up to ten models, then golden-angle hues; attacks by dash.
std::string model_color(size_t i) {
  static const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                  "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
  if (i < std::size(palette)) return palette[i];
  return fmt::format("hsl({:.0f} 62% 48%)", std::fmod(static_cast<double>(i) * 137.508, 360.0));
}

std::string attack_dash(size_t i) {
  static const char* dashes[] = {"", "7 4", "2 3", "9 3 2 3", "4 4"};
  return dashes[i % std::size(dashes)];
}

void render_chart_with_table(std::string& o, const dashboard::LineChart& chart,
                             const std::string& caption) {
  o += "<figure class=\"chart-row\" id=\"" + escape_html(chart.id) + "-fig\"><div>" +
       dashboard::render_line_chart(chart) + "</div><div class=\"tablewrap tall\">";
  std::vector<double> eps;
  for (const auto& s : chart.series)
    for (const auto& [x, y] : s.points)
      if (std::find(eps.begin(), eps.end(), x) == eps.end()) eps.push_back(x);
  std::sort(eps.begin(), eps.end());
  o += "<table class=\"chart-table\" data-metric=\"" + escape_html(chart.metric) + "\"><caption>" +
       escape_html(caption) + "</caption><thead><tr><th>model</th><th>attack</th>";
  for (double e : eps) o += "<th class=\"num\" scope=\"col\">eps " + format_number(e) + "</th>";
  o += "</tr></thead><tbody>";
  for (const auto& s : chart.series) {
    o += "<tr><th scope=\"row\">" + dashboard::render_swatch(s) + escape_html(s.model) +
         "</th><td>" + escape_html(s.attack) + "</td>";
    for (double e : eps) {
      auto it =
          std::find_if(s.points.begin(), s.points.end(), [&](auto& p) { return p.first == e; });
      o += it == s.points.end() ? "<td></td>" : num_cell(it->second);
    }
    o += "</tr>";
  }
  o += "</tbody></table></div></figure>";
}

void render_robustness(std::string& o, const View& v) {
  o += "<section id=\"robustness\"><h2>Robustness</h2>";
  if (v.attacks.empty()) {
    o += "<p class=\"empty\">No attack in this report.</p></section>\n";
    return;
  }
  std::vector<std::string> models, attacks;
  for (const auto* a : v.attacks) {
    if (std::find(models.begin(), models.end(), model_label(*a)) == models.end())
      models.push_back(model_label(*a));
    if (std::find(attacks.begin(), attacks.end(), a->attack()) == attacks.end())
      attacks.push_back(a->attack());
  }
  dashboard::LineChart acc{"chart-adv-acc",
                           "adversarial_accuracy",
                           "Adversarial accuracy against eps",
                           "eps",
                           "adversarial accuracy",
                           0,
                           1,
                           {}};
  dashboard::LineChart success{"chart-success",
                               "success_rate",
                               "Attack success rate against eps",
                               "eps",
                               "success rate",
                               0,
                               1,
                               {}};
  for (const auto* a : v.attacks) {
    const size_t mi = std::find(models.begin(), models.end(), model_label(*a)) - models.begin();
    const size_t ai = std::find(attacks.begin(), attacks.end(), a->attack()) - attacks.begin();
    dashboard::ChartSeries s{
        model_label(*a), a->attack(),     model_label(*a) + " \xC2\xB7 " + a->attack(),
        model_color(mi), attack_dash(ai), {}};
    dashboard::ChartSeries t = s;
    for (const auto& p : a->curve()) {
      s.points.emplace_back(p.eps(), p.adversarial_accuracy());
      t.points.emplace_back(p.eps(), p.success_rate());
    }
    acc.series.push_back(std::move(s));
    success.series.push_back(std::move(t));
  }
  o += fmt::format(
      "<p class=\"muted\">{} model(s) \xC3\x97 {} attack(s): colour = model, dash = attack. "
      "Hover a point for its value; the tables hold every number.</p>",
      models.size(), attacks.size());
  render_chart_with_table(o, acc,
                          "Adversarial accuracy (accuracy on adversarial inputs, true labels)");
  render_chart_with_table(o, success,
                          "Success rate (share of initially correct samples the attack flipped)");

  o +=
      "<h3>Attacks</h3><div class=\"tablewrap\"><table class=\"attacks\"><thead><tr><th>model</th>"
      "<th>attack</th><th>method</th><th class=\"num\">samples</th><th>labels</th><th "
      "class=\"num\">clean "
      "accuracy</th><th class=\"num\">empirical robustness</th><th class=\"num\">model queries</th>"
      "<th class=\"num\">time</th><th>parameters</th></tr></thead><tbody>";
  for (const auto* a : v.attacks) {
    o +=
        "<tr><td>" + escape_html(model_label(*a)) + "</td><td>" + escape_html(a->attack()) +
        (a->targeted() ? " <span class=\"muted\">(targeted)</span>" : "") + "</td><td>" +
        escape_html(a->method()) + "</td>" + num_cell(std::to_string(a->samples())) + "<td>" +
        escape_html(a->labels_source()) + "</td>" + num_cell(a->clean_accuracy()) +
        num_cell(a->has_empirical_robustness() ? format_number(a->empirical_robustness()) : kDash) +
        num_cell(a->queries() > 0 ? std::to_string(a->queries()) : kDash) +
        num_cell(format_duration(a->duration_seconds())) + "<td>";
    for (const auto& [k, val] : sorted(a->params()))
      o += "<code>" + escape_html(k) + "=" + escape_html(val) + "</code> ";
    o += "</td></tr>";
  }
  o += "</tbody></table></div></section>\n";
}

void render_findings(std::string& o, const View& v, const HtmlOptions& opt) {
  o += "<section id=\"findings\"><h2>Findings</h2>";
  if (v.scans.empty()) {
    o += "<p class=\"empty\">No scan in this report.</p></section>\n";
    return;
  }
  std::map<v1::Severity, size_t, std::greater<>> counts;
  for (auto s : {v1::CRITICAL, v1::HIGH, v1::MEDIUM, v1::LOW, v1::INFO}) counts[s] = 0;
  for (const auto& f : v.findings) ++counts[f.finding->severity()];
  size_t max_count = 1;
  for (const auto& [s, n] : counts) max_count = std::max(max_count, n);
  size_t files = 0;
  for (const auto* s : v.scans) files += static_cast<size_t>(s->files_size());
  o += fmt::format("<p>{} finding(s) in {} file(s).</p>", v.findings.size(), files);
  o += "<table class=\"severity-counts\"><thead><tr><th>severity</th><th "
       "class=\"num\">findings</th><th></th>"
       "</tr></thead><tbody>";
  for (const auto& [s, n] : counts)
    o += fmt::format(
        "<tr data-severity=\"{0}\"><td>{1}</td><td class=\"num\">{2}</td><td class=\"sev-{0}\">"
        "<span class=\"bar\" style=\"width:{3:.0f}px\"></span></td></tr>",
        escape_html(severity_name(s)), severity_html(s), n,
        200.0 * static_cast<double>(n) / static_cast<double>(max_count));
  o += "</tbody></table>";

  // Files that could not be scanned to the end: their findings are a lower bound.
  std::string incomplete;
  for (const auto* s : v.scans)
    for (const auto& f : s->files()) {
      if (f.status() == v1::SCANNED) continue;
      incomplete += "<tr><td><code>" + escape_html(f.path()) + "</code></td><td>" +
                    escape_html(file_status_name(f.status())) + "</td><td>" +
                    escape_html(f.error());
      for (const auto& st : f.streams())
        if (st.status() != v1::SCANNED && !st.error().empty()) {
          incomplete += "<br><span class=\"muted\">";
          for (const auto& m : st.members()) incomplete += escape_html(m) + " \xE2\x86\x92 ";
          incomplete += escape_html(st.error()) + "</span>";
        }
      incomplete += "</td></tr>";
    }
  o += "<h3>Files not scanned completely</h3>";
  if (incomplete.empty())
    o += "<p class=\"muted\">Every file was scanned to its end.</p>";
  else
    o += "<div class=\"tablewrap\"><table "
         "class=\"incomplete\"><thead><tr><th>file</th><th>status</th>"
         "<th>reason</th></tr></thead><tbody>" +
         incomplete + "</tbody></table></div>";

  o += "<h3>All findings</h3>";
  if (v.findings.empty()) {
    o += "<p class=\"muted\">No findings.</p></section>\n";
    return;
  }
  // Rows are written worst first; the other orders are ranks the stylesheet applies (no script).
  auto location_key = [](const View::FindingRef& f) {
    const auto& l = f.finding->location();
    std::string k = l.file().empty() ? f.file->path() : l.file();
    for (const auto& m : l.members()) k += '\x01' + m;
    return k;
  };
  std::vector<size_t> order(v.findings.size());
  std::iota(order.begin(), order.end(), 0);
  auto F = [&](size_t i) -> const v1::Finding& { return *v.findings[i].finding; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (F(a).severity() != F(b).severity()) return F(a).severity() > F(b).severity();
    return location_key(v.findings[a]) < location_key(v.findings[b]);
  });
  auto rank_by = [&](auto less) {
    std::vector<size_t> idx(order);
    std::stable_sort(idx.begin(), idx.end(), less);
    std::vector<size_t> rank(v.findings.size());
    for (size_t r = 0; r < idx.size(); ++r) rank[idx[r]] = r + 1;
    return rank;
  };
  const auto by_rule = rank_by([&](size_t a, size_t b) { return F(a).rule_id() < F(b).rule_id(); });
  const auto by_loc = rank_by([&](size_t a, size_t b) {
    auto ka = location_key(v.findings[a]), kb = location_key(v.findings[b]);
    if (ka != kb) return ka < kb;
    return F(a).location().offset() < F(b).location().offset();
  });
  const auto by_scanner = rank_by([&](size_t a, size_t b) {
    if (F(a).scanner() != F(b).scanner()) return F(a).scanner() < F(b).scanner();
    return F(a).rule_id() < F(b).rule_id();
  });

  o += "<div class=\"sortable\">"
       "<input type=\"radio\" name=\"fsort\" id=\"fs-sev\" checked>"
       "<input type=\"radio\" name=\"fsort\" id=\"fs-rule\">"
       "<input type=\"radio\" name=\"fsort\" id=\"fs-loc\">"
       "<input type=\"radio\" name=\"fsort\" id=\"fs-scn\">"
       "<div class=\"sortbar\">Sort by <label for=\"fs-sev\">severity</label><label "
       "for=\"fs-rule\">rule</label>"
       "<label for=\"fs-loc\">location</label><label for=\"fs-scn\">scanner</label></div>"
       "<div class=\"tablewrap tall\"><table class=\"findings\"><thead><tr>"
       "<th><label for=\"fs-sev\">severity</label></th><th><label for=\"fs-rule\">rule</label></th>"
       "<th><label for=\"fs-loc\">location (file \xE2\x86\x92 member \xE2\x86\x92 "
       "offset)</label></th>"
       "<th>message</th><th>evidence</th><th><label "
       "for=\"fs-scn\">scanner</label></th></tr></thead><tbody>";
  for (size_t i : order) {
    const auto& f = F(i);
    o += fmt::format(
        "<tr style=\"--r:{};--l:{};--n:{}\" data-severity=\"{}\"><td>{}</td><td>{}</td><td "
        "class=\"loc\">{}"
        "</td><td class=\"msg\">",
        by_rule[i], by_loc[i], by_scanner[i], escape_html(severity_name(f.severity())),
        severity_html(f.severity()), rule_link(opt.rules_url, f.rule_id()),
        location_html(f.location(), *v.findings[i].file));
    append_escaped(o, f.message());
    o += "</td><td class=\"ev\">";
    for (const auto& e : f.evidence())
      o += "<div><span class=\"muted\">" + escape_html(e.key()) + "</span> <code>" +
           escape_html(e.value()) + "</code></div>";
    o += "</td><td>" + escape_html(f.scanner()) + "</td></tr>";
  }
  o += "</tbody></table></div></div>";

  o += "<details><summary>Scanned files</summary><div class=\"tablewrap tall\"><table "
       "class=\"files\"><thead><tr>"
       "<th>file</th><th>status</th><th class=\"num\">size</th><th>sha256</th><th "
       "class=\"num\">findings</th>"
       "<th class=\"num\">time</th></tr></thead><tbody>";
  for (const auto* s : v.scans)
    for (const auto& f : s->files())
      o += "<tr><td><code>" + escape_html(f.path()) + "</code></td><td>" +
           escape_html(file_status_name(f.status())) + "</td>" + num_cell(format_bytes(f.size())) +
           "<td>" + digest_html(f.sha256()) + "</td>" +
           num_cell(std::to_string(f.findings_size())) +
           num_cell(format_duration(f.duration_seconds())) + "</tr>";
  o += "</tbody></table></div></details></section>\n";
}

void render_steps(std::string& o, const View& v) {
  const auto& r = v.report;
  o += "<section id=\"steps\"><h2>Steps</h2>";
  if (r.steps_size() == 0) {
    o += "<p class=\"empty\">No steps.</p></section>\n";
    return;
  }
  double longest = 0;
  for (const auto& s : r.steps()) longest = std::max(longest, s.duration_seconds());
  o += "<div class=\"tablewrap\"><table "
       "class=\"steps\"><thead><tr><th>step</th><th>kind</th><th>status</th>"
       "<th>started</th><th class=\"num\">time</th><th></th><th>MLflow run</th><th>outputs / "
       "error</th></tr>"
       "</thead><tbody>";
  for (const auto& s : r.steps()) {
    const double width = longest > 0 ? 160.0 * s.duration_seconds() / longest : 0;
    o += "<tr><td>" + escape_html(s.id()) + "</td><td>" + escape_html(s.kind()) + "</td><td>" +
         step_status_html(s.status()) + "</td><td>" + escape_html(s.started_at()) + "</td>" +
         num_cell(format_duration(s.duration_seconds())) +
         fmt::format("<td><span class=\"bar muted\" style=\"width:{:.0f}px\"></span></td>", width) +
         "<td><code>" + escape_html(s.mlflow_run_id()) + "</code></td><td>";
    for (const auto& out : s.outputs()) o += "<div><code>" + escape_html(out) + "</code></div>";
    if (!s.error().empty()) o += "<div class=\"st-bad\">" + escape_html(s.error()) + "</div>";
    o += "</td></tr>";
  }
  o += "</tbody></table></div></section>\n";
}

}  // namespace

std::string render_html(const v1::PipelineReport& report, const HtmlOptions& options) {
  const View v = collect(report);
  std::string o;
  o.reserve(64 * 1024 + v.findings.size() * 700);
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  if (options.content_security_policy)
    o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
         "'unsafe-inline'; "
         "img-src data:; base-uri 'none'; form-action 'none'\">";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<meta name=\"color-scheme\" content=\"light dark\">"
       "<meta name=\"generator\" content=\"secmlops " SECMLOPS_VERSION "\"><title>";
  append_escaped(o, options.title.empty() ? "secmlops \xC2\xB7 " + report.name() : options.title);
  o += "</title><style>";
  o += dashboard::kDashboardCss;
  o += "</style></head>\n<body>\n";
  render_banner(o, v, options);
  render_nav(o);
  o += "<main class=\"wrap\">\n";
  render_identity(o, v);
  render_data(o, v);
  render_models(o, v);
  render_robustness(o, v);
  render_findings(o, v, options);
  render_steps(o, v);
  o += "<footer>Rendered by secmlops " SECMLOPS_VERSION
       ". A self-contained page: no script, nothing loaded from "
       "anywhere.</footer>\n</main>\n</body></html>\n";
  return o;
}

}  // namespace secmlops::host
