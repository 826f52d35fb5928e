// Transfer attack through a differentiable surrogate fitted to the target's predictions.
#include "blackbox.hpp"
#include "handle_oracle.hpp"

namespace secmlops::plugins::attacks {
namespace {

class Transfer : public sdk::Attack {
 public:
  static constexpr const char* name = "transfer";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Transfer attack: PGD on a logistic-regression surrogate of the target";
  static constexpr const char* license = "Apache-2.0";
  static constexpr ParameterList options = kTransferParameters;
  explicit Transfer(const sdk::Config&) {}
  void generate(sdk::Job& job, const sdk::ModelHandle& model, const sdk::Matrix& x,
                const int32_t* y, const sdk::Config& params, double* out) {
    check_parameters(params, name, kTransferParameters);
    auto o = TransferOptions::from_config(params, x.cols());
    HandleOracle oracle(model, job);
    RowMatrix adv = transfer_attack(oracle, to_rows(x), to_labels(y, x.rows()), o);
    finish(job, adv, out, oracle, "transfer via logistic-regression surrogate");
  }
};

}  // namespace
}  // namespace secmlops::plugins::attacks

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::attacks::Transfer)
