#include "model_text.hpp"

#include <spdlog/fmt/fmt.h>

namespace secmlops::cli {

void print_metrics(std::ostream& out, const std::string& what, const v1::ClassificationMetrics& m) {
  out << fmt::format("{:<9} {:>7} rows  accuracy {:.4f}  log-loss {:.4f}\n", what, m.rows(),
                     m.accuracy(), m.log_loss());
}

void print_overfitting(std::ostream& out, const v1::OverfittingReport& r) {
  print_metrics(out, "train", r.train());
  print_metrics(out, "held-out", r.held_out());
  out << (r.flagged() ? "WARNING " : "") << r.verdict() << "\n";
}

void print_attack(std::ostream& out, const v1::AttackReport& r) {
  out << fmt::format("attack {} ({}) on model {}: {} samples, labels: {}{}\n", r.attack(),
                     r.method(),
                     r.model_name().empty() ? r.model() : r.model_name() + " (" + r.model() + ")",
                     r.samples(), r.labels_source(), r.targeted() ? ", targeted" : "");
  if (r.labels_source() == "given")
    out << fmt::format("clean accuracy {:.4f}\n", r.clean_accuracy());
  else
    out << "clean accuracy: not measured (the labels are the model's own predictions)\n";
  out << fmt::format("{:>10} {:>10} {:>9} {:>9} {:>10} {:>10} {:>8} {:>10}\n", "eps", "adv_acc",
                     "success", "flip", "mean_linf", "mean_l2", "mean_l0", "queries");
  for (const auto& p : r.curve())
    out << fmt::format(
        "{:>10.4g} {:>10.4f} {:>9.4f} {:>9.4f} {:>10.4g} {:>10.4g} {:>8.3g} {:>10}\n", p.eps(),
        p.adversarial_accuracy(), p.success_rate(), p.flip_rate(), p.perturbation().mean_linf(),
        p.perturbation().mean_l2(), p.perturbation().mean_l0(), p.model_queries());
  if (r.has_empirical_robustness())
    out << fmt::format("empirical robustness (minimal FGSM, ART's definition): {:.6g}\n",
                       r.empirical_robustness());
}

}  // namespace secmlops::cli
