// Maps a rebuilt scikit-learn estimator onto the ONNX layout its model plugin already imports
// (docs/models.md): linear models and MLPs as MatMul/Add graphs with float64 weights, forests as
// the random forest plugin's TreeArrays node (scikit-learn's arrays as raw tensors), SVC as an
// SVMClassifier. A scaler in front of a linear model or an MLP is folded into the first layer's
// weights, in front of trees into the thresholds.
#pragma once

#include "sklearn/pickle_value.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace secmlops::host::sklearn {

struct Converted {
  std::vector<uint8_t> onnx;              // carries secmlops.class_labels and the estimator's name
  std::string estimator;                  // e.g. "Pipeline(StandardScaler, LogisticRegression)"
  std::string version;                    // _sklearn_version as written
  std::string plugin;                     // the model plugin the graph is written for
  std::vector<std::string> class_labels;  // classes_, as text
};

// Throws ImportError (unsupported() set) naming the field and what it holds when the state is
// not what the supported versions write. jobs: threads for a large forest's trees (0: by its
// size and the cores); the bytes, and the fault thrown, do not depend on it.
Converted convert_estimator(const Value& root, int jobs = 0);

// The scikit-learn versions whose state layouts are imported ("1.0" to "1.6").
bool supported_version(const std::string& version);

}  // namespace secmlops::host::sklearn
