// The RBF SVM as an ONNX-ML SVMClassifier, with the attributes skl2onnx writes for a
// scikit-learn SVC(probability=True): libsvm-sign coefficients and rho, vectors_per_class,
// kernel_params [gamma, coef0, degree], prob_a/prob_b.
#pragma once

#include "svm_model.hpp"

#include <cstdint>
#include <vector>

namespace secmlops::plugins::rbf_svm {

std::vector<uint8_t> export_onnx(const SvmModel& model);
// UNSUPPORTED when the graph is not an RBF SVMClassifier; INVALID_ARGUMENT when malformed.
SvmModel import_onnx(sdk::Bytes bytes);

}  // namespace secmlops::plugins::rbf_svm
