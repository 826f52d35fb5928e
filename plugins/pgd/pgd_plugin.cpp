// Projected gradient descent with ART 1.20's semantics; see docs/attacks.md.
#include "gradient_attacks.hpp"
#include "handle_oracle.hpp"

namespace secmlops::plugins::attacks {
namespace {

class Pgd : public sdk::Attack {
 public:
  static constexpr const char* name = "pgd";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Projected gradient descent, ART 1.20 semantics, L∞/L1/L2";
  static constexpr const char* license = "Apache-2.0";
  static constexpr ParameterList options = kPgdParameters;
  static constexpr bool needs_gradient = true;
  explicit Pgd(const sdk::Config&) {}
  void generate(sdk::Job& job, const sdk::ModelHandle& model, const sdk::Matrix& x,
                const int32_t* y, const sdk::Config& params, double* out) {
    check_parameters(params, name, kPgdParameters);
    auto o = GradientAttackOptions::from_config(params, x.cols());
    HandleOracle oracle(model, job);
    pgd(oracle, view_rows(x), to_labels(y, x.rows()), o, output_rows(out, x));
    job.metric("attack.iterations", o.max_iter);
    report(job, oracle, o.decay ? "pgd-momentum" : "pgd");
  }
};

}  // namespace
}  // namespace secmlops::plugins::attacks

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::attacks::Pgd)
