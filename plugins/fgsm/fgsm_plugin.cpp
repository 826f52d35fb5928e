// FGSM / FGM with ART 1.20's semantics; see docs/attacks.md for every parameter.
#include "gradient_attacks.hpp"
#include "handle_oracle.hpp"

namespace secmlops::plugins::attacks {
namespace {

class Fgsm : public sdk::Attack {
 public:
  static constexpr const char* name = "fgsm";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Fast gradient (sign) method, ART 1.20 semantics, L∞/L1/L2";
  static constexpr const char* license = "Apache-2.0";
  static constexpr ParameterList options = kFgsmParameters;
  static constexpr bool needs_gradient = true;
  explicit Fgsm(const sdk::Config&) {}
  void generate(sdk::Job& job, const sdk::ModelHandle& model, const sdk::Matrix& x,
                const int32_t* y, const sdk::Config& params, double* out) {
    check_parameters(params, name, kFgsmParameters);
    auto o = GradientAttackOptions::from_config(params, x.cols());
    HandleOracle oracle(model, job);
    fgsm(oracle, view_rows(x), to_labels(y, x.rows()), o, output_rows(out, x));
    report(job, oracle, o.minimal ? "fgsm-minimal" : "fgsm");
  }
};

}  // namespace
}  // namespace secmlops::plugins::attacks

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::attacks::Fgsm)
