// Steps that judge and report what the others produced: gate, report, per-model analysis.
#include "steps.hpp"

#include "secmlops/app/data.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/fmt/fmt.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

namespace secmlops::app::pipeline {
namespace {

void add_gate(v1::StepResult& r, const std::string& step, const std::string& condition, bool passed,
              const std::string& detail, const std::string& subject = "") {
  auto* g = r.add_gates();
  g->set_step(step);
  g->set_condition(condition);
  g->set_passed(passed);
  g->set_detail(detail);
  g->set_subject(subject);
}

// Findings on a model file: the file itself or members inside it.
bool about(const v1::FileReport& f, const std::string& model_file) {
  return !model_file.empty() && f.path() == model_file;
}

std::string severity_name(v1::Severity s) {
  return s == v1::SEVERITY_UNSPECIFIED ? "none" : v1::Severity_Name(s);
}

std::string timestamp() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
  return buf;
}

std::string analysis_text(const v1::ModelAnalysis& a,
                          const std::map<std::string, v1::StepResult>& steps) {
  std::ostringstream o;
  o << "Security analysis of model " << a.model() << " (" << a.plugin() << ")\n";
  o << std::string(60, '=') << "\n";
  o << fmt::format("risk: {}\n\n", a.risk());
  o << fmt::format(
      "training accuracy   {:.4f}\nheld-out accuracy   {:.4f}\noverfitting         {}\n",
      a.train_accuracy(), a.held_out_accuracy(), a.overfitting() ? "detected" : "not detected");
  for (const auto& [id, s] : steps)
    for (const auto& m : s.models())
      if (m.model().name() == a.model()) {
        o << "complexity:\n";
        for (const auto& c : m.complexity())
          o << fmt::format("  {:<24} {:.6g}\n", c.key(), c.value());
        if (!m.model_sha256().empty()) o << "model file sha256: " << m.model_sha256() << "\n";
      }
  o << fmt::format("\nscan: {} finding(s), worst {}\n", a.findings(),
                   severity_name(a.worst_finding()));
  o << "\nadversarial robustness:\n";
  for (const auto& [id, s] : steps)
    for (const auto& r : s.attacks())
      if (r.model_name() == a.model()) {
        o << fmt::format("  {} ({}), clean accuracy {:.4f}\n", r.attack(), r.method(),
                         r.clean_accuracy());
        for (const auto& p : r.curve())
          o << fmt::format(
              "    eps {:<8g} adversarial accuracy {:.4f}  success rate {:.4f}  queries {}\n",
              p.eps(), p.adversarial_accuracy(), p.success_rate(), p.model_queries());
        if (r.has_empirical_robustness())
          o << fmt::format("    empirical robustness {:.6g}\n", r.empirical_robustness());
      }
  o << "\nrecommendations:\n";
  for (const auto& rec : a.recommendations()) o << "  - " << rec << "\n";
  return o.str();
}

std::string summary_table(const std::vector<v1::ModelAnalysis>& analyses) {
  std::string out =
      fmt::format("{:<22} {:<14} {:>9} {:>9} {:>6} {:>9} {:>14} {:>6}\n", "model", "plugin",
                  "train", "held-out", "overfit", "findings", "worst adv acc", "risk");
  for (const auto& a : analyses)
    out += fmt::format(
        "{:<22} {:<14} {:>9.4f} {:>9.4f} {:>6} {:>9} {:>14} {:>6}\n", a.model(), a.plugin(),
        a.train_accuracy(), a.held_out_accuracy(), a.overfitting() ? "yes" : "no", a.findings(),
        a.worst_attack().empty()
            ? std::string("-")
            : fmt::format("{:.3f}@{:g}", a.worst_adversarial_accuracy(), a.worst_eps()),
        a.risk());
  return out;
}

}  // namespace

std::vector<v1::ModelAnalysis> analyse_models(const std::map<std::string, v1::StepResult>& steps) {
  std::vector<v1::ModelAnalysis> out;
  for (const auto& [id, s] : steps)
    for (const auto& m : s.models()) {
      v1::ModelAnalysis a;
      a.set_model(m.model().name());
      a.set_plugin(m.model().plugin());
      a.set_train_accuracy(m.train().accuracy());
      if (m.has_overfitting()) {
        a.set_held_out_accuracy(m.overfitting().held_out().accuracy());
        a.set_overfitting(m.overfitting().flagged());
      } else {
        a.set_held_out_accuracy(m.train().accuracy());
      }
      v1::Severity worst = v1::SEVERITY_UNSPECIFIED;
      uint64_t findings = 0;
      for (const auto& [sid, ss] : steps)
        for (const auto& f : ss.scan().files())
          if (about(f, m.out()))
            for (const auto& fi : f.findings()) {
              ++findings;
              worst = std::max(worst, fi.severity());
            }
      a.set_worst_finding(worst);
      a.set_findings(findings);
      a.set_worst_adversarial_accuracy(1.0);
      for (const auto& [sid, ss] : steps)
        for (const auto& r : ss.attacks())
          if (r.model_name() == a.model())
            for (const auto& p : r.curve())
              if (a.worst_attack().empty() ||
                  p.adversarial_accuracy() < a.worst_adversarial_accuracy()) {
                a.set_worst_adversarial_accuracy(p.adversarial_accuracy());
                a.set_worst_attack(r.attack());
                a.set_worst_eps(p.eps());
              }
      const bool attacked = !a.worst_attack().empty();
      const double adv = a.worst_adversarial_accuracy();
      // Risk: what a reviewer would block on (high), look at (medium), or accept (low).
      std::string risk = "low";
      if (worst >= v1::HIGH || (attacked && adv < 0.3))
        risk = "high";
      else if (worst >= v1::MEDIUM || a.overfitting() || (attacked && adv < 0.6))
        risk = "medium";
      a.set_risk(risk);
      if (worst >= v1::HIGH)
        a.add_recommendations("do not load or ship the model file: the scan found " +
                              severity_name(worst) + " findings");
      if (a.overfitting())
        a.add_recommendations(
            "reduce overfitting (regularisation, shallower trees, more data) before trusting "
            "held-out figures");
      if (attacked && adv < 0.6)
        a.add_recommendations(fmt::format(
            "adversarial accuracy falls to {:.3f} under {} at eps {:g}: consider adversarial "
            "training, input validation and feature bounds (clip_min/clip_max, immutable features)",
            adv, a.worst_attack(), a.worst_eps()));
      if (!attacked)
        a.add_recommendations("no attack was run on this model: add one to measure its robustness");
      if (a.recommendations_size() == 0)
        a.add_recommendations("no action needed beyond signing the model file and monitoring");
      out.push_back(std::move(a));
    }
  return out;
}

void run_gate(const StepContext& c, const GateStep& g, v1::StepResult& r) {
  const auto& id = c.step.id;
  for (const auto& [sid, s] : c.inputs) {
    if (s.has_scan()) {
      if (g.max_severity) {
        v1::Severity worst = s.scan().summary().max_severity();
        std::string where;
        for (const auto& f : s.scan().files())
          for (const auto& fi : f.findings())
            if (fi.severity() == worst && where.empty()) where = f.path();
        const bool ok = worst < *g.max_severity;
        add_gate(r, id, "max_severity < " + v1::Severity_Name(*g.max_severity), ok,
                 "worst finding " + severity_name(worst) + (where.empty() ? "" : " in " + where),
                 sid);
      }
      if (g.fail_on_scan_errors) {
        uint32_t errors = s.scan().summary().files_with_errors();
        add_gate(r, id, "no file left unscanned", errors == 0,
                 std::to_string(errors) + " file(s) not scanned completely", sid);
      }
    }
    for (const auto& m : s.models()) {
      const double held =
          m.has_overfitting() ? m.overfitting().held_out().accuracy() : m.train().accuracy();
      if (g.min_clean_accuracy)
        add_gate(r, id, fmt::format("held-out accuracy >= {:g}", *g.min_clean_accuracy),
                 held >= *g.min_clean_accuracy, fmt::format("{:.4f}", held), m.model().name());
      if (g.fail_on_overfitting && m.has_overfitting())
        add_gate(r, id, "no overfitting", !m.overfitting().flagged(), m.overfitting().verdict(),
                 m.model().name());
    }
    for (const auto& rep : s.attacks())
      for (const auto& b : g.min_adversarial_accuracy) {
        if (!b.attack.empty() && b.attack != rep.attack()) continue;
        for (const auto& p : rep.curve())
          if (std::abs(p.eps() - b.eps) <= 1e-12 * std::max(1.0, b.eps))
            add_gate(r, id,
                     fmt::format("adversarial accuracy under {} at eps {:g} >= {:g}", rep.attack(),
                                 b.eps, b.min_accuracy),
                     p.adversarial_accuracy() >= b.min_accuracy,
                     fmt::format("{:.4f}", p.adversarial_accuracy()), rep.model_name());
      }
    if (g.fail_on_unverified)
      for (const auto& v : s.verifications())
        add_gate(r, id, "signature verifies", v.verified(),
                 v.verified() ? "signed by " + v.signer() : v.reason(), v.model_path());
    if (g.fail_on_personal_data)
      for (const auto& d : s.datasets())
        add_gate(r, id, "no personal data", !d.privacy().personal_data(),
                 d.privacy().personal_data() ? std::to_string(d.privacy().columns_size()) +
                                                   " column(s) look like personal data"
                                             : "none found",
                 d.name());
  }
  if (r.gates_size() == 0)
    fail(AppError::Code::invalid_argument,
         "gate '" + id + "' checked nothing: none of its inputs has what its conditions look at");
}

void run_report(const StepContext& c, const ReportStep& s, v1::StepResult& r) {
  auto analyses = analyse_models(c.inputs);
  for (const auto& a : analyses) *r.add_analyses() = a;
  v1::PipelineReport so_far;
  so_far.set_name(c.spec.name);
  so_far.set_tool_version(SECMLOPS_VERSION);
  for (const auto& id : c.spec.order)
    if (auto it = c.inputs.find(id); it != c.inputs.end()) *so_far.add_steps() = it->second;
  for (const auto& a : analyses) *so_far.add_analyses() = a;
  auto has = [&](const char* f) {
    return std::find(s.formats.begin(), s.formats.end(), f) != s.formats.end();
  };
  const auto dir = c.out_dir / "reports";
  std::filesystem::create_directories(dir);
  if (has("json")) {
    auto p = dir / (c.step.id + ".json");
    write_text(p, host::to_json(so_far));
    r.add_outputs(p.string());
  }
  if (has("sarif"))
    for (const auto& [id, st] : c.inputs)
      if (st.has_scan()) {
        auto p = dir / (id + ".sarif");
        write_text(p, host::to_sarif(st.scan()));
        r.add_outputs(p.string());
      }
  if (has("text")) {
    auto p = dir / "summary.txt";
    write_text(p, summary_table(analyses));
    r.add_outputs(p.string());
  }
  if (has("analysis")) {
    const auto stamp = timestamp();
    for (auto& a : *r.mutable_analyses()) {
      auto txt = dir / (a.model() + "_security_analysis_" + stamp + ".txt");
      auto json = dir / (a.model() + "_security_analysis_" + stamp + ".json");
      a.set_text_file(txt.string());
      a.set_json_file(json.string());
      write_text(txt, analysis_text(a, c.inputs));
      write_text(json, host::to_json(a));
      r.add_outputs(txt.string());
      r.add_outputs(json.string());
    }
  }
}

}  // namespace secmlops::app::pipeline
