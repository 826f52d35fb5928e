#include "gradient_attacks.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <algorithm>

namespace secmlops::plugins::attacks {

using sdk::Error;

Labels attack_labels(Oracle& model, const RowMatrix& x, Labels y, bool targeted) {
  if (!y.empty()) {
    if (y.size() != static_cast<size_t>(x.rows()))
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels and samples differ in number");
    return y;
  }
  if (targeted) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "a targeted attack needs target labels");
  return model.predict(x);
}

namespace {

// One step of ART's FastGradientMethod._compute: optional random start, gradient step, clip,
// projection onto the eps ball around x0.
RowMatrix compute_step(Oracle& model, const RowMatrix& x, const RowMatrix& x0, const Labels& y,
                       const Eigen::VectorXd& eps, const Eigen::VectorXd& step, bool project_ball,
                       bool random_start, const GradientAttackOptions& o, Rng& rng) {
  RowMatrix x_adv = x;
  if (random_start) random_init(x_adv, eps, o, rng);
  RowMatrix g;
  model.loss_gradient(x_adv, y, g);
  if (o.targeted) g = -g;
  normalise_direction(g, o.norm, o.mask);
  apply_step(x_adv, g, step, o);
  if (project_ball) project(x_adv, x0, eps, o.norm);
  return x_adv;
}

void check_shapes(const RowMatrix& x, const GradientAttackOptions& o) {
  auto d = x.cols();
  auto ok = [&](const Eigen::VectorXd& v) { return v.size() == 0 || v.size() == 1 || v.size() == d; };
  if (!ok(o.clip_min) || !ok(o.clip_max) || !(o.mask.size() == 0 || o.mask.size() == d) ||
      !(o.eps_scale.size() == 0 || o.eps_scale.size() == d))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "a per-feature parameter does not match the number of features");
}

}  // namespace

RowMatrix fgsm(Oracle& model, const RowMatrix& x, Labels y, GradientAttackOptions o) {
  check_shapes(x, o);
  Rng rng(o.seed);
  if (o.random_eps) draw_random_eps(o, rng);
  const auto d = static_cast<uint64_t>(x.cols());
  const Labels labels = attack_labels(model, x, std::move(y), o.targeted);
  const Eigen::VectorXd eps = o.eps_vector(d);
  const Eigen::VectorXd step = o.step_vector(d);

  if (o.minimal) {
    // Grow eps by eps_step along the gradient direction at x; each sample keeps the first eps at
    // which it succeeds (ART's _minimal_perturbation: no projection, no random start).
    RowMatrix dir;
    model.loss_gradient(x, labels, dir);
    if (o.targeted) dir = -dir;
    normalise_direction(dir, o.norm, o.mask);
    RowMatrix adv = x;
    std::vector<Eigen::Index> active(static_cast<size_t>(x.rows()));
    for (Eigen::Index i = 0; i < x.rows(); ++i) active[static_cast<size_t>(i)] = i;
    Eigen::VectorXd current = step;
    // ART compares scalars; with per-feature scales every feature grows in step.
    while (!active.empty() && (current.array() <= eps.array() + 0.0).all()) {
      model.check_cancelled();
      RowMatrix trial = x;
      apply_step(trial, dir, current, o);
      for (auto i : active) adv.row(i) = trial.row(i);
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

  RowMatrix best;
  double best_rate = -1;
  Labels clean_pred;
  const int restarts = std::max(1, o.num_random_init);
  for (int r = 0; r < restarts; ++r) {
    model.check_cancelled();
    RowMatrix adv = compute_step(model, x, x, labels, eps, eps, true, o.num_random_init > 0, o, rng);
    if (o.num_random_init > 1) {
      // ART keeps the restart with the best overall success rate (strictly better wins).
      if (clean_pred.empty()) clean_pred = model.predict(x);
      auto ok = success_array(model, clean_pred, labels, adv, o.targeted);
      double rate = static_cast<double>(std::count(ok.begin(), ok.end(), true)) / static_cast<double>(ok.size());
      if (rate > best_rate || best.size() == 0) {
        best_rate = rate;
        best = std::move(adv);
      }
    } else {
      best = std::move(adv);
    }
  }
  return best;
}

RowMatrix pgd(Oracle& model, const RowMatrix& x, Labels y, GradientAttackOptions o) {
  check_shapes(x, o);
  Rng rng(o.seed);
  if (o.random_eps) draw_random_eps(o, rng);
  const auto d = static_cast<uint64_t>(x.cols());
  const Labels targets = attack_labels(model, x, std::move(y), o.targeted);
  const Eigen::VectorXd eps = o.eps_vector(d);
  const Eigen::VectorXd step = o.step_vector(d);
  Labels clean_pred;
  auto clean = [&]() -> const Labels& {
    if (clean_pred.empty()) clean_pred = model.predict(x);
    return clean_pred;
  };

  RowMatrix adv = x;
  const int restarts = std::max(1, o.num_random_init);
  for (int r = 0; r < restarts; ++r) {
    RowMatrix batch = x;
    std::vector<bool> done(static_cast<size_t>(x.rows()), false);
    for (int it = 0; it < o.max_iter; ++it) {
      model.check_cancelled();
      RowMatrix next = compute_step(model, batch, x, targets, eps, step, true,
                                    o.num_random_init > 0 && it == 0, o, rng);
      if (o.early_stop) {
        // Beyond ART: a sample that is already adversarial keeps its current point.
        for (Eigen::Index i = 0; i < x.rows(); ++i)
          if (!done[static_cast<size_t>(i)]) batch.row(i) = next.row(i);
        auto ok = success_array(model, clean(), targets, batch, o.targeted);
        bool all = true;
        for (size_t i = 0; i < ok.size(); ++i) {
          done[i] = done[i] || ok[i];
          all = all && done[i];
        }
        if (all) break;
      } else {
        batch = std::move(next);
      }
    }
    if (r == 0) {
      adv = batch;
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
