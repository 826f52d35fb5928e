// The transfer plugin through the ABI and the host: adversarial examples crafted on a surrogate
// trained from the target's answers, without the target's gradient.
#include "support/attack_plugins.hpp"

namespace secmlops::test {
namespace {

TEST(TransferPlugin, NeedsNoGradient) {
  EXPECT_THAT(attack("transfer").capabilities(),
              ::testing::Not(::testing::Contains("needs_gradient")));
}

TEST(TransferPlugin, FoolsTheModelAndReportsQueries) {
  expect_black_box_success("transfer", {0.6});
}

TEST(TransferPlugin, UnknownOrInapplicableParametersListTheValidOnes) {
  expect_unknown_parameter("transfer", "minimal", "for transfer");
}

}  // namespace
}  // namespace secmlops::test
