// MLP plugin: quality against scikit-learn's MLPClassifier, input gradients, ONNX.
#include "mlp.hpp"
#include "model_test_support.hpp"
#include "secmlops/host/model_io.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace {

using namespace secmlops;
using test::load_csv;
using test::session;

host::KeyValues with_seed(host::KeyValues kv, int64_t seed) {
  for (auto& [k, v] : kv)
    if (k == "seed") v = std::to_string(seed);
  return kv;
}

class MlpQuality : public ::testing::TestWithParam<const char*> {};

// Networks depend on their random start: the mean accuracy over the same seeds as the fixture's
// scikit-learn networks is compared.
TEST_P(MlpQuality, MeanAccuracyWithinOnePointOfScikitLearn) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto seeds = test::expected()["mlp_seeds"];
  double sum = 0;
  for (const auto& seed : seeds) {
    auto s = session("mlp");
    s->fit(train.x, train.y, with_seed(test::params_of("mlp"), seed.get<int64_t>()));
    sum += test::accuracy(*s, held);
  }
  double ours = sum / static_cast<double>(seeds.size());
  double theirs = test::expected()[set]["mlp"].get<double>();
  EXPECT_NEAR(ours, theirs, 0.01) << set << ": ours " << ours << ", scikit-learn " << theirs;
}

TEST_P(MlpQuality, InputGradientMatchesFiniteDifferences) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto s = session("mlp");
  s->fit(train.x, train.y, {{"hidden_layer_sizes", "16,8"}, {"max_iter", "20"}});
  auto x = host::take_rows(held.x, {0, 1, 2, 3, 4, 5});
  auto y = host::take(held.y, {0, 1, 2, 3, 4, 5});
  auto grad = s->loss_gradient(x, y);
  test::expect_gradient_matches(
      x, y, grad,
      [&](const host::DenseMatrix& row, int32_t label) {
        return -std::log(s->predict_proba(row)(0, static_cast<uint64_t>(label)));
      },
      1e-6, 1e-5);
}

TEST_P(MlpQuality, OnnxRoundTripIsExactAndPassesTheChecker) {
  std::string set = GetParam();
  auto train = load_csv(set + "_train.csv"), held = load_csv(set + "_test.csv");
  auto s = session("mlp");
  s->fit(train.x, train.y, {{"hidden_layer_sizes", "24,12"}, {"max_iter", "30"}});
  auto bytes = s->export_onnx();
  test::TempDir dir;
  EXPECT_TRUE(test::onnx_checker_accepts(bytes, (dir.path() / "mlp.onnx").string()));
  auto loaded = host::load_model_onnx(test::registry(), bytes, "mlp.onnx");
  EXPECT_EQ(loaded.session->plugin().name(), "mlp");
  EXPECT_EQ(loaded.session->predict_proba(held.x).data, s->predict_proba(held.x).data);
  EXPECT_EQ(loaded.session->loss_gradient(held.x, held.y).data,
            s->loss_gradient(held.x, held.y).data);
}

TEST_P(MlpQuality, ConverterStyleGraphPredictsLikeScikitLearn) {
  std::string set = GetParam();
  auto held = load_csv(set + "_test.csv");
  auto loaded = host::load_model_onnx(
      test::registry(), test::read_bytes(test::fixture("skl_mlp_" + set + ".onnx")), "skl.onnx");
  EXPECT_EQ(loaded.session->plugin().name(), "mlp");
  auto ours = loaded.session->predict_proba(held.x);
  auto theirs = test::load_matrix("skl_mlp_" + set + "_proba.csv", ours.cols);
  ASSERT_EQ(theirs.rows, ours.rows);
  for (size_t i = 0; i < ours.data.size(); ++i)
    ASSERT_NEAR(ours.data[i], theirs.data[i], 1e-6) << i;
}

INSTANTIATE_TEST_SUITE_P(Sets, MlpQuality, ::testing::Values("binary", "multiclass"));

TEST(Mlp, DeterministicForASeedAndDifferentAcrossSeeds) {
  auto train = load_csv("binary_train.csv");
  auto fit = [&](const char* seed) {
    auto s = session("mlp");
    s->fit(train.x, train.y, {{"hidden_layer_sizes", "8"}, {"max_iter", "5"}, {"seed", seed}});
    return s->export_onnx();
  };
  EXPECT_EQ(fit("3"), fit("3"));
  EXPECT_NE(fit("3"), fit("4"));
}

// Large batches are split into row blocks over threads: each row's answer must be the one it gets
// alone.
TEST(Mlp, BlockedBatchPredictionEqualsRowByRow) {
  plugins::mlp::Mlp m;
  plugins::mlp::Options o;
  o.hidden_layer_sizes = {16, 8};
  o.max_iter = 2;
  const Eigen::Index n = 5000, d = 6;
  models::RowMatrix x = models::RowMatrix::Random(n, d);
  std::vector<int32_t> y(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) y[static_cast<size_t>(i)] = static_cast<int32_t>(i % 3);
  const models::ConstRowMap xm(x.data(), n, d);
  m.fit(xm, y, o);
  models::RowMatrix batch(n, 3), one(1, 3);
  m.predict_proba(xm, models::RowMap(batch.data(), n, 3));
  for (Eigen::Index i :
       {Eigen::Index{0}, Eigen::Index{2047}, Eigen::Index{2048}, Eigen::Index{4095}, n - 1}) {
    m.predict_proba(models::ConstRowMap(x.row(i).data(), 1, d), models::RowMap(one.data(), 1, 3));
    // Equal up to rounding: with FMA (the AVX kernels) Eigen's one-row product and its blocked
    // matrix product add in different orders. Blocks are fixed row ranges, so the thread count
    // never changes a result.
    EXPECT_LE((one.row(0) - batch.row(i)).cwiseAbs().maxCoeff(), 1e-15) << "row " << i;
  }
}

TEST(Mlp, DescribesLayersAndDeclinesLinearGraphs) {
  auto train = load_csv("multiclass_train.csv");
  auto s = session("mlp");
  s->fit(train.x, train.y, {{"hidden_layer_sizes", "10,5"}, {"max_iter", "3"}});
  auto e = s->describe();
  std::map<std::string, double> m;
  for (const auto& [k, v] : e.metrics) m[k] = v.first;
  EXPECT_EQ(m["parameters"], 20 * 10 + 10 + 10 * 5 + 5 + 5 * 4 + 4);
  EXPECT_EQ(m["epochs"], 3);
  bool sizes = false;
  for (const auto& [k, v] : e.properties) sizes = sizes || (k == "layer_sizes" && v == "20-10-5-4");
  EXPECT_TRUE(sizes);
  auto other = session("mlp");
  for (const char* f : {"skl_logreg_binary.onnx", "skl_logreg_double_multiclass.onnx",
                        "skl_linear_svm_multiclass.onnx"})
    EXPECT_FALSE(other->import_onnx(test::read_bytes(test::fixture(f)))) << f;
  EXPECT_THROW(other->fit(train.x, train.y, {{"hidden_layer_sizes", "10,x"}}), host::PluginError);
}

}  // namespace

namespace {
TEST(Mlp, MutatedFilesFailCleanly) {
  auto s = secmlops::test::session("mlp");
  for (const char* f : {"skl_mlp_binary.onnx", "skl_mlp_multiclass.onnx"})
    secmlops::test::import_mutants(*s, secmlops::test::read_bytes(secmlops::test::fixture(f)), 1500,
                                   43);
}
}  // namespace
