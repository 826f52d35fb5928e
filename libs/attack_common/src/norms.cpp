#include "norms.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace secmlops::plugins::attacks {

Labels Oracle::predict(const ConstRows& x) {
  RowMatrix p;
  predict_proba(x, p);
  Labels out(static_cast<size_t>(p.rows()));
  for (Eigen::Index r = 0; r < p.rows(); ++r) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < p.cols(); ++c)
      if (p(r, c) > p(r, best)) best = c;
    out[static_cast<size_t>(r)] = static_cast<int32_t>(best);
  }
  return out;
}

namespace {

// A scalar (size 1) or per-feature bound expanded to d values; unbounded = `none` everywhere
// (max(x, −∞) = x and min(x, +∞) = x exactly, so the clip needs no branch).
Eigen::VectorXd expand(const Eigen::VectorXd& v, Eigen::Index d, double none) {
  if (v.size() == 0) return Eigen::VectorXd::Constant(d, none);
  if (v.size() == 1) return Eigen::VectorXd::Constant(d, v[0]);
  return v;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

// Lower bound first, then upper bound, as ART's np.clip.
inline double clip(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

// sign(v) with sign(0) = sign(NaN) = 0, without a branch.
inline double sign(double v) { return static_cast<double>(v > 0) - static_cast<double>(v < 0); }

// A step coordinate; a NaN product (0 · ∞) counts as 0.
inline double step_value(double dir, double scale) {
  const double s = dir * scale;
  return s == s ? s : 0.0;
}

// L∞ without immutable features: the whole step is per coordinate, so direction, step, clip and
// projection are one loop the compiler vectorises (restrict: the rows never overlap). The same
// operations as direction(), advance() and project(), in the same order (sign(NaN) = 0, as
// NaN → 0 then sign gives).
template <bool kBounded>
inline __attribute__((always_inline)) void step_inf_row(
    double* __restrict x, const double* __restrict g, const double* __restrict x0,
    const double* __restrict st, const double* __restrict eps, const double* __restrict lo,
    const double* __restrict hi, double sgn, Eigen::Index d) {
  for (Eigen::Index j = 0; j < d; ++j) {
    double xs = x[j] + step_value(sign(sgn * g[j]), st[j]);
    if constexpr (kBounded) xs = clip(xs, lo[j], hi[j]);
    x[j] = x0[j] + std::max(std::min(xs - x0[j], eps[j]), -eps[j]);
  }
}

// A block of rows for the L∞ loop: row r of x, g and x0 starts at r times the stride.
struct InfBlock {
  double* x;
  const double* g;
  const double* x0;
  Eigen::Index rows, d, x_stride, g_stride, x0_stride;
  const double *st, *eps, *lo, *hi;
  double sgn;
};

template <bool kBounded>
inline __attribute__((always_inline)) void step_inf_rows(const InfBlock& b) {
  for (Eigen::Index r = 0; r < b.rows; ++r)
    step_inf_row<kBounded>(b.x + r * b.x_stride, b.g + r * b.g_stride, b.x0 + r * b.x0_stride, b.st,
                           b.eps, b.lo, b.hi, b.sgn, b.d);
}

// The L∞ loop is compiled for AVX2 as well as for the baseline, and the loader picks by the
// processor: twice the lanes. Only IEEE additions, multiplications, comparisons and min/max are
// involved (no FMA), so both give the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SECMLOPS_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SECMLOPS_SIMD_CLONES
#endif
SECMLOPS_SIMD_CLONES void step_inf_bounded(const InfBlock& b) { step_inf_rows<true>(b); }
SECMLOPS_SIMD_CLONES void step_inf_unbounded(const InfBlock& b) { step_inf_rows<false>(b); }

}  // namespace

StepKernel::StepKernel(const GradientAttackOptions& o, const Eigen::VectorXd& eps,
                       const Eigen::VectorXd& step, Eigen::Index d)
    : norm_(o.norm),
      sign_(o.targeted ? -1.0 : 1.0),
      d_(d),
      step_(step),
      eps_(eps),
      lo_(expand(o.clip_min, d, -kInf)),
      hi_(expand(o.clip_max, d, kInf)),
      bounded_(o.clip_min.size() > 0 || o.clip_max.size() > 0) {
  for (Eigen::Index j = 0; j < o.mask.size(); ++j)
    if (o.mask[j] == 0.0) immutable_.push_back(j);
}

void StepKernel::prepare(double* g) const {
  const Eigen::Index d = d_;
  const double sgn = sign_;  // −1 · g is exactly −g (targeted attacks descend)
  for (Eigen::Index j = 0; j < d; ++j) {
    const double v = sgn * g[j];
    g[j] = v == v ? v : 0.0;  // NaN → 0
  }
  for (auto j : immutable_) g[j] = 0.0;
}

void StepKernel::normalise(double* g) const {
  const Eigen::Index d = d_;
  switch (norm_) {
    case Norm::Inf:
      for (Eigen::Index j = 0; j < d; ++j) g[j] = sign(g[j]);
      break;
    case Norm::L2: {
      // ART ≥ 1.18 divides by ‖g‖₂ itself (no tolerance); a zero gradient stays zero.
      const double n = Eigen::Map<const Eigen::RowVectorXd>(g, d).norm();
      if (n == 0) break;
      for (Eigen::Index j = 0; j < d; ++j) g[j] /= n;
      break;
    }
    case Norm::L1: {
      Eigen::Index best_j = 0;
      double best = -1;
      for (Eigen::Index j = 0; j < d; ++j)
        if (std::abs(g[j]) > best) {
          best = std::abs(g[j]);
          best_j = j;
        }
      const double s = sign(g[best_j]);
      std::fill(g, g + d, 0.0);
      g[best_j] = s;
      break;
    }
  }
}

void StepKernel::accumulate(double* g, double* m, double decay, Eigen::Index d) {
  double l1 = 0;
  for (Eigen::Index j = 0; j < d; ++j) l1 += std::abs(g[j]);
  // ART: momentum *= decay; momentum += g / ‖g‖₁ (divided by ∞, i.e. 0, when ‖g‖₁ = 0).
  const double denominator = l1 != 0 ? l1 : kInf;
  for (Eigen::Index j = 0; j < d; ++j) {
    m[j] = m[j] * decay + g[j] / denominator;
    g[j] = m[j];
  }
}

void StepKernel::advance(double* x, const double* dir, const double* scale) const {
  if (scale == nullptr) scale = step_.data();
  const double *lo = lo_.data(), *hi = hi_.data();
  for (Eigen::Index j = 0; j < d_; ++j)
    x[j] = clip(x[j] + step_value(dir[j], scale[j]), lo[j], hi[j]);
}

void StepKernel::project(double* x, const double* x0) const {
  const Eigen::Index d = d_;
  const double* eps = eps_.data();
  switch (norm_) {
    case Norm::Inf:
      for (Eigen::Index j = 0; j < d; ++j)
        x[j] = x0[j] + std::max(std::min(x[j] - x0[j], eps[j]), -eps[j]);
      break;
    case Norm::L2:
    case Norm::L1: {
      // δ = x − x0 is recomputed rather than stored: the same value, no buffer.
      Eigen::Map<const Eigen::RowVectorXd> xv(x, d), x0v(x0, d);
      const double n = norm_ == Norm::L2 ? (xv - x0v).norm() : (xv - x0v).cwiseAbs().sum();
      // factor_j = min(1, eps_j / ‖δ‖), 0 when δ = 0 (ART ≥ 1.18, no tolerance): a scalar eps is
      // the plain rescale.
      for (Eigen::Index j = 0; j < d; ++j)
        x[j] = x0[j] + (x[j] - x0[j]) * (n != 0 ? std::min(eps[j] / n, 1.0) : 0.0);
      break;
    }
  }
}

void StepKernel::step(Eigen::Ref<RowMatrix> x, RowMatrix& g, const ConstRows& x0, bool project_ball,
                      const std::vector<bool>* frozen, Eigen::Index first_row,
                      const Momentum& momentum) const {
  if (norm_ == Norm::Inf && immutable_.empty() && project_ball && frozen == nullptr &&
      momentum.rows == nullptr) {
    const InfBlock b{x.data(),     g.data(),        x0.data(),       x.rows(),
                     d_,           x.outerStride(), g.outerStride(), x0.outerStride(),
                     step_.data(), eps_.data(),     lo_.data(),      hi_.data(),
                     sign_};
    if (bounded_)
      step_inf_bounded(b);
    else
      step_inf_unbounded(b);
    return;
  }
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    if (frozen != nullptr && (*frozen)[static_cast<size_t>(first_row + r)]) continue;
    double* xr = x.row(r).data();
    double* gr = g.row(r).data();
    prepare(gr);
    if (momentum.rows != nullptr)
      accumulate(gr, momentum.rows->row(first_row + r).data(), momentum.decay, d_);
    normalise(gr);
    advance(xr, gr);
    if (project_ball) project(xr, x0.row(r).data());
  }
}

void project(RowMatrix& x, const RowMatrix& x0, const Eigen::VectorXd& eps, Norm norm) {
  GradientAttackOptions o;
  o.norm = norm;
  StepKernel k(o, eps, eps, x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) k.project(x.row(r).data(), x0.row(r).data());
}

namespace {

uint64_t mix64(uint64_t v) {
  v += 0x9E3779B97F4A7C15ull;
  v = (v ^ (v >> 30)) * 0xBF58476D1CE4E5B9ull;
  v = (v ^ (v >> 27)) * 0x94D049BB133111EBull;
  return v ^ (v >> 31);
}

// The seed of one row's generator: the attack's seed, the restart and the row's bytes (FNV-1a).
uint64_t row_seed(uint64_t seed, int restart, const double* row, Eigen::Index d) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(row);
  for (size_t i = 0; i < static_cast<size_t>(d) * sizeof(double); ++i)
    h = (h ^ bytes[i]) * 0x100000001b3ull;
  return mix64(seed ^ mix64(static_cast<uint64_t>(restart) + 1) ^ mix64(h));
}

}  // namespace

void random_init(Eigen::Ref<RowMatrix> x, const Eigen::VectorXd& eps,
                 const GradientAttackOptions& o, int restart) {
  const Eigen::Index n = x.rows(), d = x.cols();
  RowMatrix pert(n, d);
  Eigen::RowVectorXd v(d);
  std::vector<double> cuts(static_cast<size_t>(d));
  for (Eigen::Index r = 0; r < n; ++r) {
    Rng rng(row_seed(o.seed, restart, x.row(r).data(), d));
    switch (o.norm) {
      case Norm::Inf:
        for (Eigen::Index c = 0; c < d; ++c) pert(r, c) = rng.uniform(-eps[c], eps[c]);
        break;
      case Norm::L2: {
        // Uniform in the ball: a Gaussian direction and a radius distributed as U^(1/d) — the
        // same distribution as ART's random_sphere (which maps the chi-square CDF to U).
        for (Eigen::Index c = 0; c < d; ++c) v[c] = rng.normal();
        const double radius = std::pow(rng.uniform(), 1.0 / static_cast<double>(d));
        v *= radius / std::max(v.norm(), 1e-300);
        pert.row(r) = v.array() * eps.transpose().array();
        break;
      }
      case Norm::L1: {
        // ART 1.20's random_sphere for L1 (uniform in the ball): the d spacings of d sorted
        // uniforms in [0, 1) (0 prepended; the last gap to 1 dropped), each with a random sign.
        for (auto& u : cuts) u = rng.uniform();
        std::sort(cuts.begin(), cuts.end());
        double previous = 0;
        for (Eigen::Index c = 0; c < d; ++c) {
          const double gap = cuts[static_cast<size_t>(c)] - previous;
          previous = cuts[static_cast<size_t>(c)];
          pert(r, c) = eps[c] * gap * (rng.uniform() < 0.5 ? -1.0 : 1.0);
        }
        break;
      }
    }
  }
  if (o.mask.size() > 0)
    for (Eigen::Index c = 0; c < d; ++c) pert.col(c) *= o.mask[c];
  x += pert;
  const Eigen::VectorXd lo = expand(o.clip_min, d, -kInf), hi = expand(o.clip_max, d, kInf);
  for (Eigen::Index r = 0; r < n; ++r)
    for (Eigen::Index c = 0; c < d; ++c) x(r, c) = clip(x(r, c), lo[c], hi[c]);
}

std::vector<bool> success_array(Oracle& model, const Labels& clean_pred, const Labels& targets,
                                const ConstRows& x_adv, bool targeted) {
  Labels adv = model.predict(x_adv);
  std::vector<bool> ok(adv.size());
  for (size_t i = 0; i < adv.size(); ++i)
    ok[i] = targeted ? adv[i] == targets[i] : adv[i] != clean_pred[i];
  return ok;
}

void draw_random_eps(GradientAttackOptions& o, Rng& rng) {
  const double ratio = o.eps_step / o.eps;
  const double sigma = o.eps / 2;
  double e;
  do {
    e = rng.normal(0.0, sigma);  // rejection sampling of the truncation [0, eps]
  } while (e < 0 || e > o.eps);
  e = std::round(e * 1e10) / 1e10;
  if (e <= 0) e = 1e-10;
  o.eps = e;
  o.eps_step = ratio * e;
}

}  // namespace secmlops::plugins::attacks
