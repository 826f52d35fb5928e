// HopSkipJump: a decision-based attack for models without gradients; see docs/attacks.md.
#include "blackbox.hpp"
#include "handle_oracle.hpp"

namespace secmlops::plugins::attacks {
namespace {

class HopSkipJump : public sdk::Attack {
 public:
  static constexpr const char* name = "hsj";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "HopSkipJump decision-based black-box attack (labels only)";
  static constexpr const char* license = "Apache-2.0";
  static constexpr ParameterList options = kHopSkipJumpParameters;
  explicit HopSkipJump(const sdk::Config&) {}
  void generate(sdk::Job& job, const sdk::ModelHandle& model, const sdk::Matrix& x,
                const int32_t* y, const sdk::Config& params, double* out) {
    check_parameters(params, name, kHopSkipJumpParameters);
    auto o = HopSkipJumpOptions::from_config(params, x.cols());
    HandleOracle oracle(model, job);
    RowMatrix adv = hop_skip_jump(oracle, to_rows(x), to_labels(y, x.rows()), o);
    finish(job, adv, out, oracle, "hop-skip-jump (decision-based)");
  }
};

}  // namespace
}  // namespace secmlops::plugins::attacks

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::attacks::HopSkipJump)
