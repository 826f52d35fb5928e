// The pgd plugin through the ABI and the host: targeted runs (one target for all, one per
// sample), its parameters and cancellation.
#include "support/attack_plugins.hpp"

namespace secmlops::test {
namespace {

using host::DenseMatrix;
using host::PluginError;

TEST(PgdPlugin, NeedsAGradient) {
  EXPECT_THAT(attack("pgd").capabilities(), ::testing::Contains("needs_gradient"));
}

// Every sample its own target class (three classes): targeted PGD reaches each row's target.
TEST(PgdPlugin, PerSampleTargets) {
  // Class c scores x·w_c + b_c with w_0 = (1, 0), w_1 = (0, 1), w_2 = (-1, -1).
  auto m = fixture_linear({{"classes", "3"}, {"w", "1,0,-1,0,1,-1"}, {"b", "0,0,0"}});
  DenseMatrix x(6, 2, {0.5, 0.1, 0.5, 0.1, 0.1, 0.5, 0.1, 0.5, -0.3, -0.2, -0.3, -0.2});
  const std::vector<int32_t> targets = {1, 2, 0, 2, 0, 1};
  auto out = host::run_attack(
      attack("pgd"), *m, x, targets,
      {{"targeted", "true"}, {"eps", "2"}, {"eps_step", "0.1"}, {"max_iter", "50"}});
  EXPECT_EQ(m->predict(out.x_adv), targets);
}

TEST(PgdPlugin, TargetedRunReachesTheTarget) {
  auto model = linear_model();
  auto pgd = attack("pgd");
  host::AttackRequest req;
  req.attack = &pgd;
  req.x = grid();
  req.y_true = {0, 0, 1, 1};
  req.targets = {1, 1, 0, 0};
  req.params = {{"norm", "2"}, {"eps_step", "0.05"}, {"max_iter", "40"}};
  req.eps = {1.0};
  auto report = host::run_robustness(*model, req);
  EXPECT_TRUE(report.targeted());
  EXPECT_EQ(report.curve(0).success_rate(), 1.0);
}

TEST(PgdPlugin, UnknownOrInapplicableParametersListTheValidOnes) {
  expect_unknown_parameter(
      "pgd", "num_random_inits",
      "valid: norm, eps, eps_step, targeted, num_random_init, max_iter, decay");
  expect_unknown_parameter("pgd", "minimal", "for pgd");
  auto model = linear_model();
  EXPECT_THROW(host::run_attack(attack("pgd"), *model, grid(), {}, {{"decay", "-1"}}), PluginError);
  EXPECT_NO_THROW(
      host::run_attack(attack("pgd"), *model, grid(), {}, {{"decay", "1.0"}, {"max_iter", "3"}}));
}

TEST(PgdPlugin, CancellationStopsALongAttack) {
  auto model = linear_model();
  auto cancel = std::make_shared<host::CancelToken>();
  cancel->cancel();
  try {
    host::run_attack(attack("pgd"), *model, grid(), {}, {{"max_iter", "100000"}}, cancel);
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_CANCELLED);
  }
}

}  // namespace
}  // namespace secmlops::test
