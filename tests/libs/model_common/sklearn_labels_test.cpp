// The label the host reports for a model imported from a converter's graph is scikit-learn's
// predict, on every test row and on rows bisected onto the decision boundary (linear models):
// the attacks' labels and every robustness figure rest on it.
#include "model_test_support.hpp"

#include "secmlops/host/model_io.hpp"

#include <gtest/gtest.h>

namespace secmlops::test {
namespace {

class SklearnLabels : public ::testing::TestWithParam<std::string> {};

TEST_P(SklearnLabels, EqualSklearnsPredictOnEveryRow) {
  const std::string prefix = "skl_" + GetParam();
  auto bytes = read_bytes(fixture(prefix + ".onnx"));
  auto loaded = host::load_model_onnx(registry(), bytes, prefix + ".onnx");
  const uint64_t d = loaded.session->info().n_features;
  auto rows = load_matrix(prefix + "_rows.csv", d);
  auto expected = load_matrix(prefix + "_predict.csv", 1);
  ASSERT_EQ(rows.rows, expected.rows);
  auto labels = loaded.session->predict(rows);
  size_t differ = 0;
  for (size_t r = 0; r < labels.size(); ++r)
    differ += labels[r] != static_cast<int32_t>(expected(r, 0));
  EXPECT_EQ(differ, 0u) << differ << " of " << labels.size() << " rows";
}

INSTANTIATE_TEST_SUITE_P(Converted, SklearnLabels,
                         ::testing::Values("logreg_binary", "logreg_multiclass",
                                           "linear_svm_binary", "linear_svm_multiclass",
                                           "mlp_binary", "mlp_multiclass"));

}  // namespace
}  // namespace secmlops::test
