// Properties of the attack core that the reference comparison does not cover: random starts,
// bounds, immutable features, restarts and the black-box attacks.
#include "blackbox.hpp"
#include "gradient_attacks.hpp"

#include <secmlops/sdk/plugin.hpp>
#include "support/linear_softmax.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace secmlops::plugins::attacks {
namespace {

test::LinearSoftmax two_class_model() {
  RowMatrix w(3, 2);
  w << 1, -1, 2, -2, -1, 1;
  return test::LinearSoftmax(w, Eigen::RowVectorXd::Zero(2));
}

RowMatrix data(int n, uint64_t seed) {
  Rng rng(seed);
  RowMatrix x(n, 3);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c) x(i, c) = rng.uniform();
  return x;
}

// Labels decided by a nonlinear rule no linear model reproduces exactly, without gradients.
class BoxOracle final : public Oracle {
 public:
  [[nodiscard]] uint32_t n_classes() const override { return 2; }
  [[nodiscard]] bool has_gradient() const override { return false; }
  void predict_proba(const ConstRows& x, RowMatrix& out) override {
    out.resize(x.rows(), 2);
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      bool inside = x(r, 0) > 0.3 && x(r, 0) < 0.7 && x(r, 1) > 0.3 && x(r, 1) < 0.7;
      out(r, 0) = inside ? 1 : 0;
      out(r, 1) = inside ? 0 : 1;
    }
    count(static_cast<uint64_t>(x.rows()));
  }
  void loss_gradient(const ConstRows&, LabelSpan, RowMatrix&) override { FAIL(); }
};

// PGD with random restarts: eps 0.2, step 0.05.
GradientAttackOptions restarting_pgd(Norm norm, int max_iter, uint64_t seed) {
  GradientAttackOptions o;
  o.norm = norm;
  o.eps = 0.2;
  o.eps_step = 0.05;
  o.max_iter = max_iter;
  o.num_random_init = 3;
  o.seed = seed;
  return o;
}

TEST(AttackCore, RandomInitIsReproducibleFromTheSeedAndStaysInTheBall) {
  auto model = two_class_model();
  RowMatrix x = data(50, 1);
  for (Norm norm : {Norm::Inf, Norm::L2, Norm::L1}) {
    GradientAttackOptions o = restarting_pgd(norm, 5, 42);
    RowMatrix a = pgd(model, x, {}, o);
    RowMatrix b = pgd(model, x, {}, o);
    EXPECT_EQ((a - b).cwiseAbs().maxCoeff(), 0.0);
    o.seed = 43;
    RowMatrix c = pgd(model, x, {}, o);
    EXPECT_GT((a - c).cwiseAbs().maxCoeff(), 0.0);
    RowMatrix d = a - x;
    for (Eigen::Index r = 0; r < d.rows(); ++r) {
      double n = norm == Norm::Inf  ? d.row(r).cwiseAbs().maxCoeff()
                 : norm == Norm::L2 ? d.row(r).norm()
                                    : d.row(r).cwiseAbs().sum();
      EXPECT_LE(n, 0.2 + 1e-9);
    }
  }
}

// ART 1.20's random_sphere is uniform in the ball for every norm: for L1 and L2, ‖δ‖/eps follows
// Beta(d, 1), mean d/(d+1) (ART ≤ 1.11's L1 start, eps·√U split, gave 2/3 whatever d); for L∞
// every |δ_j|/eps is uniform, mean 1/2. Signs are symmetric.
TEST(AttackCore, RandomStartsAreUniformInTheBall) {
  const Eigen::Index n = 20000, d = 3;
  RowMatrix x0 = RowMatrix::Zero(n, d);
  for (Eigen::Index r = 0; r < n; ++r) x0(r, 2) = static_cast<double>(r);  // distinct rows
  for (Norm norm : {Norm::L1, Norm::L2, Norm::Inf}) {
    RowMatrix x = x0;
    GradientAttackOptions o;
    o.norm = norm;
    o.seed = 3;
    random_init(x, Eigen::VectorXd::Constant(d, 2.0), o, 0);
    x -= x0;
    double mean = 0, positive = 0;
    for (Eigen::Index r = 0; r < n; ++r) {
      const double size = norm == Norm::L1   ? x.row(r).cwiseAbs().sum() / 2.0
                          : norm == Norm::L2 ? x.row(r).norm() / 2.0
                                             : std::abs(x(r, 1)) / 2.0;
      EXPECT_LE(size, 1.0);
      mean += size / static_cast<double>(n);
      positive += (x(r, 0) > 0) / static_cast<double>(n);
    }
    // Standard errors: 0.0014 (Beta(3, 1)), 0.002 (uniform).
    EXPECT_NEAR(mean, norm == Norm::Inf ? 0.5 : 0.75, 0.007) << norm_name(norm);
    EXPECT_NEAR(positive, 0.5, 0.015) << norm_name(norm);
  }
}

// The project's generator and distributions give these draws on every platform (the sequence of
// std::mt19937_64 is fixed by the standard; the distributions are ours, not the library's).
TEST(AttackCore, SeededDrawsArePinned) {
  Rng rng(42);
  EXPECT_EQ(rng.uniform(), 0x1.82a3befaddcbcp-1);
  EXPECT_EQ(rng.uniform(), 0x1.472f1f73724ap-1);
  // Normal draws go through log and sqrt: equal wherever log is correctly rounded (glibc).
  EXPECT_NEAR(rng.normal(), 0.39797739618378869, 1e-15);
  EXPECT_NEAR(rng.normal(), -0.57409480672026136, 1e-15);
  // A random start through the attack core: the start of the row (0, 0, 0) for seed 7, restart 0
  // (L∞ and L1 use only uniform draws and exact arithmetic: bit for bit).
  auto start = [](Norm norm) {
    RowMatrix x = RowMatrix::Zero(2, 3);
    GradientAttackOptions o;
    o.norm = norm;
    o.seed = 7;
    random_init(x, Eigen::VectorXd::Constant(3, 0.5), o, 0);
    return Eigen::RowVector3d(x.row(0));
  };
  EXPECT_EQ(start(Norm::Inf),
            Eigen::RowVector3d(-0.29635093051612182, 0.28707198536569367, -0.16672116219462607));
  EXPECT_EQ(start(Norm::L1),
            Eigen::RowVector3d(-0.10182453474193909, 0.064814884160747877, 0.22689657378015987));
  EXPECT_LT((start(Norm::L2) -
             Eigen::RowVector3d(-0.29217965090362563, 0.28303131129799547, -0.093819338245204068))
                .cwiseAbs()
                .maxCoeff(),
            1e-15);
}

// A row's random start depends on the seed, the restart and the row, not on the batch it comes
// in: attacking the rows in two halves (as the gRPC server does in batches) gives the same points.
TEST(AttackCore, RandomStartsDoNotDependOnBatching) {
  auto model = two_class_model();
  RowMatrix x = data(30, 8);
  for (Norm norm : {Norm::Inf, Norm::L2, Norm::L1}) {
    GradientAttackOptions o = restarting_pgd(norm, 4, 5);
    RowMatrix whole = pgd(model, x, {}, o);
    RowMatrix first = pgd(model, x.topRows(13), {}, o),
              second = pgd(model, x.bottomRows(17), {}, o);
    EXPECT_EQ(whole.topRows(13), first) << norm_name(norm);
    EXPECT_EQ(whole.bottomRows(17), second) << norm_name(norm);
    RowMatrix a = x, b = x;
    random_init(a, Eigen::VectorXd::Constant(3, 0.2), o, 0);
    random_init(b, Eigen::VectorXd::Constant(3, 0.2), o, 1);
    EXPECT_GT((a - b).cwiseAbs().maxCoeff(), 0.0);  // restarts draw afresh
  }
}

TEST(AttackCore, BoundsAndImmutableFeaturesHold) {
  auto model = two_class_model();
  RowMatrix x = data(30, 2);
  GradientAttackOptions o;
  o.eps = 0.5;
  o.eps_step = 0.1;
  o.max_iter = 20;
  o.num_random_init = 2;
  o.clip_min = Eigen::VectorXd::Constant(3, 0.1);
  o.clip_max = Eigen::VectorXd::Constant(3, 0.9);
  o.mask = Eigen::VectorXd::Ones(3);
  o.mask[2] = 0;
  RowMatrix adv = pgd(model, x, {}, o);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    EXPECT_EQ(adv(r, 2), std::clamp(x(r, 2), 0.1, 0.9));  // only clipping touches it
    // Projection after clipping may leave a rounding error (as in ART), never more.
    EXPECT_GE(adv.row(r).minCoeff(), 0.1 - 1e-12);
    EXPECT_LE(adv.row(r).maxCoeff(), 0.9 + 1e-12);
  }
}

TEST(AttackCore, PgdRestartKeepsTheFirstWhereLaterOnesFail) {
  auto model = two_class_model();
  RowMatrix x = data(40, 3);
  GradientAttackOptions o;
  o.eps = 0.01;  // too small to flip most samples
  o.eps_step = 0.005;
  o.max_iter = 3;
  o.num_random_init = 4;
  o.seed = 9;
  RowMatrix adv = pgd(model, x, {}, o);
  GradientAttackOptions first = o;
  first.num_random_init = 1;
  RowMatrix only_first = pgd(model, x, {}, first);
  Labels clean = model.predict(x), a = model.predict(adv), f = model.predict(only_first);
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    if (a[static_cast<size_t>(i)] == clean[static_cast<size_t>(i)]) {  // no restart succeeded
      EXPECT_EQ((adv.row(i) - only_first.row(i)).cwiseAbs().maxCoeff(), 0.0);
    }
  (void)f;
}

TEST(AttackCore, EarlyStopFreezesSuccessfulSamples) {
  auto model = two_class_model();
  RowMatrix x = data(40, 4);
  GradientAttackOptions o;
  o.eps = 2;
  o.eps_step = 0.05;
  o.max_iter = 60;
  o.early_stop = true;
  RowMatrix adv = pgd(model, x, {}, o);
  Labels clean = model.predict(x), a = model.predict(adv);
  o.early_stop = false;
  RowMatrix full = pgd(model, x, {}, o);
  double stopped = 0, unstopped = 0;
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    EXPECT_NE(a[static_cast<size_t>(i)], clean[static_cast<size_t>(i)]);
    stopped += (adv.row(i) - x.row(i)).norm();
    unstopped += (full.row(i) - x.row(i)).norm();
  }
  EXPECT_LT(stopped, unstopped);  // early stop yields smaller perturbations
}

// The fused L∞ loop (vectorised, one clone per instruction set) gives the same bits as the
// separate direction → advance → project calls, including NaN and zero gradients, bounds and
// infinite steps; odd widths exercise the vector loop's tail.
TEST(AttackCore, FusedInfStepEqualsTheSeparateSteps) {
  Rng rng(11);
  auto u = [&rng] { return rng.uniform(-1, 1); };
  for (Eigen::Index d : {1, 3, 20, 37}) {
    for (bool targeted : {false, true}) {
      for (bool bounded : {false, true}) {
        const Eigen::Index n = 50;
        RowMatrix x(n, d), x0(n, d), g(n, d);
        for (Eigen::Index r = 0; r < n; ++r)
          for (Eigen::Index c = 0; c < d; ++c) {
            x0(r, c) = u();
            x(r, c) = x0(r, c) + 0.2 * u();
            const double v = u();
            g(r, c) = v > 0.8 ? std::nan("") : (v < -0.8 ? 0.0 : v);
          }
        GradientAttackOptions o;
        o.targeted = targeted;
        if (bounded) {
          o.clip_min = Eigen::VectorXd::Constant(1, -0.5);
          o.clip_max = Eigen::VectorXd::LinSpaced(d, 0.3, 0.9);
        }
        Eigen::VectorXd eps = Eigen::VectorXd::LinSpaced(d, 0.05, 0.4);
        Eigen::VectorXd step = Eigen::VectorXd::LinSpaced(d, 0.01, 0.2);
        step[0] = std::numeric_limits<double>::infinity();
        StepKernel k(o, eps, step, d);
        RowMatrix fused = x, g_fused = g;
        k.step(fused, g_fused, x0, true);
        RowMatrix separate = x;
        for (Eigen::Index r = 0; r < n; ++r) {
          Eigen::RowVectorXd gr = g.row(r);
          k.direction(gr.data());
          k.advance(separate.row(r).data(), gr.data());
          k.project(separate.row(r).data(), x0.row(r).data());
        }
        for (Eigen::Index r = 0; r < n; ++r)
          for (Eigen::Index c = 0; c < d; ++c)
            ASSERT_EQ(fused(r, c), separate(r, c)) << "d=" << d << " row " << r << " col " << c;
      }
    }
  }
}

TEST(AttackCore, TargetedWithoutTargetsIsAnError) {
  auto model = two_class_model();
  GradientAttackOptions o;
  o.targeted = true;
  EXPECT_THROW(fgsm(model, data(3, 5), {}, o), sdk::Error);
}

TEST(HopSkipJump, FlipsMostSamplesWithSmallPerturbationsAndCountsQueries) {
  BoxOracle model;
  Rng rng(11);
  auto u = [&rng] { return rng.uniform(0.35, 0.65); };
  RowMatrix x(40, 3);
  for (int i = 0; i < 40; ++i) x.row(i) << u(), u(), 0.5;  // all inside the box: class 0
  HopSkipJumpOptions o;
  o.clip_min = Eigen::VectorXd::Zero(1);
  o.clip_max = Eigen::VectorXd::Ones(1);
  RowMatrix adv = hop_skip_jump(model, x, {}, o);
  Labels a = model.predict(adv);
  int flipped = 0;
  double worst = 0;
  for (int i = 0; i < 40; ++i) {
    flipped += a[static_cast<size_t>(i)] == 1;
    // The nearest way out of the box is at most 0.35 away along one axis.
    worst = std::max(worst, (adv.row(i) - x.row(i)).norm());
  }
  EXPECT_EQ(flipped, 40);
  EXPECT_LT(worst, 0.36);
  EXPECT_GT(model.queries(), 1000u);
}

TEST(HopSkipJump, ImmutableFeatureIsNeverChanged) {
  BoxOracle model;
  RowMatrix x(5, 3);
  x.setConstant(0.5);
  HopSkipJumpOptions o;
  o.clip_min = Eigen::VectorXd::Zero(1);
  o.clip_max = Eigen::VectorXd::Ones(1);
  o.mask = Eigen::VectorXd::Ones(3);
  o.mask[0] = 0;
  RowMatrix adv = hop_skip_jump(model, x, {}, o);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(adv(i, 0), 0.5);
  Labels a = model.predict(adv);
  for (auto l : a) EXPECT_EQ(l, 1);  // escaped through feature 1
}

TEST(Transfer, SurrogateAttackTransfersToALinearTarget) {
  auto target = two_class_model();
  RowMatrix x = data(60, 6);
  TransferOptions o;
  o.attack.eps = 0.5;
  o.attack.eps_step = 0.05;
  o.attack.max_iter = 20;
  RowMatrix adv = transfer_attack(target, x, {}, o);
  Labels clean = target.predict(x), a = target.predict(adv);
  int flipped = 0;
  for (size_t i = 0; i < a.size(); ++i) flipped += a[i] != clean[i];
  EXPECT_GT(flipped, 45);  // the surrogate learns the linear boundary well
  EXPECT_GE(target.queries(), 60u * 11);
}

}  // namespace
}  // namespace secmlops::plugins::attacks
