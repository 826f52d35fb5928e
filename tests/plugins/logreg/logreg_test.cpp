// Logistic regression plugin: quality against scikit-learn, input gradients, ONNX.
#include "logreg.hpp"
#include "model_test_support.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace {

using namespace secmlops;
using test::load_csv;
using test::session;

class LogregQuality : public ::testing::TestWithParam<const char*> {};

TEST_P(LogregQuality, AccuracyWithinOnePointOfScikitLearn) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto s = session("logreg");
  s->fit(train.x, train.y, test::params_of("logreg"));
  double ours = test::accuracy(*s, held);
  double theirs = test::expected()[set]["logreg"].get<double>();
  EXPECT_NEAR(ours, theirs, 0.01) << set << ": ours " << ours << ", scikit-learn " << theirs;
}

TEST_P(LogregQuality, InputGradientMatchesFiniteDifferences) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto s = session("logreg");
  s->fit(train.x, train.y, test::params_of("logreg"));
  auto x = host::take_rows(held.x, {0, 1, 2, 3, 4, 5, 6, 7});
  auto y = host::take(held.y, {0, 1, 2, 3, 4, 5, 6, 7});
  auto grad = s->loss_gradient(x, y);
  test::expect_gradient_matches(x, y, grad, [&](const host::DenseMatrix& row, int32_t label) {
    return -std::log(s->predict_proba(row)(0, static_cast<uint64_t>(label)));
  });
}

TEST_P(LogregQuality, OnnxRoundTripIsExactAndPassesTheChecker) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto s = session("logreg");
  s->fit(train.x, train.y, test::params_of("logreg"));
  auto bytes = s->export_onnx();
  test::TempDir dir;
  EXPECT_TRUE(test::onnx_checker_accepts(bytes, (dir.path() / "lr.onnx").string()));
  auto back = session("logreg");
  ASSERT_TRUE(back->import_onnx(bytes));
  EXPECT_EQ(back->predict_proba(held.x).data, s->predict_proba(held.x).data);
  EXPECT_EQ(back->loss_gradient(held.x, held.y).data, s->loss_gradient(held.x, held.y).data);
}

TEST_P(LogregQuality, ConverterStyleGraphPredictsLikeScikitLearn) {
  std::string set = GetParam();
  auto held = load_csv(set + "_test.csv");
  auto s = session("logreg");
  ASSERT_TRUE(s->import_onnx(test::read_bytes(test::fixture("skl_logreg_" + set + ".onnx"))));
  auto ours = s->predict_proba(held.x);
  auto theirs = test::load_matrix("skl_logreg_" + set + "_proba.csv", ours.cols);
  ASSERT_EQ(theirs.rows, ours.rows);
  for (size_t i = 0; i < ours.data.size(); ++i)
    ASSERT_NEAR(ours.data[i], theirs.data[i], 1e-6) << i;
}

INSTANTIATE_TEST_SUITE_P(Sets, LogregQuality, ::testing::Values("binary", "multiclass"));

TEST(Logreg, DoubleInputMatMulPatternImports) {
  auto held = load_csv("multiclass_test.csv");
  auto s = session("logreg");
  ASSERT_TRUE(s->import_onnx(test::read_bytes(test::fixture("skl_logreg_double_multiclass.onnx"))));
  auto ours = s->predict_proba(held.x);
  auto theirs = test::load_matrix("skl_logreg_multiclass_proba.csv", ours.cols);
  for (size_t i = 0; i < ours.data.size(); ++i)
    ASSERT_NEAR(ours.data[i], theirs.data[i], 1e-6) << i;
}

TEST(Logreg, DeclinesGraphsOfOtherFamilies) {
  auto s = session("logreg");
  for (const char* f : {"skl_linear_svm_binary.onnx", "skl_linear_svm_multiclass.onnx",
                        "skl_mlp_binary.onnx", "skl_mlp_multiclass.onnx"})
    EXPECT_FALSE(s->import_onnx(test::read_bytes(test::fixture(f)))) << f;
  EXPECT_FALSE(s->import_onnx({0x08, 0x01, 0xff, 0xff}));  // not a ModelProto
  EXPECT_FALSE(s->import_onnx({}));
}

TEST(Logreg, SameDataSameModel) {
  auto train = load_csv("multiclass_train.csv");
  auto a = session("logreg"), b = session("logreg");
  a->fit(train.x, train.y, {});
  b->fit(train.x, train.y, {});
  EXPECT_EQ(a->export_onnx(), b->export_onnx());
}

TEST(Logreg, RejectsBadParameters) {
  auto train = load_csv("binary_train.csv");
  auto s = session("logreg");
  try {
    s->fit(train.x, train.y, {{"C", "-1"}});
    FAIL() << "negative C accepted";
  } catch (const host::PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("'C' must be > 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(s->fit(train.x, train.y, {{"solver", "sag"}}), host::PluginError);
  EXPECT_THROW(s->predict_proba(train.x), host::PluginError);  // not fitted
}

TEST(Logreg, DescribeReportsComplexityAndConvergence) {
  auto train = load_csv("multiclass_train.csv");
  auto s = session("logreg");
  s->fit(train.x, train.y, test::params_of("logreg"));
  auto e = s->describe();
  std::map<std::string, double> m;
  for (const auto& [k, v] : e.metrics) m[k] = v.first;
  EXPECT_EQ(m["parameters"], 4 * 20 + 4);
  EXPECT_EQ(m["n_classes"], 4);
  EXPECT_EQ(m["converged"], 1);
  EXPECT_GT(m["solver_iterations"], 1);
  EXPECT_GT(m["coef_l2_norm"], 0);
}

// The core objective: at the optimum the gradient of C·Σloss + ½‖w‖² vanishes (checked through
// a tighter tolerance than the default and the solver's own report).
TEST(LogregCore, ConvergesToStationaryPoint) {
  auto train = load_csv("binary_train.csv");
  plugins::logreg::LogisticRegression lr;
  plugins::logreg::Options o;
  o.tol = 1e-8;
  o.max_iter = 1000;
  models::ConstRowMap x(train.x.data.data(), static_cast<long>(train.x.rows),
                        static_cast<long>(train.x.cols));
  lr.fit(x, train.y, o);
  EXPECT_TRUE(lr.solver().converged) << lr.solver().reason;
  EXPECT_LT(lr.solver().grad_norm_inf, 1e-6);
}

}  // namespace

namespace {
TEST(Logreg, MutatedFilesFailCleanly) {
  auto s = secmlops::test::session("logreg");
  for (const char* f : {"skl_logreg_multiclass.onnx", "skl_logreg_double_multiclass.onnx",
                        "skl_linear_svm_binary.onnx"})
    secmlops::test::import_mutants(*s, secmlops::test::read_bytes(secmlops::test::fixture(f)), 1500,
                                   42);
}
}  // namespace
