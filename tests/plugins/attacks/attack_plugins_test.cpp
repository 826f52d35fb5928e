// The attack plugins through the ABI and the host: robustness curves, metrics, empirical
// robustness, targeted runs and errors.
#include "secmlops/host/registry.hpp"
#include "secmlops/host/robustness.hpp"
#include "secmlops/v1/report.pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;

const Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry();
    reg->load_directories({SECMLOPS_PLUGIN_DIR, ATTACK_FIXTURE_DIR, SECMLOPS_FIXTURE_PLUGIN_DIR});
    return reg;
  }();
  return *r;
}

Plugin attack(const std::string& name) {
  auto p = registry().find(SECMLOPS_KIND_ATTACK, name);
  if (!p) throw std::runtime_error("attack " + name + " not loaded");
  return *p;
}

// A 2-feature, 2-class linear model: class 1 when x0 + x1 > 1.
std::unique_ptr<ModelSession> linear_model() {
  auto p = registry().find(SECMLOPS_KIND_MODEL, "fixture-linear");
  if (!p) throw std::runtime_error("fixture-linear not loaded");
  auto m = std::make_unique<ModelSession>(*p);
  m->fit(DenseMatrix(1, 2, {0, 0}), {0}, {{"classes", "2"}, {"w", "-4,4,-4,4"}, {"b", "4,-4"}});
  return m;
}

DenseMatrix grid() {
  DenseMatrix x(4, 2, {0.2, 0.2, 0.45, 0.45, 0.7, 0.7, 0.55, 0.6});
  return x;
}

TEST(AttackPlugins, AreListedWithTheirCapabilities) {
  EXPECT_THAT(attack("fgsm").capabilities(), ::testing::Contains("needs_gradient"));
  EXPECT_THAT(attack("pgd").capabilities(), ::testing::Contains("needs_gradient"));
  EXPECT_THAT(attack("hsj").capabilities(), ::testing::Not(::testing::Contains("needs_gradient")));
  EXPECT_THAT(attack("transfer").capabilities(), ::testing::Not(::testing::Contains("needs_gradient")));
}

TEST(AttackPlugins, FgsmCurveAndHostMetrics) {
  auto model = linear_model();
  AttackRequest req;
  auto fgsm = attack("fgsm");
  req.attack = &fgsm;
  req.x = grid();
  req.y_true = {0, 0, 1, 1};
  req.params = {{"norm", "inf"}};
  req.eps = {0.01, 0.1};
  auto report = run_robustness(*model, req);
  EXPECT_EQ(report.clean_accuracy(), 1.0);
  ASSERT_EQ(report.curve_size(), 2);
  // eps 0.01 flips nothing; eps 0.1 moves x0+x1 by 0.2 and flips the two samples within 0.2 of
  // the boundary x0+x1=1: (0.45, 0.45) and (0.55, 0.6).
  EXPECT_EQ(report.curve(0).adversarial_accuracy(), 1.0);
  EXPECT_EQ(report.curve(0).success_rate(), 0.0);
  EXPECT_EQ(report.curve(1).adversarial_accuracy(), 0.5);
  EXPECT_EQ(report.curve(1).success_rate(), 0.5);
  EXPECT_EQ(report.curve(1).flip_rate(), 0.5);
  EXPECT_NEAR(report.curve(1).perturbation().max_linf(), 0.1, 1e-12);
  EXPECT_NEAR(report.curve(1).perturbation().mean_l0(), 2.0, 1e-12);
  EXPECT_NEAR(report.curve(1).perturbation().max_l2(), 0.1 * std::sqrt(2.0), 1e-12);
  EXPECT_GT(report.curve(1).model_queries(), 0u);
  EXPECT_EQ(report.method(), "fgsm");
}

TEST(AttackPlugins, EmpiricalRobustnessFollowsArtsDefinition) {
  auto model = linear_model();
  auto fgsm = attack("fgsm");
  // Minimal FGSM along sign(g) = (±1, ±1): the sample at (0.45, 0.45) flips once 2·0.45+2e > 1,
  // i.e. at the first step e > 0.05; with eps_step 0.01 that is e = 0.06.
  DenseMatrix x(1, 2, {0.45, 0.45});
  double er = empirical_robustness(fgsm, *model, x, {{"eps", "0.3"}, {"eps_step", "0.01"}, {"norm", "inf"}});
  EXPECT_NEAR(er, 0.06 / 0.45, 1e-9);
}

// ART measures in the attack's norm: without `norm`, FGSM's L∞. At (0.3, 0.585) the minimal
// FGSM (steps of 0.01) flips at e = 0.06 (x0 + x1 + 2e > 1): 0.06/0.585 in L∞, where the L2
// ratio of the same points would be 0.06·√2/‖x‖₂.
TEST(AttackPlugins, EmpiricalRobustnessUsesTheAttacksNormByDefault) {
  auto model = linear_model();
  auto fgsm = attack("fgsm");
  DenseMatrix x(1, 2, {0.3, 0.585});
  const KeyValues base = {{"eps", "0.3"}, {"eps_step", "0.01"}};
  EXPECT_NEAR(empirical_robustness(fgsm, *model, x, base), 0.06 / 0.585, 1e-9);
  KeyValues l2 = base;
  l2.emplace_back("norm", "2");
  // The L2 minimal FGSM steps along (1, 1)/√2: flips at e = 0.09 (0.885 + √2·e > 1).
  EXPECT_NEAR(empirical_robustness(fgsm, *model, x, l2), 0.09 / std::sqrt(0.3 * 0.3 + 0.585 * 0.585), 1e-9);
}

// Unknown parameters and parameters of another attack are refused by the plugin itself, so every
// door (CLI, gRPC, pipelines) gets the same error, which lists the valid ones.
TEST(AttackPlugins, UnknownOrInapplicableParametersAreErrorsListingTheValidOnes) {
  auto model = linear_model();
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"pgd", "num_random_inits", "valid: norm, eps, eps_step, targeted, num_random_init, max_iter, decay"},
      {"fgsm", "decay", "valid: norm, eps, eps_step, targeted, num_random_init, minimal"},
      {"fgsm", "max_iter", "for fgsm"},
      {"pgd", "minimal", "for pgd"},
      {"hsj", "eps_step", "for hsj"},
      {"transfer", "minimal", "for transfer"},
  };
  for (const auto& [name, key, expected] : cases) {
    try {
      run_attack(attack(name), *model, grid(), {}, {{key, "1"}});
      ADD_FAILURE() << name << " accepted " << key;
    } catch (const PluginError& e) {
      EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
      EXPECT_THAT(e.what(), HasSubstr("unknown parameter '" + key + "'")) << name;
      EXPECT_THAT(e.what(), HasSubstr(expected)) << name;
    }
  }
  EXPECT_THROW(run_attack(attack("pgd"), *model, grid(), {}, {{"decay", "-1"}}), PluginError);
  EXPECT_NO_THROW(run_attack(attack("pgd"), *model, grid(), {}, {{"decay", "1.0"}, {"max_iter", "3"}}));
}

// Every sample its own target class (three classes): targeted PGD reaches each row's target.
TEST(AttackPlugins, PerSampleTargets) {
  auto p = registry().find(SECMLOPS_KIND_MODEL, "fixture-linear");
  ASSERT_TRUE(p);
  ModelSession m(*p);
  // Class c scores x·w_c + b_c with w_0 = (1, 0), w_1 = (0, 1), w_2 = (-1, -1).
  m.fit(DenseMatrix(1, 2, {0, 0}), {0}, {{"classes", "3"}, {"w", "1,0,-1,0,1,-1"}, {"b", "0,0,0"}});
  DenseMatrix x(6, 2, {0.5, 0.1, 0.5, 0.1, 0.1, 0.5, 0.1, 0.5, -0.3, -0.2, -0.3, -0.2});
  const std::vector<int32_t> targets = {1, 2, 0, 2, 0, 1};
  auto out = run_attack(attack("pgd"), m, x, targets,
                        {{"targeted", "true"}, {"eps", "2"}, {"eps_step", "0.1"}, {"max_iter", "50"}});
  EXPECT_EQ(m.predict(out.x_adv), targets);
}

TEST(AttackPlugins, TargetedPgdReachesTheTarget) {
  auto model = linear_model();
  auto pgd = attack("pgd");
  AttackRequest req;
  req.attack = &pgd;
  req.x = grid();
  req.y_true = {0, 0, 1, 1};
  req.targets = {1, 1, 0, 0};
  req.params = {{"norm", "2"}, {"eps_step", "0.05"}, {"max_iter", "40"}};
  req.eps = {1.0};
  auto report = run_robustness(*model, req);
  EXPECT_TRUE(report.targeted());
  EXPECT_EQ(report.curve(0).success_rate(), 1.0);
}

TEST(AttackPlugins, BlackBoxAttacksWorkWithoutGradientsAndReportQueries) {
  auto model = linear_model();
  for (const char* name : {"hsj", "transfer"}) {
    auto a = attack(name);
    AttackRequest req;
    req.attack = &a;
    req.x = grid();
    req.y_true = {0, 0, 1, 1};
    req.params = {{"clip_min", "0"}, {"clip_max", "1"}};
    if (std::string(name) == "transfer") req.eps = {0.6};
    auto report = run_robustness(*model, req);
    EXPECT_GE(report.curve(0).success_rate(), 0.75) << name;
    EXPECT_GT(report.curve(0).model_queries(), 4u) << name;
    EXPECT_FALSE(report.method().empty());
  }
}

TEST(AttackPlugins, BadParametersAreInvalidArgumentWithTheParameterName) {
  auto model = linear_model();
  auto fgsm = attack("fgsm");
  try {
    run_attack(fgsm, *model, grid(), {}, {{"norm", "3"}});
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("parameter 'norm' must be inf, 1 or 2"));
  }
  EXPECT_THROW(run_attack(fgsm, *model, grid(), {}, {{"eps_scale", "1,2,3"}}), PluginError);
  EXPECT_THROW(run_attack(fgsm, *model, grid(), {}, {{"immutable", "7"}}), PluginError);
}

TEST(AttackPlugins, GradientAttackOnAModelWithoutGradientIsRefused) {
  auto p = registry().find(SECMLOPS_KIND_MODEL, "fixture-linear");
  ASSERT_TRUE(p);
  ModelSession m(*p);
  m.fit(DenseMatrix(1, 2, {0, 0}), {0}, {{"classes", "2"}, {"w", "-4,4,-4,4"}, {"b", "4,-4"}, {"gradient", "false"}});
  try {
    run_attack(attack("fgsm"), m, grid(), {}, {});
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_UNSUPPORTED);
    EXPECT_THAT(e.what(), HasSubstr("use a black-box attack"));
  }
  // The black-box attack works on it.
  EXPECT_NO_THROW(run_attack(attack("hsj"), m, grid(), {}, {}));
}

TEST(AttackPlugins, CancellationStopsALongAttack) {
  auto model = linear_model();
  auto cancel = std::make_shared<CancelToken>();
  cancel->cancel();
  try {
    run_attack(attack("pgd"), *model, grid(), {}, {{"max_iter", "100000"}}, cancel);
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_CANCELLED);
  }
}

}  // namespace
}  // namespace secmlops::host
