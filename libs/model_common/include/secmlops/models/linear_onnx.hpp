// The ONNX encoding shared by linear classifiers (logistic regression, linear SVM): an
// ai.onnx.ml LinearClassifier, or the MatMul + Add pattern converters emit for double inputs,
// followed by the post-processing operators scikit-learn converters put around it.
#pragma once

#include "secmlops/models/eigen.hpp"
#include "secmlops/models/linear_kernels.hpp"
#include "secmlops/models/onnx_graph.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::models {

// Scores of a linear classifier: one row per score (a single row for a binary model, whose
// class scores are then [-f, f]; k rows otherwise).
struct LinearModel {
  RowMatrix coef;    // rows × n_features
  Vector intercept;  // rows
  uint32_t n_classes = 0;

  [[nodiscard]] bool binary() const { return coef.rows() == 1; }
  [[nodiscard]] Eigen::Index n_features() const { return coef.cols(); }
  // n × rows decision values.
  template <class X>
  [[nodiscard]] RowMatrix decision(const X& x) const {
    RowMatrix z = x * coef.transpose();
    z.rowwise() += intercept.transpose();
    return z;
  }
  // Probabilities through `link` (out: n × 2 for a binary model, n × rows otherwise), by the
  // kernel copy for this processor (secmlops/models/isa.hpp).
  void predict_proba(kernels::LinearLink link, const ConstRowMap& x, RowMap out) const;
};

// What an imported graph says beyond the coefficients.
struct LinearGraph {
  LinearModel model;
  // LinearClassifier's post_transform, or the Sigmoid/Softmax node that follows MatMul+Add:
  // "NONE", "LOGISTIC", "SOFTMAX" (others are refused).
  std::string post_transform = "NONE";
  bool l1_normalized = false;  // a Normalizer(norm="L1") follows (one-vs-rest probabilities)
  std::optional<std::string>
      written_by;  // secmlops.model metadata, when a secmlops plugin wrote it
  std::map<std::string, std::string> metadata;  // every metadata_props entry
};

// Reads the linear classifier pattern; throws sdk::Error(UNSUPPORTED) when the graph is
// something else and sdk::Error(PARSE) when it is one but inconsistent.
LinearGraph read_linear_graph(sdk::Bytes bytes);

// Writes `model` as LinearClassifier (float input "X", outputs "label" int64 [N] and
// "probabilities" float [N, k]); a binary model is written as the two rows [-w, w] as
// converters do. `post_transform` is LOGISTIC or SOFTMAX.
// `metadata` adds entries (e.g. solver statistics) next to secmlops.model.
std::vector<uint8_t> write_linear_classifier(
    const LinearModel& model, const std::string& post_transform, const std::string& model_name,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace secmlops::models
