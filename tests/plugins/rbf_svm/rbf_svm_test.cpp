// The rbf_svm plugin against scikit-learn: accuracy on the same split, graphs converted from a
// fitted sklearn SVC, ART's loss gradient, ONNX round trip and checker, determinism, bad input.
#include "support/model_fixture_data.hpp"
#include "support/model_plugin_checks.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "svm_model.hpp"
#include "svm_onnx.hpp"

#include "secmlops/host/model_session.hpp"
#include "secmlops/host/registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

namespace secmlops::test {
namespace {

using host::DenseMatrix;
using host::KeyValues;
using host::ModelSession;
using host::PluginError;
using ::testing::HasSubstr;
namespace svm = plugins::rbf_svm;

const std::string kFixtures = RBF_SVM_FIXTURES;

host::Plugin plugin(const std::string& name) {
  return model_plugin(name, {"secmlops_rbf_svm.so", "secmlops_random_forest.so"});
}

const KeyValues kSklearnParams = {{"C", "1.0"}, {"gamma", "scale"}, {"tol", "1e-3"}};

class Quality : public ::testing::TestWithParam<std::string> {};

TEST_P(Quality, AccuracyWithinOnePointOfSklearn) {
  const std::string name = GetParam();
  auto train = read_dataset(kFixtures + "/" + name + "_train.csv");
  auto test = read_dataset(kFixtures + "/" + name + "_test.csv");
  auto ref = read_json(kFixtures + "/sklearn.json")[name];
  ModelSession m(plugin("rbf_svm"));
  m.fit(train.x, train.y, kSklearnParams);
  const double acc = accuracy(m.predict(test.x), test.y);
  const double sk = ref["accuracy"].get<double>();
  EXPECT_NEAR(acc, sk, 0.01) << name << ": ours " << acc << ", scikit-learn " << sk;
  // Visible with --gtest_output=xml (figures for docs and reviews).
  RecordProperty("accuracy", std::to_string(acc));
  RecordProperty("sklearn_accuracy", std::to_string(sk));
  // Same dual problem, same solver family: the support vector counts agree closely too.
  auto d = m.describe();
  double nsv = 0;
  for (const auto& [k, v] : d.metrics)
    if (k == "support_vectors") nsv = v.first;
  double sk_nsv = 0;
  for (int n : ref["n_support"]) sk_nsv += n;
  EXPECT_NEAR(nsv, sk_nsv, 0.05 * sk_nsv);
}

TEST_P(Quality, ConvertedSklearnGraphReproducesSklearn) {
  const std::string name = GetParam();
  auto test = read_dataset(kFixtures + "/" + name + "_test.csv");
  auto bytes = read_bytes(kFixtures + "/" + name + "_sklearn.onnx");
  // Decision values straight from the core model: within 1e-6 of sklearn's decision_function.
  svm::SvmModel core = svm::import_onnx(sdk::Bytes(bytes.data(), bytes.size()));
  auto dec = core.decision(test.x.data.data(), test.x.rows);
  auto sk_dec = read_matrix(kFixtures + "/" + name + "_sklearn_decision.csv");
  ASSERT_EQ(static_cast<uint64_t>(dec.rows()), sk_dec.rows);
  ASSERT_EQ(static_cast<uint64_t>(dec.cols()), sk_dec.cols);
  // The float32 SIMD path predict_proba uses stays close to the float64 decision values.
  auto dec32 = core.decision_f32(test.x.data.data(), test.x.rows);
  EXPECT_LT((dec32 - dec).cwiseAbs().maxCoeff(), 1e-4);
  double worst = 0;
  for (uint64_t r = 0; r < sk_dec.rows; ++r)
    for (uint64_t c = 0; c < sk_dec.cols; ++c)
      worst = std::max(worst,
                       std::fabs(dec(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) -
                                 sk_dec(r, c)));
  EXPECT_LT(worst, 1e-6);

  // Through the plugin: Platt probabilities with sklearn's (float32) probA/probB.
  ModelSession m(plugin("rbf_svm"));
  ASSERT_TRUE(m.import_onnx(bytes));
  auto p = m.predict_proba(test.x);
  auto sk_p = read_matrix(kFixtures + "/" + name + "_sklearn_proba.csv");
  ASSERT_EQ(p.cols, sk_p.cols);
  double worst_p = 0;
  for (size_t i = 0; i < p.data.size(); ++i)
    worst_p = std::max(worst_p, std::fabs(p.data[i] - sk_p.data[i]));
  EXPECT_LT(worst_p, 1e-4);
  EXPECT_TRUE(m.has_gradient());
}

// An SVC fitted without probability=True has no Platt parameters: its labels are libsvm's
// pairwise votes (scikit-learn's predict, and what ART reports for such a model), on the test
// rows and on rows bisected onto the decision boundaries (|decision| < 1e-9), where a float32
// sign or a tie between probabilities would pick the other class.
TEST_P(Quality, WithoutPlattParametersLabelsAreSklearnsPredict) {
  const std::string name = GetParam();
  auto bytes = read_bytes(kFixtures + "/" + name + "_sklearn_noplatt.onnx");
  auto rows = read_matrix(kFixtures + "/" + name + "_noplatt_rows.csv");
  auto expected = read_matrix(kFixtures + "/" + name + "_noplatt_predict.csv");
  auto test = read_dataset(kFixtures + "/" + name + "_test.csv");
  auto ref = read_json(kFixtures + "/sklearn.json")[name];
  ModelSession m(plugin("rbf_svm"));
  ASSERT_TRUE(m.import_onnx(bytes));
  auto labels = m.predict(rows);
  ASSERT_EQ(labels.size(), expected.rows);
  size_t differ = 0;
  for (size_t r = 0; r < labels.size(); ++r)
    differ += labels[r] != static_cast<int32_t>(expected(r, 0));
  EXPECT_EQ(differ, 0u) << name << ": " << differ << " of " << labels.size()
                        << " labels differ from sklearn's predict";
  EXPECT_GE(rows.rows - test.x.rows, 60u);  // the boundary rows are there
  EXPECT_EQ(accuracy(m.predict(test.x), test.y), ref["noplatt_accuracy"].get<double>());
  // The "probabilities" are the shares of the pairwise votes.
  auto p = m.predict_proba(test.x);
  const double pairs = static_cast<double>(p.cols * (p.cols - 1) / 2);
  for (double v : p.data) EXPECT_DOUBLE_EQ(std::round(v * pairs), v * pairs);
}

INSTANTIATE_TEST_SUITE_P(RbfSvm, Quality, ::testing::Values("binary", "multiclass"));

// ART's ScikitlearnSVC.loss_gradient written out literally over scikit-learn's public layout.
DenseMatrix art_reference_gradient(const svm::SvmModel& m, const DenseMatrix& x,
                                   const std::vector<int32_t>& y) {
  const int k = static_cast<int>(m.n_classes());
  const double sign = k == 2 ? 1 : -1;
  std::vector<int> start{0};
  for (int n : m.n_support()) start.push_back(start.back() + n);
  DenseMatrix g(x.rows, x.cols);
  for (uint64_t i = 0; i < x.rows; ++i) {
    const int label = y[i];
    auto kernel_grad = [&](int s, int row, double mult) {
      const double pub = (k == 2 ? -1.0 : 1.0) * m.dual_coef()(row, s);
      double d2 = 0;
      for (uint64_t c = 0; c < x.cols; ++c)
        d2 += std::pow(x(i, c) - m.support_vectors()(s, static_cast<Eigen::Index>(c)), 2);
      const double kv = std::exp(-m.gamma() * d2);
      for (uint64_t c = 0; c < x.cols; ++c)
        g(i, c) += sign * pub * mult * 2 * m.gamma() * -1 * kv *
                   (x(i, c) - m.support_vectors()(s, static_cast<Eigen::Index>(c)));
    };
    for (int other = 0; other < k; ++other) {
      if (other == label) continue;
      const int row = other < label ? other : other - 1;
      const double mult = other < label ? -1 : 1;
      for (int s = start[static_cast<size_t>(label)]; s < start[static_cast<size_t>(label) + 1];
           ++s)
        kernel_grad(s, row, mult);
      for (int s = start[static_cast<size_t>(other)]; s < start[static_cast<size_t>(other) + 1];
           ++s)
        kernel_grad(s, row, mult);
    }
  }
  return g;
}

TEST_P(Quality, LossGradientMatchesArtAndFiniteDifferences) {
  const std::string name = GetParam();
  auto train = read_dataset(kFixtures + "/" + name + "_train.csv");
  auto test = read_dataset(kFixtures + "/" + name + "_test.csv");
  svm::SvmModel core;
  sdk::Config cfg;
  core.fit(train.x.data.data(), train.x.rows, train.x.cols, train.y, svm::parse_params(cfg));
  const uint64_t n = 40;
  DenseMatrix x(n, test.x.cols,
                std::vector<double>(test.x.data.begin(),
                                    test.x.data.begin() + static_cast<long>(n * test.x.cols)));
  std::vector<int32_t> y(test.y.begin(), test.y.begin() + static_cast<long>(n));
  // Every label, not only the true one.
  for (uint64_t r = 0; r < n; ++r) y[r] = static_cast<int32_t>(r % core.n_classes());
  DenseMatrix g(n, x.cols);
  core.loss_gradient(x.data.data(), n, y.data(), g.data.data());
  auto ref = art_reference_gradient(core, x, y);
  // Kernels are evaluated in float32 (the model's own precision) for speed: ~1e-7 relative.
  double scale = 0;
  for (double v : ref.data) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < g.data.size(); ++i)
    EXPECT_NEAR(g.data[i], ref.data[i], 1e-6 * scale + 1e-6 * std::fabs(ref.data[i]));
  const double h = 1e-6;
  for (uint64_t r = 0; r < n; ++r)
    for (uint64_t c = 0; c < x.cols; ++c) {
      DenseMatrix xp = x, xm = x;
      xp(r, c) += h;
      xm(r, c) -= h;
      const double fd = (core.loss(xp.data.data() + r * x.cols, 1, &y[r])[0] -
                         core.loss(xm.data.data() + r * x.cols, 1, &y[r])[0]) /
                        (2 * h);
      EXPECT_NEAR(g(r, c), fd, 1e-6 * scale + 1e-5 * std::fabs(fd)) << "row " << r << " col " << c;
    }
  // The plugin hands out the same gradient.
  ModelSession m(plugin("rbf_svm"));
  m.fit(train.x, train.y, {});
  auto pg = m.loss_gradient(x, y);
  EXPECT_EQ(pg.data, g.data);
}

TEST_P(Quality, OnnxRoundTripIsExactAndPassesTheChecker) {
  const std::string name = GetParam();
  auto train = read_dataset(kFixtures + "/" + name + "_train.csv");
  auto test = read_dataset(kFixtures + "/" + name + "_test.csv");
  ModelSession a(plugin("rbf_svm"));
  a.fit(train.x, train.y, kSklearnParams);
  auto bytes = a.export_onnx();
  ModelSession b(plugin("rbf_svm"));
  ASSERT_TRUE(b.import_onnx(bytes));
  EXPECT_EQ(a.predict_proba(test.x).data, b.predict_proba(test.x).data);
  EXPECT_EQ(a.loss_gradient(test.x, test.y).data, b.loss_gradient(test.x, test.y).data);
  TempDir dir;
  auto path = dir.write("svm.onnx", std::string(bytes.begin(), bytes.end()));
  auto r = run_command(
      "/usr/bin/python3 -c \"import onnx,sys; m=onnx.load(sys.argv[1]); "
      "onnx.checker.check_model(m, full_check=True); "
      "print(m.graph.node[0].op_type)\" " +
      path.string());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("SVMClassifier"));
}

TEST(RbfSvm, DeterministicForASeed) {
  auto train = read_dataset(kFixtures + "/multiclass_train.csv");
  ModelSession a(plugin("rbf_svm")), b(plugin("rbf_svm")), c(plugin("rbf_svm"));
  a.fit(train.x, train.y, {{"seed", "7"}});
  b.fit(train.x, train.y, {{"seed", "7"}, {"n_jobs", "1"}});
  c.fit(train.x, train.y, {{"seed", "8"}});
  EXPECT_EQ(a.export_onnx(), b.export_onnx());
  EXPECT_NE(a.export_onnx(), c.export_onnx());  // other Platt folds
}

TEST(RbfSvm, DescribeReportsSupportVectorsGammaAndC) {
  auto train = read_dataset(kFixtures + "/multiclass_train.csv");
  ModelSession m(plugin("rbf_svm"));
  m.fit(train.x, train.y, {{"C", "2.5"}, {"gamma", "0.125"}});
  std::map<std::string, double> metrics;
  for (const auto& [k, v] : m.describe().metrics) metrics[k] = v.first;
  EXPECT_EQ(metrics["gamma"], 0.125);
  EXPECT_EQ(metrics["C"], 2.5);
  EXPECT_EQ(metrics["support_vectors"], metrics["support_vectors_class_0"] +
                                            metrics["support_vectors_class_1"] +
                                            metrics["support_vectors_class_2"]);
  EXPECT_GT(metrics["support_vectors"], 0);
}

TEST(RbfSvm, BadParametersAreClearInvalidArguments) {
  auto train = read_dataset(kFixtures + "/binary_train.csv");
  const std::vector<std::pair<KeyValues, std::string>> cases = {
      {{{"C", "-1"}}, "parameter 'C' must be a positive number"},
      {{{"C", "lots"}}, "parameter 'C' must be a number, got 'lots'"},
      {{{"gamma", "wide"}}, "parameter 'gamma' must be a number, got 'wide'"},
      {{{"gamma", "-2"}}, "parameter 'gamma' must be scale, auto or a positive number"},
      {{{"kernel", "poly"}}, "parameter 'kernel' must be rbf"},
      {{{"tol", "0"}}, "parameter 'tol' must be a positive number"},
      {{{"max_iter", "0"}}, "parameter 'max_iter' must be -1"},
      {{{"probability_cv", "1"}}, "parameter 'probability_cv' must be 0"},
      // The declaration alone decides which keys exist, and the refusal lists it.
      {{{"degree", "3"}},
       "unknown parameter 'degree' for rbf_svm (valid: C, gamma, tol, max_iter, cache_size, "
       "probability_cv, seed, random_state, n_jobs, kernel)"},
  };
  expect_rejected_parameters(plugin("rbf_svm"), train.x, train.y, cases);
  ModelSession m(plugin("rbf_svm"));
  try {
    m.fit(train.x, std::vector<int32_t>(train.y.size(), 0), {});
    ADD_FAILURE();
  } catch (const PluginError& e) {
    EXPECT_THAT(e.what(), HasSubstr("single class"));
  }
  DenseMatrix bad = train.x;
  bad(3, 1) = std::nan("");
  EXPECT_THROW(m.fit(bad, train.y, {}), PluginError);
}

TEST(RbfSvm, ImportRejectsOtherGraphsAndGarbage) {
  ModelSession m(plugin("rbf_svm"));
  std::vector<uint8_t> garbage{0xff, 0x01, 0x02, 0x03};
  try {
    m.import_onnx(garbage);
    ADD_FAILURE();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
  }
  // A tree ensemble is someone else's model: UNSUPPORTED, i.e. import_onnx returns false.
  auto train = read_dataset(kFixtures + "/binary_train.csv");
  ModelSession rf(plugin("random_forest"));
  rf.fit(train.x, train.y, {{"n_estimators", "3"}});
  EXPECT_FALSE(m.import_onnx(rf.export_onnx()));
  // A truncated SVM graph is malformed.
  ModelSession ok(plugin("rbf_svm"));
  ok.fit(train.x, train.y, {{"probability_cv", "0"}});
  auto bytes = ok.export_onnx();
  bytes.resize(bytes.size() / 2);
  EXPECT_THROW(m.import_onnx(bytes), PluginError);
}

}  // namespace
}  // namespace secmlops::test
