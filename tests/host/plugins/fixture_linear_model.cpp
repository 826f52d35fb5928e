// Test model: p = softmax(x W + b) with W and b given as fit parameters ("w" = d*k row-major
// values, "b" = k values); loss = cross-entropy. Lets attack tests run through the ABI and the
// host on a model whose gradient the NumPy reference reproduces exactly.
#include "options.hpp"
#include "support/linear_softmax.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <memory>

namespace secmlops::plugins::attacks::test {
namespace {

class FixtureLinear : public sdk::Model {
 public:
  static constexpr const char* name = "fixture-linear";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "fixed linear softmax model for attack tests";
  explicit FixtureLinear(const sdk::Config&) {}
  void fit(sdk::Job&, const sdk::Matrix& x, std::span<const int32_t>, const sdk::Config& p) {
    const auto d = x.cols();
    const auto k = static_cast<uint64_t>(p.get_int("classes", 2));
    Eigen::VectorXd w = parse_vector("w", p.get_string("w", ""), d * k, false);
    Eigen::VectorXd b = parse_vector("b", p.get_string("b", ""), k, false);
    RowMatrix wm =
        Eigen::Map<RowMatrix>(w.data(), static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(k));
    model_ = std::make_unique<LinearSoftmax>(wm, b.transpose());
    d_ = d;
    gradient_ = p.get_bool("gradient", true);
  }
  // "gradient=false" makes it a model that declares no gradient (like a random forest).
  sdk::ModelInfo info() const { return {d_, model_ ? model_->n_classes() : 0, gradient_}; }
  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) {
    RowMatrix p;
    model_->predict_proba(Eigen::Map<const RowMatrix>(x.data(), static_cast<Eigen::Index>(x.rows()),
                                                      static_cast<Eigen::Index>(x.cols())),
                          p);
    Eigen::Map<RowMatrix>(out, p.rows(), p.cols()) = p;
  }
  void loss_gradient(sdk::Job&, const sdk::Matrix& x, const int32_t* y, double* out) {
    RowMatrix g;
    model_->loss_gradient(Eigen::Map<const RowMatrix>(x.data(), static_cast<Eigen::Index>(x.rows()),
                                                      static_cast<Eigen::Index>(x.cols())),
                          Labels(y, y + x.rows()), g);
    Eigen::Map<RowMatrix>(out, g.rows(), g.cols()) = g;
  }

 private:
  std::unique_ptr<LinearSoftmax> model_;
  uint64_t d_ = 0;
  bool gradient_ = true;
};

}  // namespace
}  // namespace secmlops::plugins::attacks::test

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::attacks::test::FixtureLinear)
