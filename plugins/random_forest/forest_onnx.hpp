// The random forest as an ONNX-ML TreeEnsembleClassifier, laid out the way skl2onnx converts a
// scikit-learn RandomForestClassifier (so files converted in Python import here and ours load
// in any ONNX runtime).
#pragma once

#include "forest.hpp"

#include <cstdint>
#include <vector>

namespace secmlops::plugins::random_forest {

std::vector<uint8_t> export_onnx(const Forest& forest);
// Throws sdk::Error: UNSUPPORTED when the graph is not a plain tree-ensemble classifier,
// INVALID_ARGUMENT when it is one but malformed. jobs: threads for a large forest (0: every core,
// as resolve_jobs); the forest, and the fault thrown, do not depend on it.
Forest import_onnx(sdk::Bytes bytes, int jobs = 0);

}  // namespace secmlops::plugins::random_forest
