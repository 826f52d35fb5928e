// The fgsm plugin through the ABI and the host: its robustness curve and metrics, ART's empirical
// robustness, and its errors.
#include "support/attack_plugins.hpp"

#include <cmath>

namespace secmlops::test {
namespace {

using host::DenseMatrix;
using host::PluginError;
using ::testing::HasSubstr;

TEST(FgsmPlugin, NeedsAGradient) {
  EXPECT_THAT(attack("fgsm").capabilities(), ::testing::Contains("needs_gradient"));
}

TEST(FgsmPlugin, CurveAndHostMetrics) {
  auto model = linear_model();
  host::AttackRequest req;
  auto fgsm = attack("fgsm");
  req.attack = &fgsm;
  req.x = grid();
  req.y_true = {0, 0, 1, 1};
  req.params = {{"norm", "inf"}};
  req.eps = {0.01, 0.1};
  auto report = host::run_robustness(*model, req);
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

TEST(FgsmPlugin, EmpiricalRobustnessFollowsArtsDefinition) {
  auto model = linear_model();
  auto fgsm = attack("fgsm");
  // Minimal FGSM along sign(g) = (±1, ±1): the sample at (0.45, 0.45) flips once 2·0.45+2e > 1,
  // i.e. at the first step e > 0.05; with eps_step 0.01 that is e = 0.06.
  DenseMatrix x(1, 2, {0.45, 0.45});
  double er = host::empirical_robustness(fgsm, *model, x,
                                         {{"eps", "0.3"}, {"eps_step", "0.01"}, {"norm", "inf"}});
  EXPECT_NEAR(er, 0.06 / 0.45, 1e-9);
}

// ART measures in the attack's norm: without `norm`, FGSM's L∞. At (0.3, 0.585) the minimal
// FGSM (steps of 0.01) flips at e = 0.06 (x0 + x1 + 2e > 1): 0.06/0.585 in L∞, where the L2
// ratio of the same points would be 0.06·√2/‖x‖₂.
TEST(FgsmPlugin, EmpiricalRobustnessUsesTheAttacksNormByDefault) {
  auto model = linear_model();
  auto fgsm = attack("fgsm");
  DenseMatrix x(1, 2, {0.3, 0.585});
  const host::KeyValues base = {{"eps", "0.3"}, {"eps_step", "0.01"}};
  EXPECT_NEAR(host::empirical_robustness(fgsm, *model, x, base), 0.06 / 0.585, 1e-9);
  host::KeyValues l2 = base;
  l2.emplace_back("norm", "2");
  // The L2 minimal FGSM steps along (1, 1)/√2: flips at e = 0.09 (0.885 + √2·e > 1).
  EXPECT_NEAR(host::empirical_robustness(fgsm, *model, x, l2),
              0.09 / std::sqrt(0.3 * 0.3 + 0.585 * 0.585), 1e-9);
}

TEST(FgsmPlugin, UnknownOrInapplicableParametersListTheValidOnes) {
  expect_unknown_parameter("fgsm", "decay",
                           "valid: norm, eps, eps_step, targeted, num_random_init, minimal");
  expect_unknown_parameter("fgsm", "max_iter", "for fgsm");
}

TEST(FgsmPlugin, BadParametersAreInvalidArgumentWithTheParameterName) {
  auto model = linear_model();
  auto fgsm = attack("fgsm");
  try {
    host::run_attack(fgsm, *model, grid(), {}, {{"norm", "3"}});
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("parameter 'norm' must be inf, 1 or 2"));
  }
  EXPECT_THROW(host::run_attack(fgsm, *model, grid(), {}, {{"eps_scale", "1,2,3"}}), PluginError);
  EXPECT_THROW(host::run_attack(fgsm, *model, grid(), {}, {{"immutable", "7"}}), PluginError);
}

TEST(FgsmPlugin, AModelWithoutGradientIsRefusedWithTheWayForward) {
  auto m =
      fixture_linear({{"classes", "2"}, {"w", "-4,4,-4,4"}, {"b", "4,-4"}, {"gradient", "false"}});
  try {
    host::run_attack(attack("fgsm"), *m, grid(), {}, {});
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_UNSUPPORTED);
    EXPECT_THAT(e.what(), HasSubstr("use a black-box attack"));
  }
}

}  // namespace
}  // namespace secmlops::test
