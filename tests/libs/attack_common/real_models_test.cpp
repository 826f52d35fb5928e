// FGSM and PGD through the plugin ABI and the host on the real logistic-regression and linear-SVM
// plugins match the NumPy reference to 1e-6. The reference needs the model's weights:
// - logistic regression: a softmax model is determined (up to a per-class constant that changes
//   neither probabilities nor the cross-entropy gradient) by the log-probability ratios at 0 and
//   at the unit vectors, so the weights are read back from predict_proba;
// - linear SVM: ART's loss uses the raw coefficients (not only their differences), which the
//   probabilities do not determine, so they are read from the model's ONNX export
//   (LinearClassifier), independently of the gradient the plugin computes;
// - RBF SVM: support vectors, coefficients, intercepts and gamma from the core model the ONNX
//   export describes; the attacked model is that export without its Platt parameters (an SVC
//   fitted with probability=False), whose labels are scikit-learn's vote-based predict. The same
//   support vectors and coefficients with a linear, polynomial or sigmoid kernel make the
//   kernel SVMs an imported scikit-learn SVC can be.
#include "secmlops/host/attack_runner.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/host/robustness.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <secmlops/models/linear_onnx.hpp>
#include "svm_model.hpp"
#include "svm_onnx.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <random>

namespace secmlops::host {
namespace {

const Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry();
    reg->load_directories({SECMLOPS_PLUGIN_DIR});
    return reg;
  }();
  return *r;
}

// Equivalent softmax weights (d×k) and biases (k) of a fitted linear model, from probabilities.
void recover_softmax(const ModelSession& m, uint64_t d, nlohmann::json& w, nlohmann::json& b) {
  DenseMatrix probe(d + 1, d);
  for (uint64_t j = 0; j < d; ++j) probe(j + 1, j) = 1.0;
  auto p = m.predict_proba(probe);
  const auto k = p.cols;
  std::vector<double> bias(k);
  for (uint64_t c = 0; c < k; ++c) bias[c] = std::log(p(0, c)) - std::log(p(0, 0));
  w = nlohmann::json::array();
  for (uint64_t j = 0; j < d; ++j) {
    nlohmann::json row = nlohmann::json::array();
    for (uint64_t c = 0; c < k; ++c)
      row.push_back(std::log(p(j + 1, c)) - std::log(p(j + 1, 0)) - bias[c]);
    w.push_back(row);
  }
  b = bias;
}

// The reference's --weights file for the fitted model `m` (see art_reference.py's usage).
using WeightsReader = nlohmann::json (*)(const ModelSession& m, uint64_t d);

nlohmann::json softmax_weights(const ModelSession& m, uint64_t d) {
  nlohmann::json w, b;
  recover_softmax(m, d, w, b);
  return {{"W", w}, {"b", b}};
}

// scikit-learn's LinearSVC layout (coef_ rows × d, one row for two classes) from the export.
nlohmann::json svm_weights(const ModelSession& m, uint64_t /*d*/) {
  auto bytes = m.export_onnx();
  auto g = models::read_linear_graph(sdk::Bytes{bytes.data(), bytes.size()});
  nlohmann::json coef = nlohmann::json::array();
  for (Eigen::Index r = 0; r < g.model.coef.rows(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index c = 0; c < g.model.coef.cols(); ++c) row.push_back(g.model.coef(r, c));
    coef.push_back(row);
  }
  return {{"coef", coef},
          {"intercept", std::vector<double>(g.model.intercept.begin(), g.model.intercept.end())}};
}

// The RBF SVM's exported model without Platt parameters (and with `kernel` when given), and its
// weights for the reference.
std::vector<uint8_t> svm_without_platt(const ModelSession& m,
                                       std::optional<plugins::rbf_svm::Kernel> kernel) {
  auto bytes = m.export_onnx();
  auto core = plugins::rbf_svm::import_onnx(sdk::Bytes{bytes.data(), bytes.size()});
  plugins::rbf_svm::SvmModel plain;
  plain.assign(core.support_vectors(), core.n_support(), core.dual_coef(), core.intercept(), {}, {},
               kernel.value_or(core.kernel()));
  return plugins::rbf_svm::export_onnx(plain);
}

nlohmann::json rbf_weights(const ModelSession& m, uint64_t /*d*/) {
  auto bytes = m.export_onnx();
  auto core = plugins::rbf_svm::import_onnx(sdk::Bytes{bytes.data(), bytes.size()});
  auto rows = [](const plugins::rbf_svm::RowMatrix& a) {
    nlohmann::json out = nlohmann::json::array();
    for (Eigen::Index r = 0; r < a.rows(); ++r)
      out.push_back(std::vector<double>(a.row(r).data(), a.row(r).data() + a.cols()));
    return out;
  };
  return {{"support_vectors", rows(core.support_vectors())},
          {"dual_coef", rows(core.dual_coef())},
          {"n_support", core.n_support()},
          {"intercept", core.intercept()},
          {"gamma", core.gamma()},
          {"kernel", core.kernel().name()},
          {"coef0", core.kernel().coef0},
          {"degree", core.kernel().degree}};
}

void check_against_reference(const std::string& model_name, uint32_t classes,
                             const std::string& loss, WeightsReader read_weights,
                             std::optional<plugins::rbf_svm::Kernel> kernel = {}) {
  auto plugin = registry().find(SECMLOPS_KIND_MODEL, model_name);
  if (!plugin) GTEST_SKIP() << model_name << " plugin not built";
  const uint64_t d = 6, n = 300;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g(0, 1);
  DenseMatrix x(n, d);
  std::vector<int32_t> y(n);
  for (uint64_t i = 0; i < n; ++i) {
    y[i] = static_cast<int32_t>(i % classes);
    for (uint64_t c = 0; c < d; ++c)
      x(i, c) = 0.5 + 0.15 * g(rng) + (c % classes == static_cast<uint64_t>(y[i]) ? 0.1 : 0.0);
  }
  ModelSession fitted(*plugin);
  fitted.fit(x, y, {});
  ModelSession plain(*plugin);
  if (loss == "rbf") {
    ASSERT_TRUE(plain.import_onnx(svm_without_platt(fitted, kernel)));
  }
  ModelSession& m = loss == "rbf" ? plain : fitted;
  test::TempDir dir;
  DenseMatrix sample(40, d, std::vector<double>(x.data.begin(), x.data.begin() + 40 * d));
  nlohmann::json data = {{"x", nlohmann::json::array()},
                         {"y", std::vector<int32_t>(y.begin(), y.begin() + 40)}};
  for (uint64_t r = 0; r < 40; ++r)
    data["x"].push_back(
        std::vector<double>(sample.data.begin() + r * d, sample.data.begin() + (r + 1) * d));
  std::ofstream(dir.path() / "w.json") << read_weights(m, d).dump();
  std::ofstream(dir.path() / "d.json") << data.dump();
  auto out = dir.path() / "ref.json";
  auto r = test::run_command(
      "/usr/bin/python3 " SECMLOPS_SOURCE_DIR "/tests/libs/attack_common/art_reference.py " +
      out.string() + " --model " + loss + " --weights " + (dir.path() / "w.json").string() +
      " --data " + (dir.path() / "d.json").string());
  ASSERT_EQ(r.exit_code, 0);
  auto ref = nlohmann::json::parse(std::ifstream(out));
  int checked = 0;
  for (const auto& c : ref["cases"]) {
    auto attack = registry().find(SECMLOPS_KIND_ATTACK, c["attack"].get<std::string>());
    ASSERT_TRUE(attack);
    KeyValues params;
    for (auto it = c["params"].begin(); it != c["params"].end(); ++it)
      params.emplace_back(it.key(), it.value());
    auto labels = c["labels"].get<std::vector<int32_t>>();
    auto res = run_attack(*attack, m, sample, labels, params);
    double worst = 0;
    for (uint64_t i = 0; i < sample.rows; ++i)
      for (uint64_t j = 0; j < d; ++j)
        worst = std::max(worst, std::abs(res.x_adv(i, j) - c["expected"][i][j].get<double>()));
    EXPECT_LE(worst, 1e-6) << model_name << " " << c["attack"] << " " << c["params"].dump();
    ++checked;
  }
  EXPECT_EQ(checked, 72);
  auto fgsm = registry().find(SECMLOPS_KIND_ATTACK, "fgsm");
  ASSERT_EQ(ref.at("empirical_robustness").size(), 3u);
  for (const auto& [norm, expected] : ref["empirical_robustness"].items()) {
    const double er = empirical_robustness(*fgsm, m, sample,
                                           {{"eps", "0.3"}, {"eps_step", "0.05"}, {"norm", norm}});
    EXPECT_NEAR(er, expected.get<double>(), 1e-6) << model_name << " norm " << norm;
    EXPECT_GT(er, 0) << model_name << " norm " << norm;  // some samples flip
  }
}

TEST(RealModels, LogisticRegressionBinaryMatchesTheReference) {
  check_against_reference("logreg", 2, "softmax", softmax_weights);
}
TEST(RealModels, LogisticRegressionMulticlassMatchesTheReference) {
  check_against_reference("logreg", 3, "softmax", softmax_weights);
}
TEST(RealModels, RbfSvmBinaryMatchesTheReference) {
  check_against_reference("rbf_svm", 2, "rbf", rbf_weights);
}
TEST(RealModels, RbfSvmMulticlassMatchesTheReference) {
  check_against_reference("rbf_svm", 3, "rbf", rbf_weights);
}
// Kernels other than RBF (as imported from scikit-learn's SVC); gamma as `gamma='scale'` gives
// for these inputs (variance ≈ 0.03, six features).
using plugins::rbf_svm::Kernel;
TEST(RealModels, PolynomialKernelSvmMatchesTheReference) {
  check_against_reference("rbf_svm", 3, "rbf", rbf_weights, Kernel{Kernel::poly, 4.0, 1.0, 3});
  check_against_reference("rbf_svm", 2, "rbf", rbf_weights, Kernel{Kernel::poly, 4.0, 0.0, 2});
}
TEST(RealModels, LinearKernelSvmMatchesTheReference) {
  check_against_reference("rbf_svm", 3, "rbf", rbf_weights, Kernel{Kernel::linear, 4.0, 0, 3});
  check_against_reference("rbf_svm", 2, "rbf", rbf_weights, Kernel{Kernel::linear, 4.0, 0, 3});
}
TEST(RealModels, SigmoidKernelSvmMatchesTheReference) {
  check_against_reference("rbf_svm", 3, "rbf", rbf_weights, Kernel{Kernel::sigmoid, 0.5, -1.0, 3});
  check_against_reference("rbf_svm", 2, "rbf", rbf_weights, Kernel{Kernel::sigmoid, 0.5, 0.0, 3});
}
TEST(RealModels, LinearSvmBinaryMatchesTheReference) {
  check_against_reference("linear_svm", 2, "svm", svm_weights);
}
TEST(RealModels, LinearSvmMulticlassMatchesTheReference) {
  check_against_reference("linear_svm", 3, "svm", svm_weights);
}

}  // namespace
}  // namespace secmlops::host
