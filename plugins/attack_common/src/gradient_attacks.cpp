#include "gradient_attacks.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <algorithm>

namespace secmlops::plugins::attacks {

using sdk::Error;

Labels attack_labels(Oracle& model, const Eigen::Ref<const RowMatrix>& x, Labels y, bool targeted) {
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
  auto ok = [&](const Eigen::VectorXd& v) { return v.size() == 0 || v.size() == 1 || v.size() == d; };
  if (!ok(o.clip_min) || !ok(o.clip_max) || !(o.mask.size() == 0 || o.mask.size() == d) ||
      !(o.eps_scale.size() == 0 || o.eps_scale.size() == d))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "a per-feature parameter does not match the number of features");
}

// Grow eps by eps_step along the gradient direction at x; each sample keeps the first eps at
// which it succeeds (ART's _minimal_perturbation: no projection, no random start).
RowMatrix minimal_fgsm(Oracle& model, const RowMatrix& x, const Labels& labels, const GradientAttackOptions& o,
                       const StepKernel& kernel, const Eigen::VectorXd& eps, const Eigen::VectorXd& step) {
  RowMatrix dir;
  model.loss_gradient(x, labels, dir);
  for (Eigen::Index i = 0; i < x.rows(); ++i) kernel.direction(dir.row(i).data());
  RowMatrix adv = x;
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
  return adv;
}

}  // namespace

// The buffers (the batch, the gradient) are allocated once per attack and every step is one
// fused pass per row (StepKernel); the model is asked for predictions only where the algorithm
// needs them (missing labels, restarts, early stop, minimal FGSM).
RowMatrix fgsm(Oracle& model, const Eigen::Ref<const RowMatrix>& x, Labels y, GradientAttackOptions o) {
  check_shapes(x.cols(), o);
  Rng rng(o.seed);
  if (o.random_eps) draw_random_eps(o, rng);
  const auto d = static_cast<uint64_t>(x.cols());
  const Labels labels = attack_labels(model, x, std::move(y), o.targeted);
  const Eigen::VectorXd eps = o.eps_vector(d);
  const Eigen::VectorXd step = o.step_vector(d);

  if (o.minimal) return minimal_fgsm(model, x, labels, o, StepKernel(o, eps, step, x.cols()), eps, step);

  const StepKernel kernel(o, eps, eps, x.cols());  // FGSM steps by eps
  RowMatrix best, adv, grad;
  double best_rate = -1;
  Labels clean_pred;
  const int restarts = std::max(1, o.num_random_init);
  for (int r = 0; r < restarts; ++r) {
    model.check_cancelled();
    adv = x;
    if (o.num_random_init > 0) random_init(adv, eps, o, rng);
    model.loss_gradient(adv, labels, grad);
    kernel.step(adv, grad, x, true);
    if (o.num_random_init > 1) {
      // ART keeps the restart with the best overall success rate (strictly better wins).
      if (clean_pred.empty()) clean_pred = model.predict(x);
      auto ok = success_array(model, clean_pred, labels, adv, o.targeted);
      double rate = static_cast<double>(std::count(ok.begin(), ok.end(), true)) / static_cast<double>(ok.size());
      if (rate > best_rate || best.size() == 0) {
        best_rate = rate;
        best.swap(adv);
      }
    } else {
      best.swap(adv);
    }
  }
  return best;
}

RowMatrix pgd(Oracle& model, const Eigen::Ref<const RowMatrix>& x, Labels y, GradientAttackOptions o) {
  check_shapes(x.cols(), o);
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

  RowMatrix adv, batch(x.rows(), x.cols()), grad(x.rows(), x.cols());
  const int restarts = std::max(1, o.num_random_init);
  for (int r = 0; r < restarts; ++r) {
    batch = x;
    std::vector<bool> done(static_cast<size_t>(x.rows()), false);
    for (int it = 0; it < o.max_iter; ++it) {
      model.check_cancelled();
      if (o.num_random_init > 0 && it == 0) random_init(batch, eps, o, rng);
      model.loss_gradient(batch, targets, grad);
      // Beyond ART (early_stop): a sample that is already adversarial keeps its current point.
      kernel.step(batch, grad, x, true, o.early_stop ? &done : nullptr);
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
    if (r == 0) {
      if (restarts == 1) adv.swap(batch);
      else adv = batch;
    } else {
      // A later restart replaces a sample only where it succeeds (ART 1.20).
      auto ok = success_array(model, clean(), targets, batch, o.targeted);
      for (Eigen::Index i = 0; i < x.rows(); ++i)
        if (ok[static_cast<size_t>(i)]) adv.row(i) = batch.row(i);
    }
  }
  return adv;
}

}  // namespace secmlops::plugins::attacks
