// Fuzzes TreeEnsembleClassifier and TreeArrays import; an accepted forest must also predict.
#include "forest_onnx.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace rf = secmlops::plugins::random_forest;
  try {
    rf::Forest f = rf::import_onnx(secmlops::sdk::Bytes(data, size));
    if (f.n_features() > 4096) return 0;
    std::vector<double> x(3 * f.n_features(), 0.5), out(3 * f.n_classes());
    x[0] = -1e30;
    f.predict_proba(x.data(), 3, f.n_features(), out.data(), 1);
  } catch (const secmlops::sdk::Error&) {
  }
  return 0;
}
