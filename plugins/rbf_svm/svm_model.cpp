#include "svm_model.hpp"

#include "rbf_simd.hpp"

#include <secmlops/models/parallel.hpp>
#include <secmlops/models/rng.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <list>
#include <mutex>
#include <numeric>
#include <thread>

namespace secmlops::plugins::rbf_svm {
namespace {

using sdk::Error;

[[noreturn]] void invalid(const std::string& message) {
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, message);
}

double round_f32(double v) { return static_cast<double>(static_cast<float>(v)); }

using models::parallel_for;
using models::resolve_jobs;

// exp(-gamma * ||a - b||^2) for every row of a against every row of b.
RowMatrix rbf_kernel(const RowMatrix& a, const Eigen::VectorXd& a_sq, const RowMatrix& b,
                     const Eigen::VectorXd& b_sq, double gamma) {
  RowMatrix k = a * b.transpose();
  k = ((k * -2.0).colwise() + a_sq).rowwise() + b_sq.transpose();
  return (k.array().max(0.0) * -gamma).exp().matrix();
}

// Kernel rows of a binary subproblem, least recently used evicted first.
class KernelCache {
 public:
  KernelCache(const RowMatrix& x, double gamma, double cache_mb)
      : x_(x),
        gamma_(gamma),
        rows_(static_cast<size_t>(x.rows())),
        pos_(static_cast<size_t>(x.rows())) {
    sq_ = x.rowwise().squaredNorm();
    const double row_bytes = static_cast<double>(x.rows()) * sizeof(double);
    capacity_ =
        static_cast<size_t>(std::max(2.0, cache_mb * 1024 * 1024 / std::max(1.0, row_bytes)));
  }
  const double* row(int i) {
    auto& r = rows_[static_cast<size_t>(i)];
    if (!r.empty()) {
      lru_.splice(lru_.begin(), lru_, pos_[static_cast<size_t>(i)]);
      return r.data();
    }
    if (lru_.size() >= capacity_) {
      int victim = lru_.back();
      lru_.pop_back();
      std::vector<double>().swap(rows_[static_cast<size_t>(victim)]);
    }
    r.resize(static_cast<size_t>(x_.rows()));
    Eigen::Map<Eigen::VectorXd> out(r.data(), x_.rows());
    out.noalias() = x_ * x_.row(i).transpose();
    const double si = sq_[i];
    out = ((out * -2.0).array() + si + sq_.array()).max(0.0) * -gamma_;
    out = out.array().exp();
    lru_.push_front(i);
    pos_[static_cast<size_t>(i)] = lru_.begin();
    return r.data();
  }

 private:
  const RowMatrix& x_;
  double gamma_;
  Eigen::VectorXd sq_;
  std::vector<std::vector<double>> rows_;
  std::list<int> lru_;
  std::vector<std::list<int>::iterator> pos_;
  size_t capacity_ = 2;
};

double sigmoid_predict(double f, double a, double b) {
  double fApB = f * a + b;
  return fApB >= 0 ? std::exp(-fApB) / (1.0 + std::exp(-fApB)) : 1.0 / (1.0 + std::exp(fApB));
}

RowMatrix gather_rows(const double* x, uint64_t cols, const std::vector<int>& idx) {
  RowMatrix m(static_cast<Eigen::Index>(idx.size()), static_cast<Eigen::Index>(cols));
  for (size_t k = 0; k < idx.size(); ++k)
    m.row(static_cast<Eigen::Index>(k)) = Eigen::Map<const Eigen::RowVectorXd>(
        x + static_cast<size_t>(idx[k]) * cols, static_cast<Eigen::Index>(cols));
  return m;
}

// Decision values of a binary solution on other rows.
std::vector<double> binary_decision(const RowMatrix& train, const BinarySolution& s,
                                    const RowMatrix& test, double gamma) {
  std::vector<int> sv;
  for (size_t i = 0; i < s.coef.size(); ++i)
    if (s.coef[i] != 0) sv.push_back(static_cast<int>(i));
  RowMatrix svm(static_cast<Eigen::Index>(sv.size()), train.cols());
  Eigen::VectorXd c(static_cast<Eigen::Index>(sv.size()));
  for (size_t k = 0; k < sv.size(); ++k) {
    svm.row(static_cast<Eigen::Index>(k)) = train.row(sv[k]);
    c[static_cast<Eigen::Index>(k)] = s.coef[static_cast<size_t>(sv[k])];
  }
  Eigen::VectorXd d =
      rbf_kernel(test, test.rowwise().squaredNorm(), svm, svm.rowwise().squaredNorm(), gamma) * c;
  std::vector<double> out(static_cast<size_t>(d.size()));
  for (Eigen::Index i = 0; i < d.size(); ++i) out[static_cast<size_t>(i)] = d[i] + s.intercept;
  return out;
}

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

SvmParams parse_params(const sdk::Config& c) {
  if (auto k = c.get("kernel"); k && *k != "rbf")
    invalid("parameter 'kernel' must be rbf for this model, got '" + *k + "'");
  SvmParams p;
  p.C = c.get_double("C", 1.0);
  if (!(p.C > 0) || !std::isfinite(p.C))
    invalid("parameter 'C' must be a positive number, got " + c.get_string("C", ""));
  p.gamma = c.get_string("gamma", "scale");
  if (p.gamma != "scale" && p.gamma != "auto") {
    double g = c.get_double("gamma", 0);
    if (!(g > 0) || !std::isfinite(g))
      invalid("parameter 'gamma' must be scale, auto or a positive number, got '" + p.gamma + "'");
  }
  p.tol = c.get_double("tol", 1e-3);
  if (!(p.tol > 0) || !std::isfinite(p.tol)) invalid("parameter 'tol' must be a positive number");
  p.max_iter = c.get_int("max_iter", -1);
  if (p.max_iter == 0 || p.max_iter < -1)
    invalid("parameter 'max_iter' must be -1 (no limit) or positive");
  p.cache_size = c.get_double("cache_size", 200);
  if (!(p.cache_size > 0) || p.cache_size > 1024 * 1024)
    invalid("parameter 'cache_size' must be in (0, 1048576] MB");
  p.probability_cv = static_cast<int>(c.get_int("probability_cv", 5));
  if (p.probability_cv < 0 || p.probability_cv == 1 || p.probability_cv > 100)
    invalid("parameter 'probability_cv' must be 0 (no cross-validation) or 2..100");
  int64_t seed = c.get_int(c.has("seed") ? "seed" : "random_state", 0);
  if (seed < 0) invalid("parameter 'seed' must be non-negative");
  p.seed = static_cast<uint64_t>(seed);
  int64_t jobs = c.get_int("n_jobs", 0);
  if (jobs < 0 || jobs > 1024) invalid("parameter 'n_jobs' must be in 0..1024");
  p.n_jobs = static_cast<int>(jobs);
  return p;
}

BinarySolution solve_binary(const RowMatrix& x, const std::vector<int8_t>& y, double C,
                            double gamma, double tol, int64_t max_iter, double cache_mb,
                            const std::function<void()>& check_cancelled) {
  const int l = static_cast<int>(x.rows());
  KernelCache cache(x, gamma, cache_mb);
  std::vector<double> alpha(static_cast<size_t>(l), 0.0), G(static_cast<size_t>(l), -1.0);
  constexpr double kTau = 1e-12;
  const double QD = 1.0;  // K(x, x) = 1 for the RBF kernel
  auto upper = [&](int t) { return alpha[static_cast<size_t>(t)] >= C; };
  auto lower = [&](int t) { return alpha[static_cast<size_t>(t)] <= 0; };
  const int64_t cap = max_iter > 0 ? max_iter : std::max<int64_t>(10'000'000, 100LL * l);
  BinarySolution s;
  int64_t iter = 0;
  for (;; ++iter) {
    if (iter >= cap) {
      s.converged = false;
      break;
    }
    if (check_cancelled && iter % 2048 == 0) check_cancelled();
    // Working set selection 2: i maximises -y G over I_up, j minimises the second-order gain.
    double gmax = -std::numeric_limits<double>::infinity(),
           gmax2 = -std::numeric_limits<double>::infinity();
    int i = -1, j = -1;
    for (int t = 0; t < l; ++t) {
      const double g = G[static_cast<size_t>(t)];
      if (y[static_cast<size_t>(t)] == 1) {
        if (!upper(t) && -g >= gmax) gmax = -g, i = t;
      } else if (!lower(t) && g >= gmax) {
        gmax = g, i = t;
      }
    }
    if (i < 0) break;
    const double* Ki = cache.row(i);
    const int yi =
        y[static_cast<size_t>(i)];  // NOLINT(bugprone-signed-char-misuse): a label, -1 or +1
    double best = std::numeric_limits<double>::infinity();
    for (int t = 0; t < l; ++t) {
      const double g = G[static_cast<size_t>(t)];
      const int yt =
          y[static_cast<size_t>(t)];  // NOLINT(bugprone-signed-char-misuse): a label, -1 or +1
      const double Qit = yi * yt * Ki[t];
      if (yt == 1) {
        if (lower(t)) continue;
        const double diff = gmax + g;
        if (g >= gmax2) gmax2 = g;
        if (diff > 0) {
          double quad = QD + QD - 2.0 * yi * Qit;
          double obj = -(diff * diff) / (quad > 0 ? quad : kTau);
          if (obj <= best) best = obj, j = t;
        }
      } else {
        if (upper(t)) continue;
        const double diff = gmax - g;
        if (-g >= gmax2) gmax2 = -g;
        if (diff > 0) {
          double quad = QD + QD + 2.0 * yi * Qit;
          double obj = -(diff * diff) / (quad > 0 ? quad : kTau);
          if (obj <= best) best = obj, j = t;
        }
      }
    }
    if (gmax + gmax2 < tol || j < 0) break;
    Ki = cache.row(i);  // refresh position in the LRU before fetching j
    const double* Kj = cache.row(j);
    const int yj =
        y[static_cast<size_t>(j)];  // NOLINT(bugprone-signed-char-misuse): a label, -1 or +1
    const double Qij = yi * yj * Ki[j];
    double& ai = alpha[static_cast<size_t>(i)];
    double& aj = alpha[static_cast<size_t>(j)];
    const double old_ai = ai, old_aj = aj;
    double& Gi = G[static_cast<size_t>(i)];
    double& Gj = G[static_cast<size_t>(j)];
    if (yi != yj) {
      double quad = QD + QD + 2 * Qij;
      if (quad <= 0) quad = kTau;
      const double delta = (-Gi - Gj) / quad;
      const double diff = ai - aj;
      ai += delta;
      aj += delta;
      if (diff > 0) {
        if (aj < 0) aj = 0, ai = diff;
      } else if (ai < 0) {
        ai = 0, aj = -diff;
      }
      if (diff > 0) {
        if (ai > C) ai = C, aj = C - diff;
      } else if (aj > C) {
        aj = C, ai = C + diff;
      }
    } else {
      double quad = QD + QD - 2 * Qij;
      if (quad <= 0) quad = kTau;
      const double delta = (Gi - Gj) / quad;
      const double sum = ai + aj;
      ai -= delta;
      aj += delta;
      if (sum > C) {
        if (ai > C) ai = C, aj = sum - C;
      } else if (aj < 0) {
        aj = 0, ai = sum;
      }
      if (sum > C) {
        if (aj > C) aj = C, ai = sum - C;
      } else if (ai < 0) {
        ai = 0, aj = sum;
      }
    }
    // G_t += Q_ti dai + Q_tj daj with Q_ts = y_t y_s K_ts.
    const double di = (ai - old_ai) * yi, dj = (aj - old_aj) * yj;
    for (int t = 0; t < l; ++t)
      G[static_cast<size_t>(t)] += y[static_cast<size_t>(t)] * (Ki[t] * di + Kj[t] * dj);
  }
  // rho as libsvm computes it: mean of y G over free variables, else the middle of the bounds.
  double ub = std::numeric_limits<double>::infinity(), lb = -ub, sum_free = 0;
  int n_free = 0;
  for (int t = 0; t < l; ++t) {
    const double yG = y[static_cast<size_t>(t)] * G[static_cast<size_t>(t)];
    if (upper(t)) {
      if (y[static_cast<size_t>(t)] == -1)
        ub = std::min(ub, yG);
      else
        lb = std::max(lb, yG);
    } else if (lower(t)) {
      if (y[static_cast<size_t>(t)] == 1)
        ub = std::min(ub, yG);
      else
        lb = std::max(lb, yG);
    } else {
      ++n_free;
      sum_free += yG;
    }
  }
  const double rho = n_free > 0 ? sum_free / n_free : (ub + lb) / 2;
  s.intercept = -rho;
  s.iterations = iter;
  s.coef.resize(static_cast<size_t>(l));
  for (int t = 0; t < l; ++t)
    s.coef[static_cast<size_t>(t)] = y[static_cast<size_t>(t)] * alpha[static_cast<size_t>(t)];
  return s;
}

std::pair<double, double> sigmoid_train(const std::vector<double>& dec,
                                        const std::vector<int8_t>& y) {
  double prior1 = 0, prior0 = 0;
  for (int8_t v : y) (v > 0 ? prior1 : prior0) += 1;
  const int max_iter = 100;
  const double min_step = 1e-10, sigma = 1e-12, eps = 1e-5;
  const double hi = (prior1 + 1.0) / (prior1 + 2.0), lo = 1 / (prior0 + 2.0);
  const size_t l = dec.size();
  std::vector<double> t(l);
  for (size_t i = 0; i < l; ++i) t[i] = y[i] > 0 ? hi : lo;
  double A = 0.0, B = std::log((prior0 + 1.0) / (prior1 + 1.0));
  auto objective = [&](double a, double b) {
    double f = 0;
    for (size_t i = 0; i < l; ++i) {
      double fApB = dec[i] * a + b;
      f += fApB >= 0 ? t[i] * fApB + std::log1p(std::exp(-fApB))
                     : (t[i] - 1) * fApB + std::log1p(std::exp(fApB));
    }
    return f;
  };
  double fval = objective(A, B);
  for (int iter = 0; iter < max_iter; ++iter) {
    double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
    for (size_t i = 0; i < l; ++i) {
      double fApB = dec[i] * A + B, p, q;
      if (fApB >= 0) {
        p = std::exp(-fApB) / (1.0 + std::exp(-fApB));
        q = 1.0 / (1.0 + std::exp(-fApB));
      } else {
        p = 1.0 / (1.0 + std::exp(fApB));
        q = std::exp(fApB) / (1.0 + std::exp(fApB));
      }
      double d2 = p * q;
      h11 += dec[i] * dec[i] * d2;
      h22 += d2;
      h21 += dec[i] * d2;
      double d1 = t[i] - p;
      g1 += dec[i] * d1;
      g2 += d1;
    }
    if (std::fabs(g1) < eps && std::fabs(g2) < eps) break;
    double det = h11 * h22 - h21 * h21;
    double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det;
    double gd = g1 * dA + g2 * dB, step = 1;
    while (step >= min_step) {
      double nA = A + step * dA, nB = B + step * dB, nf = objective(nA, nB);
      if (nf < fval + 0.0001 * step * gd) {
        A = nA, B = nB, fval = nf;
        break;
      }
      step /= 2.0;
    }
    if (step < min_step) break;
  }
  return {A, B};
}

void multiclass_probability(int k, const Eigen::MatrixXd& r, double* p) {
  thread_local Eigen::MatrixXd Q;  // reused: this runs once per predicted row
  thread_local Eigen::VectorXd Qp;
  Q.resize(k, k);
  Qp.resize(k);
  const int max_iter = std::max(100, k);
  const double eps = 0.005 / k;
  for (int t = 0; t < k; ++t) {
    p[t] = 1.0 / k;
    Q(t, t) = 0;
    for (int j = 0; j < k; ++j) {
      if (j == t) continue;
      Q(t, t) += r(j, t) * r(j, t);
      Q(t, j) = -r(j, t) * r(t, j);
    }
  }
  for (int iter = 0; iter < max_iter; ++iter) {
    double pQp = 0;
    for (int t = 0; t < k; ++t) {
      Qp[t] = 0;
      for (int j = 0; j < k; ++j) Qp[t] += Q(t, j) * p[j];
      pQp += p[t] * Qp[t];
    }
    double max_error = 0;
    for (int t = 0; t < k; ++t) max_error = std::max(max_error, std::fabs(Qp[t] - pQp));
    if (max_error < eps) break;
    for (int t = 0; t < k; ++t) {
      double diff = (-Qp[t] + pQp) / Q(t, t);
      p[t] += diff;
      pQp = (pQp + diff * (diff * Q(t, t) + 2 * Qp[t])) / (1 + diff) / (1 + diff);
      for (int j = 0; j < k; ++j) {
        Qp[j] = (Qp[j] + diff * Q(t, j)) / (1 + diff);
        p[j] /= (1 + diff);
      }
    }
  }
}

void SvmModel::fit(const double* x, uint64_t rows, uint64_t cols, std::span<const int32_t> y,
                   const SvmParams& p, const std::function<void(const std::string&)>& log,
                   const std::function<void()>& check_cancelled) {
  if (rows == 0 || cols == 0) invalid("training data is empty");
  if (rows > static_cast<uint64_t>(std::numeric_limits<int>::max()))
    invalid("too many training rows");
  if (y.size() != rows)
    invalid("got " + std::to_string(y.size()) + " labels for " + std::to_string(rows) + " rows");
  int32_t max_label = 0;
  for (size_t i = 0; i < rows; ++i) {
    if (y[i] < 0 || y[i] > 1000)
      invalid("label of row " + std::to_string(i) + " is " + std::to_string(y[i]) +
              ", expected 0..1000");
    max_label = std::max(max_label, y[i]);
  }
  const int k = max_label + 1;
  if (k < 2) invalid("training labels hold a single class; a classifier needs at least two");
  std::vector<std::vector<int>> members(static_cast<size_t>(k));
  for (size_t i = 0; i < rows; ++i)
    members[static_cast<size_t>(y[i])].push_back(static_cast<int>(i));
  for (int c = 0; c < k; ++c)
    if (members[static_cast<size_t>(c)].empty())
      invalid("class " + std::to_string(c) +
              " has no training rows (labels must be 0..n_classes-1, each present)");
  double mean = 0, m2 = 0;
  for (uint64_t i = 0; i < rows * cols; ++i) {
    if (!std::isfinite(x[i]))
      invalid("training value at row " + std::to_string(i / cols) + ", column " +
              std::to_string(i % cols) + " is not finite");
    mean += x[i];
  }
  mean /= static_cast<double>(rows * cols);
  for (uint64_t i = 0; i < rows * cols; ++i) m2 += (x[i] - mean) * (x[i] - mean);
  const double var = m2 / static_cast<double>(rows * cols);
  double gamma;
  if (p.gamma == "scale")
    gamma = var > 0 ? 1.0 / (static_cast<double>(cols) * var) : 1.0;
  else if (p.gamma == "auto")
    gamma = 1.0 / static_cast<double>(cols);
  else
    gamma = std::stod(p.gamma);
  gamma = round_f32(gamma);

  const int pairs = k * (k - 1) / 2;
  // coef_by_pair[pair][global sample] for samples of the two classes.
  std::vector<std::vector<double>> coef(static_cast<size_t>(pairs));
  std::vector<double> intercept(static_cast<size_t>(pairs)), prob_a(static_cast<size_t>(pairs)),
      prob_b(static_cast<size_t>(pairs));
  std::vector<int> pair_i, pair_j;
  for (int i = 0; i < k; ++i)
    for (int j = i + 1; j < k; ++j) pair_i.push_back(i), pair_j.push_back(j);
  std::vector<std::string> notes(static_cast<size_t>(pairs));
  // Pairs are independent: solve them on separate threads (each keeps its own kernel cache).
  const int jobs = resolve_jobs(p.n_jobs, static_cast<size_t>(pairs));
  parallel_for(static_cast<size_t>(pairs), jobs, [&](size_t pi) {
    const auto& a = members[static_cast<size_t>(pair_i[pi])];
    const auto& b = members[static_cast<size_t>(pair_j[pi])];
    std::vector<int> idx(a);
    idx.insert(idx.end(), b.begin(), b.end());
    std::vector<int8_t> yy(idx.size(), -1);
    std::fill(yy.begin(), yy.begin() + static_cast<long>(a.size()), int8_t{1});
    RowMatrix sub = gather_rows(x, cols, idx);
    const double cache = p.cache_size / jobs;
    BinarySolution s = solve_binary(sub, yy, p.C, gamma, p.tol, p.max_iter, cache, check_cancelled);
    if (!s.converged)
      notes[pi] = "pair (" + std::to_string(pair_i[pi]) + ", " + std::to_string(pair_j[pi]) +
                  ") stopped at max_iter=" + std::to_string(s.iterations) + " before reaching tol";
    intercept[pi] = s.intercept;
    // Platt scaling on cross-validated decision values (libsvm's svm_binary_svc_probability).
    std::vector<double> dec(idx.size());
    if (p.probability_cv == 0) {
      dec = binary_decision(sub, s, sub, gamma);
    } else {
      std::vector<int> perm(idx.size());
      std::iota(perm.begin(), perm.end(), 0);
      models::Rng rng(mix(p.seed ^ mix(pi + 1)));
      rng.shuffle(perm);
      const size_t l = perm.size(), folds = static_cast<size_t>(p.probability_cv);
      for (size_t f = 0; f < folds; ++f) {
        const size_t begin = f * l / folds, end = (f + 1) * l / folds;
        std::vector<int> tr, te;
        for (size_t q = 0; q < l; ++q) (q >= begin && q < end ? te : tr).push_back(perm[q]);
        if (te.empty()) continue;
        std::vector<int8_t> ytr;
        int pos = 0;
        for (int q : tr)
          ytr.push_back(yy[static_cast<size_t>(q)]), pos += yy[static_cast<size_t>(q)] > 0;
        const int neg = static_cast<int>(tr.size()) - pos;
        std::vector<double> d(te.size());
        if (pos == 0 || neg == 0) {
          std::fill(d.begin(), d.end(), pos > 0 ? 1.0 : (neg > 0 ? -1.0 : 0.0));
        } else {
          RowMatrix xtr(static_cast<Eigen::Index>(tr.size()), sub.cols()),
              xte(static_cast<Eigen::Index>(te.size()), sub.cols());
          for (size_t q = 0; q < tr.size(); ++q)
            xtr.row(static_cast<Eigen::Index>(q)) = sub.row(tr[q]);
          for (size_t q = 0; q < te.size(); ++q)
            xte.row(static_cast<Eigen::Index>(q)) = sub.row(te[q]);
          BinarySolution sf =
              solve_binary(xtr, ytr, p.C, gamma, p.tol, p.max_iter, cache, check_cancelled);
          d = binary_decision(xtr, sf, xte, gamma);
        }
        for (size_t q = 0; q < te.size(); ++q) dec[static_cast<size_t>(te[q])] = d[q];
      }
    }
    auto [A, B] = sigmoid_train(dec, yy);
    prob_a[pi] = A;
    prob_b[pi] = B;
    // Map subproblem coefficients back to global sample indices.
    std::vector<double> global(rows, 0.0);
    for (size_t q = 0; q < idx.size(); ++q) global[static_cast<size_t>(idx[q])] = s.coef[q];
    coef[pi] = std::move(global);
  });
  if (log)
    for (const auto& n : notes)
      if (!n.empty()) log(n);

  // Support vectors: samples with a non-zero coefficient in any pair, grouped by class.
  std::vector<int> sv_index;
  std::vector<int> n_support(static_cast<size_t>(k), 0);
  for (int c = 0; c < k; ++c)
    for (int s : members[static_cast<size_t>(c)]) {
      bool nz = false;
      for (int pi = 0; pi < pairs && !nz; ++pi)
        nz = coef[static_cast<size_t>(pi)][static_cast<size_t>(s)] != 0;
      if (nz) sv_index.push_back(s), ++n_support[static_cast<size_t>(c)];
    }
  const auto nsv = static_cast<Eigen::Index>(sv_index.size());
  RowMatrix sv = gather_rows(x, cols, sv_index);
  RowMatrix dual = RowMatrix::Zero(k - 1, nsv);
  auto pair_index = [k](int i, int j) { return i * k - i * (i + 1) / 2 + (j - i - 1); };  // i < j
  for (Eigen::Index q = 0; q < nsv; ++q) {
    const int s = sv_index[static_cast<size_t>(q)];
    const int c = y[static_cast<size_t>(s)];
    for (int o = 0; o < k; ++o) {
      if (o == c) continue;
      const int pi = c < o ? pair_index(c, o) : pair_index(o, c);
      dual(o < c ? o : o - 1, q) = coef[static_cast<size_t>(pi)][static_cast<size_t>(s)];
    }
  }
  sv = sv.unaryExpr([](double v) { return round_f32(v); });
  dual = dual.unaryExpr([](double v) { return round_f32(v); });
  for (auto* v : {&intercept, &prob_a, &prob_b})
    for (double& e : *v) e = round_f32(e);
  C_ = p.C;
  n_jobs_ = p.n_jobs;
  assign(std::move(sv), std::move(n_support), std::move(dual), std::move(intercept),
         std::move(prob_a), std::move(prob_b), gamma);
}

const char* Kernel::name() const {
  switch (type) {
    case linear:
      return "linear";
    case poly:
      return "poly";
    case sigmoid:
      return "sigmoid";
    case rbf:
      break;
  }
  return "rbf";
}

const char* Kernel::onnx_name() const {
  switch (type) {
    case linear:
      return "LINEAR";
    case poly:
      return "POLY";
    case sigmoid:
      return "SIGMOID";
    case rbf:
      break;
  }
  return "RBF";
}

void SvmModel::assign(RowMatrix support_vectors, std::vector<int> n_support, RowMatrix dual_coef,
                      std::vector<double> intercept, std::vector<double> prob_a,
                      std::vector<double> prob_b, double gamma) {
  assign(std::move(support_vectors), std::move(n_support), std::move(dual_coef),
         std::move(intercept), std::move(prob_a), std::move(prob_b),
         Kernel{Kernel::rbf, gamma, 0, 3});
}

void SvmModel::assign(RowMatrix support_vectors, std::vector<int> n_support, RowMatrix dual_coef,
                      std::vector<double> intercept, std::vector<double> prob_a,
                      std::vector<double> prob_b, const Kernel& kernel) {
  const auto k = static_cast<int>(n_support.size());
  if (k < 2) invalid("an SVM classifier needs at least two classes, got " + std::to_string(k));
  const size_t pairs = static_cast<size_t>(k) * static_cast<size_t>(k - 1) / 2;
  long total = 0;
  for (int n : n_support) {
    if (n < 0) invalid("negative support vector count");
    total += n;
  }
  if (total != support_vectors.rows())
    invalid("vectors_per_class sums to " + std::to_string(total) + " but there are " +
            std::to_string(support_vectors.rows()) + " support vectors");
  if (support_vectors.cols() < 1) invalid("support vectors have no features");
  if (dual_coef.rows() != k - 1 || dual_coef.cols() != support_vectors.rows())
    invalid("coefficients must be (n_classes - 1) × n_support_vectors");
  if (intercept.size() != pairs)
    invalid("rho must hold one value per class pair (" + std::to_string(pairs) + ")");
  if (!(prob_a.empty() && prob_b.empty()) && (prob_a.size() != pairs || prob_b.size() != pairs))
    invalid("prob_a and prob_b must both hold one value per class pair (" + std::to_string(pairs) +
            ")");
  // libsvm accepts any gamma for the linear kernel (unused) and for poly/sigmoid; the RBF kernel
  // needs a positive one. A polynomial degree is a whole number (scikit-learn's int).
  if (!std::isfinite(kernel.gamma) || (kernel.type == Kernel::rbf && !(kernel.gamma > 0)))
    invalid("gamma must be a positive number");
  if (!std::isfinite(kernel.coef0)) invalid("coef0 must be finite");
  if (kernel.type == Kernel::poly &&
      !(kernel.degree >= 0 && kernel.degree <= 100 && kernel.degree == std::floor(kernel.degree)))
    invalid("the polynomial degree must be a whole number from 0 to 100");
  if (!support_vectors.allFinite() || !dual_coef.allFinite())
    invalid("support vectors or coefficients are not finite");
  for (const auto* v : {&intercept, &prob_a, &prob_b})
    for (double e : *v)
      if (!std::isfinite(e)) invalid("rho or probability parameters are not finite");
  n_classes_ = static_cast<uint32_t>(k);
  sv_ = std::move(support_vectors);
  n_support_ = std::move(n_support);
  dual_coef_ = std::move(dual_coef);
  intercept_ = std::move(intercept);
  prob_a_ = std::move(prob_a);
  prob_b_ = std::move(prob_b);
  kernel_ = kernel;
  derive();
}

void SvmModel::derive() {
  const int k = static_cast<int>(n_classes_);
  const Eigen::Index nsv = sv_.rows();
  sv_sq_ = sv_.rowwise().squaredNorm();
  std::vector<Eigen::Index> start(static_cast<size_t>(k) + 1, 0);
  for (int c = 0; c < k; ++c)
    start[static_cast<size_t>(c) + 1] =
        start[static_cast<size_t>(c)] + n_support_[static_cast<size_t>(c)];
  pair_coef_ = Eigen::MatrixXd::Zero(nsv, k * (k - 1) / 2);
  int p = 0;
  for (int i = 0; i < k; ++i)
    for (int j = i + 1; j < k; ++j, ++p) {
      for (Eigen::Index s = start[static_cast<size_t>(i)]; s < start[static_cast<size_t>(i) + 1];
           ++s)
        pair_coef_(s, p) = dual_coef_(j - 1, s);
      for (Eigen::Index s = start[static_cast<size_t>(j)]; s < start[static_cast<size_t>(j) + 1];
           ++s)
        pair_coef_(s, p) = dual_coef_(i, s);
    }
  sv_t_f32_.resize(static_cast<size_t>(sv_.size()));
  for (Eigen::Index s = 0; s < nsv; ++s)
    for (Eigen::Index c = 0; c < sv_.cols(); ++c)
      sv_t_f32_[static_cast<size_t>(c * nsv + s)] = static_cast<float>(sv_(s, c));
  coef_t_f32_.resize(static_cast<size_t>(pair_coef_.size()));
  for (Eigen::Index q = 0; q < pair_coef_.cols(); ++q)
    for (Eigen::Index s = 0; s < nsv; ++s)
      coef_t_f32_[static_cast<size_t>(q * nsv + s)] = static_cast<float>(pair_coef_(s, q));
  // ART's ScikitlearnSVC.loss_gradient, written as a weight per (support vector, true label):
  // for label l and every other class o it adds sign × mult × dual_coef_[row, s] over the SVs s
  // of classes l and o, with row = (o < l ? o : o - 1), mult = (o < l ? -1 : +1), sign = +1 for
  // two classes and -1 otherwise, on scikit-learn's public dual_coef_ (negated for two classes).
  art_coef_ = Eigen::MatrixXd::Zero(nsv, k);
  const double sign = k == 2 ? 1.0 : -1.0;
  const double pub = k == 2 ? -1.0 : 1.0;
  for (int l = 0; l < k; ++l)
    for (int o = 0; o < k; ++o) {
      if (o == l) continue;
      const int row = o < l ? o : o - 1;
      const double mult = o < l ? -1.0 : 1.0;
      for (int cls : {l, o})
        for (Eigen::Index s = start[static_cast<size_t>(cls)];
             s < start[static_cast<size_t>(cls) + 1]; ++s)
          art_coef_(s, l) += sign * mult * pub * dual_coef_(row, s);
    }
  art_coef_rm_.resize(static_cast<size_t>(art_coef_.size()));
  for (Eigen::Index s = 0; s < nsv; ++s)
    for (int l = 0; l < k; ++l) art_coef_rm_[static_cast<size_t>(s * k + l)] = art_coef_(s, l);
}

void SvmModel::check_input(uint64_t cols) const {
  if (!fitted()) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the SVM is not fitted");
  if (cols != n_features())
    invalid("input has " + std::to_string(cols) + " features, the model expects " +
            std::to_string(n_features()));
}

RowMatrix SvmModel::kernel_rows(const RowMatrix& xm) const {
  const double g = kernel_.gamma, c0 = kernel_.coef0;
  switch (kernel_.type) {
    case Kernel::rbf:
      return rbf_kernel(xm, xm.rowwise().squaredNorm(), sv_, sv_sq_, g);
    case Kernel::linear:
      return xm * sv_.transpose();
    case Kernel::poly: {
      RowMatrix k = ((xm * sv_.transpose()) * g).array() + c0;
      const int deg = static_cast<int>(kernel_.degree);
      return k.unaryExpr([deg](double v) { return std::pow(v, deg); });
    }
    case Kernel::sigmoid:
      return (((xm * sv_.transpose()) * g).array() + c0).tanh().matrix();
  }
  return {};
}

void SvmModel::for_kernel_blocks(
    const double* x, uint64_t rows,
    const std::function<void(const RowMatrix&, uint64_t, uint64_t)>& body) const {
  constexpr uint64_t kBlock = 256;
  const uint64_t blocks = (rows + kBlock - 1) / kBlock;
  const auto cols = sv_.cols();
  parallel_for(blocks, resolve_jobs(n_jobs_, blocks), [&](size_t b) {
    const uint64_t r0 = b * kBlock, n = std::min(rows - r0, kBlock);
    Eigen::Map<const RowMatrix> xb(x + r0 * static_cast<uint64_t>(cols),
                                   static_cast<Eigen::Index>(n), cols);
    RowMatrix xm = xb;
    body(kernel_rows(xm), r0, n);
  });
}

RowMatrix SvmModel::decision(const double* x, uint64_t rows) const {
  check_input(static_cast<uint64_t>(sv_.cols()));
  const auto pairs = pair_coef_.cols();
  RowMatrix out(static_cast<Eigen::Index>(rows), pairs);
  Eigen::RowVectorXd b = Eigen::Map<const Eigen::RowVectorXd>(intercept_.data(), pairs);
  for_kernel_blocks(x, rows, [&](const RowMatrix& K, uint64_t r0, uint64_t n) {
    out.middleRows(static_cast<Eigen::Index>(r0), static_cast<Eigen::Index>(n)) =
        (K * pair_coef_).rowwise() + b;
  });
  return out;
}

RowMatrix SvmModel::decision_f32(const double* x, uint64_t rows) const {
  check_input(static_cast<uint64_t>(sv_.cols()));
  // The SIMD kernel computes RBF kernels; the others are dot products, computed in float64.
  if (kernel_.type != Kernel::rbf) return decision(x, rows);
  const auto pairs = static_cast<size_t>(pair_coef_.cols());
  const auto d = static_cast<size_t>(sv_.cols());
  const auto nsv = static_cast<size_t>(sv_.rows());
  RowMatrix out(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(pairs));
  constexpr uint64_t kBlock = 256;
  const uint64_t blocks = (rows + kBlock - 1) / kBlock;
  parallel_for(blocks, resolve_jobs(n_jobs_, blocks), [&](size_t b) {
    const uint64_t r0 = b * kBlock, n = std::min(rows - r0, kBlock);
    std::vector<float> xf(n * d), scratch(4 * nsv);
    for (size_t i = 0; i < xf.size(); ++i) xf[i] = static_cast<float>(x[r0 * d + i]);
    simd::rbf_decision_f32(xf.data(), n, d, sv_t_f32_.data(), nsv,
                           static_cast<float>(kernel_.gamma), coef_t_f32_.data(), pairs,
                           intercept_.data(), out.data() + r0 * pairs, scratch.data());
  });
  return out;
}

void SvmModel::predict_proba(const double* x, uint64_t rows, double* out) const {
  check_input(static_cast<uint64_t>(sv_.cols()));
  if (prob_a_.empty()) return vote_shares(x, rows, out);
  const int k = static_cast<int>(n_classes_);
  const auto pairs = static_cast<size_t>(pair_coef_.cols());
  const auto d = static_cast<size_t>(sv_.cols());
  const auto nsv = static_cast<size_t>(sv_.rows());
  constexpr double kMin = 1e-7;
  constexpr uint64_t kBlock = 256;
  const uint64_t blocks = (rows + kBlock - 1) / kBlock;
  parallel_for(blocks, resolve_jobs(n_jobs_, blocks), [&](size_t b) {
    const uint64_t r0 = b * kBlock, n = std::min(rows - r0, kBlock);
    std::vector<double> dec(n * pairs);
    if (kernel_.type == Kernel::rbf) {
      std::vector<float> xf(n * d), scratch(4 * nsv);
      for (size_t i = 0; i < xf.size(); ++i) xf[i] = static_cast<float>(x[r0 * d + i]);
      simd::rbf_decision_f32(xf.data(), n, d, sv_t_f32_.data(), nsv,
                             static_cast<float>(kernel_.gamma), coef_t_f32_.data(), pairs,
                             intercept_.data(), dec.data(), scratch.data());
    } else {
      Eigen::Map<RowMatrix>(dec.data(), static_cast<Eigen::Index>(n),
                            static_cast<Eigen::Index>(pairs)) = decision(x + r0 * d, n);
    }
    Eigen::MatrixXd r(k, k);
    for (uint64_t row = 0; row < n; ++row) {
      size_t p = 0;
      for (int i = 0; i < k; ++i)
        for (int j = i + 1; j < k; ++j, ++p) {
          double v = sigmoid_predict(dec[row * pairs + p], prob_a_[p], prob_b_[p]);
          v = std::min(std::max(v, kMin), 1 - kMin);
          r(i, j) = v;
          r(j, i) = 1 - v;
        }
      // Coupled for two classes as well, as scikit-learn's libsvm does (its iterative solution
      // differs from r(0, 1) by up to the solver tolerance, 0.005 / k).
      multiclass_probability(k, r, out + (r0 + row) * static_cast<uint64_t>(k));
    }
  });
}

RowMatrix SvmModel::decision_exact_sign(const double* x, uint64_t rows) const {
  RowMatrix dec = decision_f32(x, rows);
  if (kernel_.type != Kernel::rbf) return dec;  // already float64
  // Where a float32 value is too close to 0 for its sign to be trusted, the row is recomputed in
  // float64. The margin, 2^-12 of the pair's coefficient mass Σ|coef| + |intercept|, is orders of
  // magnitude above the float32 error (kernels ≤ 1, relative error ~1e-7 each, see
  // docs/models.md), and only rows near a boundary fall inside it.
  const auto pairs = pair_coef_.cols();
  Eigen::RowVectorXd margin(pairs);
  for (Eigen::Index p = 0; p < pairs; ++p)
    margin[p] = 0x1p-12 * (pair_coef_.col(p).cwiseAbs().sum() +
                           std::fabs(intercept_[static_cast<size_t>(p)]));
  std::vector<int> close;
  for (Eigen::Index r = 0; r < dec.rows(); ++r)
    if ((dec.row(r).cwiseAbs().array() < margin.array()).any())
      close.push_back(static_cast<int>(r));
  if (close.empty()) return dec;
  const RowMatrix exact =
      decision(gather_rows(x, static_cast<uint64_t>(sv_.cols()), close).data(), close.size());
  for (size_t q = 0; q < close.size(); ++q)
    dec.row(close[q]) = exact.row(static_cast<Eigen::Index>(q));
  return dec;
}

void SvmModel::vote_shares(const double* x, uint64_t rows, double* out) const {
  // libsvm's predict (scikit-learn's SVC.predict): pair (i, j) votes for i when f_ij > 0, else
  // for j; the first class with the most votes wins. The shares of the votes are the
  // "probabilities", so their first maximum is exactly that class.
  const int k = static_cast<int>(n_classes_);
  const RowMatrix dec = decision_exact_sign(x, rows);
  const double share = 1.0 / static_cast<double>(dec.cols());
  for (uint64_t row = 0; row < rows; ++row) {
    double* o = out + row * static_cast<uint64_t>(k);
    std::fill(o, o + k, 0.0);
    Eigen::Index p = 0;
    for (int i = 0; i < k; ++i)
      for (int j = i + 1; j < k; ++j, ++p)
        o[dec(static_cast<Eigen::Index>(row), p) > 0 ? i : j] += share;
  }
}

Eigen::VectorXd SvmModel::loss(const double* x, uint64_t rows, const int32_t* y) const {
  check_input(n_features());
  Eigen::VectorXd out(static_cast<Eigen::Index>(rows));
  for_kernel_blocks(x, rows, [&](const RowMatrix& K, uint64_t r0, uint64_t n) {
    for (uint64_t q = 0; q < n; ++q)
      out[static_cast<Eigen::Index>(r0 + q)] =
          K.row(static_cast<Eigen::Index>(q)).dot(art_coef_.col(y[r0 + q]));
  });
  return out;
}

void SvmModel::loss_gradient(const double* x, uint64_t rows, const int32_t* y, double* out) const {
  check_input(n_features());
  for (uint64_t r = 0; r < rows; ++r)
    if (y[r] < 0 || static_cast<uint32_t>(y[r]) >= n_classes_)
      invalid("label " + std::to_string(y[r]) + " of row " + std::to_string(r) + " is outside 0.." +
              std::to_string(n_classes_ - 1));
  const auto d = static_cast<size_t>(sv_.cols());
  const auto nsv = static_cast<size_t>(sv_.rows());
  constexpr uint64_t kBlock = 256;
  const uint64_t blocks = (rows + kBlock - 1) / kBlock;
  if (kernel_.type != Kernel::rbf) {
    // The other kernels are functions of t = <x, s>: d/dx K = k'(t) s, so with
    // w = k'(t) ∘ weights[:, label], grad = w S (float64). k' is ART 1.20's where ART has one:
    // linear 1; poly degree (gamma t + coef0)^(degree - 1), without the factor gamma (ART's
    // expression; a positive factor common to every term, so the direction is the same);
    // sigmoid, for which ART implements no gradient, the exact gamma (1 - tanh^2(gamma t + coef0)).
    const double g = kernel_.gamma, c0 = kernel_.coef0;
    const int deg = static_cast<int>(kernel_.degree);
    parallel_for(blocks, resolve_jobs(n_jobs_, blocks), [&](size_t b) {
      const uint64_t r0 = b * kBlock, n = std::min(rows - r0, kBlock);
      Eigen::Map<const RowMatrix> xb(x + r0 * d, static_cast<Eigen::Index>(n),
                                     static_cast<Eigen::Index>(d));
      RowMatrix w = xb * sv_.transpose();  // t, then k'(t) ∘ weights
      for (Eigen::Index q = 0; q < w.rows(); ++q) {
        const int32_t label = y[r0 + static_cast<uint64_t>(q)];
        for (Eigen::Index s = 0; s < w.cols(); ++s) {
          const double t = w(q, s);
          double dk = 1.0;
          if (kernel_.type == Kernel::poly)
            dk = deg == 0 ? 0.0 : deg * std::pow(g * t + c0, deg - 1);
          else if (kernel_.type == Kernel::sigmoid)
            dk = g * (1.0 - std::pow(std::tanh(g * t + c0), 2));
          w(q, s) = dk * art_coef_(s, label);
        }
      }
      Eigen::Map<RowMatrix>(out + r0 * d, static_cast<Eigen::Index>(n),
                            static_cast<Eigen::Index>(d)) = w * sv_;
    });
    return;
  }
  // d/dx K(s, x) = -2 gamma K(s, x) (x - s), so with w = K ∘ weights[:, label]:
  // grad = -2 gamma (sum(w) x - w S). Kernels in float32 (SIMD), sums in float64.
  parallel_for(blocks, resolve_jobs(n_jobs_, blocks), [&](size_t b) {
    const uint64_t r0 = b * kBlock, n = std::min(rows - r0, kBlock);
    std::vector<float> xf(n * d), scratch(4 * nsv);
    for (size_t i = 0; i < xf.size(); ++i) xf[i] = static_cast<float>(x[r0 * d + i]);
    simd::rbf_gradient(x + r0 * d, xf.data(), n, d, sv_t_f32_.data(), sv_.data(), nsv,
                       static_cast<float>(kernel_.gamma), art_coef_rm_.data(), n_classes_, y + r0,
                       out + r0 * d, scratch.data());
  });
}

}  // namespace secmlops::plugins::rbf_svm
