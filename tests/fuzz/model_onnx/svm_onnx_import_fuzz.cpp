// Fuzzes SVMClassifier import; an accepted model must also predict and give gradients.
#include "svm_onnx.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace svm = secmlops::plugins::rbf_svm;
  try {
    svm::SvmModel m = svm::import_onnx(secmlops::sdk::Bytes(data, size));
    m.set_n_jobs(1);
    if (m.n_features() > 4096) return 0;
    std::vector<double> x(5 * m.n_features(), 0.25), out(5 * m.n_classes()), g(x.size());
    std::vector<int32_t> y(5, 0);
    m.predict_proba(x.data(), 5, out.data());
    m.loss_gradient(x.data(), 5, y.data(), g.data());
  } catch (const secmlops::sdk::Error&) {
  }
  return 0;
}
