// Linear SVM plugin: quality against scikit-learn's LinearSVC, ART's loss gradient, ONNX.
#include "linear_svm.hpp"
#include "model_test_support.hpp"
#include "secmlops/host/model_io.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace {

using namespace secmlops;
using test::load_csv;
using test::session;

models::ConstRowMap view(const host::DenseMatrix& m) {
  return {m.data.data(), static_cast<long>(m.rows), static_cast<long>(m.cols)};
}

class LinearSvmQuality : public ::testing::TestWithParam<const char*> {};

TEST_P(LinearSvmQuality, AccuracyWithinOnePointOfScikitLearn) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto s = session("linear_svm");
  s->fit(train.x, train.y, test::params_of("linear_svm"));
  double ours = test::accuracy(*s, held);
  double theirs = test::expected()[set]["linear_svm"].get<double>();
  EXPECT_NEAR(ours, theirs, 0.01) << set << ": ours " << ours << ", scikit-learn " << theirs;
}

// ART's loss for linear SVMs is the negative score of the true class; its gradient must match
// central differences of that loss computed from the decision function.
TEST_P(LinearSvmQuality, InputGradientIsArtsLossGradient) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  plugins::linear_svm::LinearSvm svm;
  svm.fit(view(train.x), train.y, {});
  auto x = host::take_rows(held.x, {0, 1, 2, 3, 4, 5});
  auto y = host::take(held.y, {0, 1, 2, 3, 4, 5});
  // Through the plugin ABI.
  auto s = session("linear_svm");
  ASSERT_TRUE(s->import_onnx(svm.to_onnx()));
  auto grad = s->loss_gradient(x, y);
  test::expect_gradient_matches(x, y, grad, [&](const host::DenseMatrix& row, int32_t label) {
    auto f = svm.decision_function(view(row));
    if (f.cols() == 1) return label == 0 ? f(0, 0) : -f(0, 0);  // scores [-f, f]
    return -f(0, label);
  });
  // The same convention as ART's ScikitlearnSVC for LinearSVC: binary y=0 → +w, y=1 → −w.
  if (svm.model().binary()) {
    for (uint64_t r = 0; r < x.rows; ++r)
      EXPECT_EQ(grad(r, 0), (y[r] == 0 ? 1.0 : -1.0) * svm.model().coef(0, 0));
  }
}

TEST_P(LinearSvmQuality, OnnxRoundTripIsExactAndPassesTheChecker) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto s = session("linear_svm");
  s->fit(train.x, train.y, {});
  auto bytes = s->export_onnx();
  test::TempDir dir;
  EXPECT_TRUE(test::onnx_checker_accepts(bytes, (dir.path() / "svm.onnx").string()));
  auto back = session("linear_svm");
  ASSERT_TRUE(back->import_onnx(bytes));
  EXPECT_EQ(back->predict_proba(held.x).data, s->predict_proba(held.x).data);
  // The host routes the file to this plugin, not to logreg, although both read LinearClassifier.
  auto loaded = host::load_model_onnx(test::registry(), bytes, "svm.onnx");
  EXPECT_EQ(loaded.session->plugin().name(), "linear_svm");
}

TEST_P(LinearSvmQuality, ConverterStyleGraphMatchesDocumentedProbabilities) {
  std::string set = GetParam();
  auto held = load_csv(set + "_test.csv");
  auto bytes = test::read_bytes(test::fixture("skl_linear_svm_" + set + ".onnx"));
  auto loaded = host::load_model_onnx(test::registry(), bytes, "skl.onnx");
  EXPECT_EQ(loaded.session->plugin().name(), "linear_svm");
  auto ours = loaded.session->predict_proba(held.x);
  auto theirs = test::load_matrix("skl_linear_svm_" + set + "_proba.csv", ours.cols);
  ASSERT_EQ(theirs.rows, ours.rows);
  for (size_t i = 0; i < ours.data.size(); ++i)
    ASSERT_NEAR(ours.data[i], theirs.data[i], 1e-6) << i;
}

INSTANTIATE_TEST_SUITE_P(Sets, LinearSvmQuality, ::testing::Values("binary", "multiclass"));

TEST(LinearSvm, DeclinesOtherFamilies) {
  auto s = session("linear_svm");
  for (const char* f :
       {"skl_logreg_binary.onnx", "skl_logreg_multiclass.onnx", "skl_mlp_binary.onnx"})
    EXPECT_FALSE(s->import_onnx(test::read_bytes(test::fixture(f)))) << f;
  auto train = load_csv("binary_train.csv");
  auto lr = session("logreg");
  lr->fit(train.x, train.y, {});
  EXPECT_FALSE(s->import_onnx(lr->export_onnx()));
}

TEST(LinearSvm, DeterministicAndDescribed) {
  auto train = load_csv("multiclass_train.csv");
  auto a = session("linear_svm"), b = session("linear_svm");
  a->fit(train.x, train.y, {{"C", "0.5"}});
  b->fit(train.x, train.y, {{"C", "0.5"}});
  EXPECT_EQ(a->export_onnx(), b->export_onnx());
  std::map<std::string, double> m;
  for (const auto& [k, v] : a->describe().metrics) m[k] = v.first;
  EXPECT_EQ(m["parameters"], 4 * 20 + 4);
  EXPECT_GT(m["margin_rows"], 0);
  EXPECT_EQ(m["converged"], 1);
  // Solver statistics survive export → import.
  auto c = session("linear_svm");
  ASSERT_TRUE(c->import_onnx(a->export_onnx()));
  std::map<std::string, double> mc;
  for (const auto& [k, v] : c->describe().metrics) mc[k] = v.first;
  EXPECT_EQ(mc["margin_rows"], m["margin_rows"]);
  EXPECT_EQ(mc["solver_iterations"], m["solver_iterations"]);
}

}  // namespace

namespace {
TEST(LinearSvm, MutatedFilesFailCleanly) {
  auto s = secmlops::test::session("linear_svm");
  for (const char* f : {"skl_linear_svm_binary.onnx", "skl_linear_svm_multiclass.onnx"})
    secmlops::test::import_mutants(*s, secmlops::test::read_bytes(secmlops::test::fixture(f)), 1500,
                                   44);
}
}  // namespace
