#include "model_data.hpp"

#include <spdlog/fmt/fmt.h>

namespace secmlops::cli {

LabelledData load_data(const std::string& path, const std::optional<std::string>& label_column,
                       const std::vector<std::string>& feature_names) {
  LabelledData d;
  d.table = host::read_csv(path);
  std::vector<size_t> cols;
  std::optional<size_t> label_index;
  if (label_column) label_index = d.table.column(*label_column);
  if (!feature_names.empty()) {
    for (const auto& f : feature_names) cols.push_back(d.table.column(f));
  } else {
    for (size_t c = 0; c < d.table.header.size(); ++c)
      if (!label_index || c != *label_index) cols.push_back(c);
  }
  if (cols.empty()) throw host::DataError(path + ": no feature columns");
  for (size_t c : cols) d.features.push_back(d.table.header[c]);
  if (d.table.rows.empty()) throw host::DataError(path + ": no data rows");
  d.x = d.table.numeric(cols);
  if (label_index) d.labels = d.table.text(*label_index);
  return d;
}

nlohmann::json to_json(const host::ClassificationMetrics& m) {
  return {{"rows", m.rows}, {"accuracy", m.accuracy}, {"log_loss", m.log_loss}};
}

nlohmann::json to_json(const host::OverfittingReport& r) {
  return {{"train", to_json(r.train)},
          {"held_out", to_json(r.test)},
          {"accuracy_gap", r.accuracy_gap},
          {"log_loss_gap", r.log_loss_gap},
          {"accuracy_gap_threshold", host::kOverfitAccuracyGap},
          {"log_loss_gap_threshold", host::kOverfitLogLossGap},
          {"flagged", r.flagged},
          {"verdict", r.verdict}};
}

nlohmann::json to_json(const host::Emitted& e) {
  nlohmann::json metrics = nlohmann::json::object(), props = nlohmann::json::object();
  for (const auto& [k, v] : e.metrics) metrics[k] = v.first;  // last value of a key wins
  for (const auto& [k, v] : e.properties) props[k] = v;
  return {{"metrics", metrics}, {"properties", props}};
}

void print_metrics(std::ostream& out, const std::string& what, const host::ClassificationMetrics& m) {
  out << fmt::format("{:<9} {:>7} rows  accuracy {:.4f}  log-loss {:.4f}\n", what, m.rows, m.accuracy, m.log_loss);
}

void print_report(std::ostream& out, const host::OverfittingReport& r) {
  print_metrics(out, "train", r.train);
  print_metrics(out, "held-out", r.test);
  out << (r.flagged ? "WARNING " : "") << r.verdict << "\n";
}

}  // namespace secmlops::cli
