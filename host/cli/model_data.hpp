#pragma once

// What train, predict and describe share: loading a labelled CSV for a model, and printing
// metrics and overfitting reports as text or JSON.
#include "secmlops/host/csv.hpp"
#include "secmlops/host/model_eval.hpp"
#include "secmlops/host/model_io.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace secmlops::cli {

struct LabelledData {
  host::CsvTable table;
  std::vector<std::string> features;  // column names, in matrix order
  host::DenseMatrix x;
  std::vector<std::string> labels;  // empty without a label column
};

// Features are `feature_names` when given (a model's recorded columns), else every column but
// the label.
LabelledData load_data(const std::string& path, const std::optional<std::string>& label_column,
                       const std::vector<std::string>& feature_names = {});

nlohmann::json to_json(const host::ClassificationMetrics& m);
nlohmann::json to_json(const host::OverfittingReport& r);
void print_metrics(std::ostream& out, const std::string& what, const host::ClassificationMetrics& m);
void print_report(std::ostream& out, const host::OverfittingReport& r);
nlohmann::json to_json(const host::Emitted& e);

}  // namespace secmlops::cli
