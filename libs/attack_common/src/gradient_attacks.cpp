#include "gradient_attacks.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <algorithm>

namespace secmlops::plugins::attacks {

using sdk::Error;

Labels attack_labels(Oracle& model, const ConstRows& x, Labels y, bool targeted) {
  if (!y.empty()) {
    if (y.size() != static_cast<size_t>(x.rows()))
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels and samples differ in number");
    return y;
  }
  if (targeted) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "a targeted attack needs target labels");
  return model.predict(x);
}

namespace {

void check_shapes(Eigen::Index d, const GradientAttackOptions& o) {
  auto ok = [&](const Eigen::VectorXd& v) {
    return v.size() == 0 || v.size() == 1 || v.size() == d;
  };
  if (!ok(o.clip_min) || !ok(o.clip_max) || !(o.mask.size() == 0 || o.mask.size() == d) ||
      !(o.eps_scale.size() == 0 || o.eps_scale.size() == d))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                "a per-feature parameter does not match the number of features");
}

// dst ← src: one memcpy when both are densely packed (the usual case), else row by row.
void copy_rows(Eigen::Ref<RowMatrix> dst, const ConstRows& src) {
  if (dst.outerStride() == dst.cols() && src.outerStride() == src.cols())
    std::copy_n(src.data(), src.size(), dst.data());
  else
    dst = src;
}

// Rows per model call. A step asks the model for the gradient of one block of rows and steps
// those rows while the block is in cache; the block's buffer (about 64 KiB) is small enough
// that the allocator reuses it instead of mapping fresh pages from the system on every attack.
Eigen::Index block_rows(Eigen::Index d) {
  return std::max<Eigen::Index>(16, 8192 / std::max<Eigen::Index>(1, d));
}

// One gradient step, in place, on every row of `batch` that is not frozen (StepKernel::step).
// The model sees consecutive row ranges of the batch (no copies); rows are independent, so
// this is the same as one call on the whole batch (ART itself batches gradient calls).
void gradient_step(Oracle& model, Eigen::Ref<RowMatrix> batch, const ConstRows& x0, const Labels& y,
                   const StepKernel& kernel, RowMatrix& grad, bool project_ball,
                   const std::vector<bool>* frozen = nullptr, const Momentum& momentum = {}) {
  const Eigen::Index n = batch.rows(), block = block_rows(batch.cols());
  for (Eigen::Index r0 = 0; r0 < n; r0 += block) {
    const Eigen::Index nb = std::min(block, n - r0);
    model.loss_gradient(batch.middleRows(r0, nb),
                        LabelSpan(y).subspan(static_cast<size_t>(r0), static_cast<size_t>(nb)),
                        grad);
    kernel.step(batch.middleRows(r0, nb), grad, x0.middleRows(r0, nb), project_ball, frozen, r0,
                momentum);
  }
}

// Grow eps by eps_step along the gradient direction at x; each sample keeps the first eps at
// which it succeeds (ART's _minimal_perturbation: no projection, no random start).
void minimal_fgsm(Oracle& model, const ConstRows& x, const Labels& labels,
                  const GradientAttackOptions& o, const Eigen::VectorXd& eps,
                  const Eigen::VectorXd& step, Eigen::Ref<RowMatrix> adv) {
  const StepKernel kernel(o, eps, step, x.cols());
  RowMatrix dir;
  model.loss_gradient(x, labels, dir);
  for (Eigen::Index i = 0; i < x.rows(); ++i) kernel.direction(dir.row(i).data());
  copy_rows(adv, x);
  std::vector<Eigen::Index> active(static_cast<size_t>(x.rows()));
  for (Eigen::Index i = 0; i < x.rows(); ++i) active[static_cast<size_t>(i)] = i;
  Eigen::VectorXd current = step;
  // ART compares scalars; with per-feature scales every feature grows in step.
  while (!active.empty() && (current.array() <= eps.array() + 0.0).all()) {
    model.check_cancelled();
    for (auto i : active) {
      adv.row(i) = x.row(i);
      kernel.advance(adv.row(i).data(), dir.row(i).data(), current.data());
    }
    Labels pred = model.predict(adv);
    std::vector<Eigen::Index> still;
    for (auto i : active) {
      bool success = o.targeted ? pred[static_cast<size_t>(i)] == labels[static_cast<size_t>(i)]
                                : pred[static_cast<size_t>(i)] != labels[static_cast<size_t>(i)];
      if (!success) still.push_back(i);
    }
    active.swap(still);
    current += step;
  }
}

void check_output(const ConstRows& x, const Eigen::Ref<RowMatrix>& out) {
  if (out.rows() != x.rows() || out.cols() != x.cols())
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the output does not have the input's shape");
}

}  // namespace

// The adversarial batch lives in `out` (the host's buffer in the plugins), gradients come one
// block of rows at a time, every step is one fused pass per row (StepKernel), and the model is
// asked for predictions only where the algorithm needs them (missing labels, restarts, early
// stop, minimal FGSM).
void fgsm(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o,
          Eigen::Ref<RowMatrix> out) {
  check_shapes(x.cols(), o);
  check_output(x, out);
  Rng rng(o.seed);
  if (o.random_eps) draw_random_eps(o, rng);
  const auto d = static_cast<uint64_t>(x.cols());
  const Labels labels = attack_labels(model, x, std::move(y), o.targeted);
  const Eigen::VectorXd eps = o.eps_vector(d);
  const Eigen::VectorXd step = o.step_vector(d);
  if (o.minimal) return minimal_fgsm(model, x, labels, o, eps, step, out);

  const StepKernel kernel(o, eps, eps, x.cols());  // FGSM steps by eps
  RowMatrix grad;
  if (o.num_random_init <= 1) {
    model.check_cancelled();
    copy_rows(out, x);
    if (o.num_random_init == 1) random_init(out, eps, o, 0);
    gradient_step(model, out, x, labels, kernel, grad, true);
    return;
  }
  // Restarts: ART keeps the restart with the best overall success rate (strictly better wins).
  RowMatrix trial(x.rows(), x.cols());
  double best_rate = -1;
  Labels clean_pred;
  for (int r = 0; r < o.num_random_init; ++r) {
    model.check_cancelled();
    copy_rows(trial, x);
    random_init(trial, eps, o, r);
    gradient_step(model, trial, x, labels, kernel, grad, true);
    if (clean_pred.empty()) clean_pred = model.predict(x);
    auto ok = success_array(model, clean_pred, labels, trial, o.targeted);
    double rate = static_cast<double>(std::count(ok.begin(), ok.end(), true)) /
                  static_cast<double>(ok.size());
    if (rate > best_rate) {
      best_rate = rate;
      out = trial;
    }
  }
}

void pgd(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o,
         Eigen::Ref<RowMatrix> out) {
  check_shapes(x.cols(), o);
  check_output(x, out);
  Rng rng(o.seed);
  if (o.random_eps) draw_random_eps(o, rng);
  const auto d = static_cast<uint64_t>(x.cols());
  const Labels targets = attack_labels(model, x, std::move(y), o.targeted);
  const Eigen::VectorXd eps = o.eps_vector(d);
  const StepKernel kernel(o, eps, o.step_vector(d), x.cols());
  Labels clean_pred;
  auto clean = [&]() -> const Labels& {
    if (clean_pred.empty()) clean_pred = model.predict(x);
    return clean_pred;
  };

  RowMatrix grad, velocity;
  auto restart = [&](Eigen::Ref<RowMatrix> batch, int index) {
    copy_rows(batch, x);
    std::vector<bool> done(static_cast<size_t>(x.rows()), false);
    // ART starts the momentum at zero for every restart.
    Momentum momentum;
    if (o.decay) {
      velocity.setZero(x.rows(), x.cols());
      momentum = {&velocity, *o.decay};
    }
    for (int it = 0; it < o.max_iter; ++it) {
      model.check_cancelled();
      if (o.num_random_init > 0 && it == 0) random_init(batch, eps, o, index);
      // Beyond ART (early_stop): a sample that is already adversarial keeps its current point.
      gradient_step(model, batch, x, targets, kernel, grad, true, o.early_stop ? &done : nullptr,
                    momentum);
      if (o.early_stop) {
        auto ok = success_array(model, clean(), targets, batch, o.targeted);
        bool all = true;
        for (size_t i = 0; i < ok.size(); ++i) {
          done[i] = done[i] || ok[i];
          all = all && done[i];
        }
        if (all) break;
      }
    }
  };
  restart(out, 0);
  if (o.num_random_init <= 1) return;
  // A later restart replaces a sample only where it succeeds (ART 1.20).
  RowMatrix batch(x.rows(), x.cols());
  for (int r = 1; r < o.num_random_init; ++r) {
    restart(batch, r);
    auto ok = success_array(model, clean(), targets, batch, o.targeted);
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      if (ok[static_cast<size_t>(i)]) out.row(i) = batch.row(i);
  }
}

RowMatrix fgsm(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o) {
  RowMatrix out(x.rows(), x.cols());
  fgsm(model, x, std::move(y), std::move(o), out);
  return out;
}

RowMatrix pgd(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o) {
  RowMatrix out(x.rows(), x.cols());
  pgd(model, x, std::move(y), std::move(o), out);
  return out;
}

}  // namespace secmlops::plugins::attacks
