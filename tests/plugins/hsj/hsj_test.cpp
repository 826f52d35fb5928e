// The hsj (HopSkipJump) plugin through the ABI and the host: a decision-based attack that needs
// no gradient.
#include "support/attack_plugins.hpp"

namespace secmlops::test {
namespace {

TEST(HsjPlugin, NeedsNoGradient) {
  EXPECT_THAT(attack("hsj").capabilities(), ::testing::Not(::testing::Contains("needs_gradient")));
}

TEST(HsjPlugin, FoolsTheModelAndReportsQueries) { expect_black_box_success("hsj", {}); }

TEST(HsjPlugin, AttacksAModelWithoutGradient) {
  auto m =
      fixture_linear({{"classes", "2"}, {"w", "-4,4,-4,4"}, {"b", "4,-4"}, {"gradient", "false"}});
  EXPECT_NO_THROW(host::run_attack(attack("hsj"), *m, grid(), {}, {}));
}

TEST(HsjPlugin, UnknownOrInapplicableParametersListTheValidOnes) {
  expect_unknown_parameter("hsj", "eps_step", "for hsj");
}

}  // namespace
}  // namespace secmlops::test
