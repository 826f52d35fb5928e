// Every instruction-set variant of the model kernels predicts what the portable one does, on the
// same data, through the models' own entry points (secmlops/models/isa.hpp).
#include "linear_svm.hpp"
#include "logreg.hpp"
#include "mlp.hpp"
#include "svm_model.hpp"

#include <secmlops/models/isa.hpp>
#include <secmlops/models/linear_kernels.hpp>
#include <secmlops/models/rng.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <vector>

namespace {

using namespace secmlops;
using models::Isa;

struct Data {
  long n, d;
  std::vector<double> x;
  std::vector<int32_t> y;
};

// Three classes from a noisy linear rule; `classes` 2 merges the last two.
Data make_data(long n, long d, int classes) {
  models::Rng rng(7);
  Data data{n, d, std::vector<double>(static_cast<size_t>(n * d)),
            std::vector<int32_t>(static_cast<size_t>(n))};
  for (auto& v : data.x) v = rng.uniform(-2.0, 2.0);
  for (long i = 0; i < n; ++i) {
    const double* r = data.x.data() + i * d;
    const double s = r[0] + 0.5 * r[1] - r[2] * r[3] + rng.uniform(-0.5, 0.5);
    data.y[static_cast<size_t>(i)] = std::min(classes - 1, s < -0.5 ? 0 : s < 0.5 ? 1 : 2);
  }
  return data;
}

std::vector<Isa> runnable() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512})
    if (static_cast<int>(isa) <= static_cast<int>(models::best_supported_isa())) out.push_back(isa);
  return out;
}

// Runs `f` (which fills a vector) under every variant the processor has and compares each
// result with the portable one.
void expect_same_under_every_isa(const std::function<std::vector<double>()>& f, double tolerance) {
  const Isa before = models::set_isa(Isa::portable);
  ASSERT_EQ(models::active_isa(), Isa::portable);
  const std::vector<double> reference = f();
  for (Isa isa : runnable()) {
    models::set_isa(isa);
    ASSERT_EQ(models::active_isa(), isa);
    const std::vector<double> got = f();
    ASSERT_EQ(got.size(), reference.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(std::isfinite(got[i])) << models::isa_name(isa) << " at " << i;
      worst = std::max(worst, std::abs(got[i] - reference[i]));
    }
    EXPECT_LE(worst, tolerance) << models::isa_name(isa) << " against portable";
  }
  models::set_isa(before);
}

template <class Model>
std::vector<double> proba(const Model& m, const Data& data, long k) {
  std::vector<double> out(static_cast<size_t>(data.n * k));
  m.predict_proba(models::ConstRowMap(data.x.data(), data.n, data.d),
                  models::RowMap(out.data(), data.n, k));
  return out;
}

template <class Model>
std::vector<double> gradient(const Model& m, const Data& data) {
  std::vector<double> out(data.x.size());
  m.loss_gradient(models::ConstRowMap(data.x.data(), data.n, data.d), data.y.data(),
                  models::RowMap(out.data(), data.n, data.d));
  return out;
}

TEST(IsaVariants, LinearModelsPredictTheSame) {
  for (int classes : {2, 3}) {
    const Data data = make_data(3001, 20, classes);  // an odd row count exercises the tails
    plugins::logreg::LogisticRegression lr;
    lr.fit(models::ConstRowMap(data.x.data(), data.n, data.d), data.y, {});
    expect_same_under_every_isa([&] { return proba(lr, data, classes); }, 1e-12);
    plugins::linear_svm::LinearSvm svm;
    svm.fit(models::ConstRowMap(data.x.data(), data.n, data.d), data.y, {});
    expect_same_under_every_isa([&] { return proba(svm, data, classes); }, 1e-12);
  }
}

TEST(IsaVariants, MlpPredictsAndDifferentiatesTheSame) {
  const Data data = make_data(2500, 17, 3);
  plugins::mlp::Mlp mlp;
  plugins::mlp::Options o;
  o.hidden_layer_sizes = {37, 11};
  o.max_iter = 3;
  mlp.fit(models::ConstRowMap(data.x.data(), data.n, data.d), data.y, o);
  expect_same_under_every_isa([&] { return proba(mlp, data, 3); }, 1e-12);
  expect_same_under_every_isa([&] { return gradient(mlp, data); }, 1e-12);
}

TEST(IsaVariants, RbfSvmPredictsAndDifferentiatesTheSame) {
  const Data data = make_data(601, 20, 3);  // ≈ hundreds of support vectors, odd tails
  plugins::rbf_svm::SvmModel svm;
  sdk::Config none;
  svm.fit(data.x.data(), static_cast<uint64_t>(data.n), static_cast<uint64_t>(data.d), data.y,
          plugins::rbf_svm::parse_params(none));
  // Float32 kernel values: the portable copy rounds products before adding, the others fuse
  // them, so results agree to float precision, not bit for bit.
  expect_same_under_every_isa(
      [&] {
        std::vector<double> out(static_cast<size_t>(data.n) * 3);
        svm.predict_proba(data.x.data(), static_cast<uint64_t>(data.n), out.data());
        return out;
      },
      1e-5);
  expect_same_under_every_isa(
      [&] {
        std::vector<double> out(data.x.size());
        svm.loss_gradient(data.x.data(), static_cast<uint64_t>(data.n), data.y.data(), out.data());
        return out;
      },
      1e-4);
}

TEST(IsaVariants, ProbesRunUnderEveryIsa) {
  std::vector<double> x(1001, 0.5);
  for (Isa isa : runnable()) {
    using namespace models::kernels;
    EXPECT_DOUBLE_EQ(models::pick(isa, &isa_portable::read_once, &isa_avx2::read_once,
                                  &isa_avx512::read_once)(x.data(), static_cast<int64_t>(x.size())),
                     500.5);
    double sink = 0;
    EXPECT_GT(models::pick(isa, &isa_portable::peak_flops, &isa_avx2::peak_flops,
                           &isa_avx512::peak_flops)(10, &sink),
              0);
    EXPECT_TRUE(std::isfinite(sink));
  }
}

// SECMLOPS_CPU lowers the choice and never raises it above what the processor supports; CTest
// runs this with SECMLOPS_CPU=portable as well as without it.
TEST(IsaEnvironment, VariableLowersTheChoice) {
  const char* env = std::getenv("SECMLOPS_CPU");
  Isa expected = models::best_supported_isa();
  if (env != nullptr) {
    auto wanted = models::parse_isa(env);
    if (wanted && static_cast<int>(*wanted) < static_cast<int>(expected)) expected = *wanted;
  }
  EXPECT_EQ(models::active_isa(), expected) << "SECMLOPS_CPU=" << (env ? env : "(unset)");
  // The choice can be lowered for a test but never raised above the processor.
  const Isa before = models::set_isa(Isa::avx512);
  EXPECT_EQ(models::active_isa(), models::best_supported_isa());
  models::set_isa(before);
}

}  // namespace
