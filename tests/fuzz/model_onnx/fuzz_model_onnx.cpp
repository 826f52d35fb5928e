// ONNX model import of every model core: any bytes must give a model or a clean sdk::Error.
#include "linear_svm.hpp"
#include "logreg.hpp"
#include "mlp.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  secmlops::sdk::Bytes bytes(data, size);
  try {
    (void)secmlops::plugins::logreg::LogisticRegression::from_onnx(bytes);
  } catch (const secmlops::sdk::Error&) {
  }
  try {
    (void)secmlops::plugins::linear_svm::LinearSvm::from_onnx(bytes);
  } catch (const secmlops::sdk::Error&) {
  }
  try {
    (void)secmlops::plugins::mlp::Mlp::from_onnx(bytes);
  } catch (const secmlops::sdk::Error&) {
  }
  return 0;
}
