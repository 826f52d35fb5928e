#include "secmlops/host/model_eval.hpp"

#include <spdlog/fmt/fmt.h>
#include <algorithm>
#include <cmath>

#include <cstdio>
#include <numeric>
#include <random>
#include <stdexcept>

namespace secmlops::host {

Split train_test_split(size_t n, double test_size, uint64_t seed) {
  if (!(test_size >= 0 && test_size < 1))
    throw std::invalid_argument("test size must be in [0, 1)");
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  // No test rows: the training rows, shuffled then sorted, are every row in order; the shuffle
  // would change nothing.
  if (test_size == 0) return Split{std::move(idx), {}};
  // Fisher–Yates with std::mt19937_64 and rejection sampling: the same split on every platform.
  std::mt19937_64 rng(seed);
  for (size_t i = n; i > 1; --i) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % i, v;
    do v = rng();
    while (v >= limit);
    std::swap(idx[i - 1], idx[v % i]);
  }
  size_t n_test = static_cast<size_t>(std::ceil(static_cast<double>(n) * test_size));
  if (test_size > 0 && n_test >= n)
    throw std::invalid_argument("test split leaves no training rows");
  Split s;
  s.test.assign(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n_test));
  s.train.assign(idx.begin() + static_cast<std::ptrdiff_t>(n_test), idx.end());
  std::sort(s.test.begin(), s.test.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

DenseMatrix take_rows(const DenseMatrix& m, const std::vector<size_t>& rows) {
  DenseMatrix out(rows.size(), m.cols);
  for (size_t r = 0; r < rows.size(); ++r)
    std::copy_n(m.data.begin() + static_cast<std::ptrdiff_t>(rows[r] * m.cols), m.cols,
                out.data.begin() + static_cast<std::ptrdiff_t>(r * m.cols));
  return out;
}

std::vector<int32_t> take(const std::vector<int32_t>& v, const std::vector<size_t>& rows) {
  std::vector<int32_t> out;
  out.reserve(rows.size());
  for (size_t r : rows) out.push_back(v[r]);
  return out;
}

ClassificationMetrics classification_metrics(const DenseMatrix& proba,
                                             const std::vector<int32_t>& y) {
  if (y.size() != proba.rows)
    throw std::invalid_argument("labels and predictions differ in length");
  ClassificationMetrics m;
  m.rows = proba.rows;
  if (proba.rows == 0) return m;
  uint64_t correct = 0;
  double loss = 0;
  const auto predicted = argmax_rows(proba);
  for (uint64_t r = 0; r < proba.rows; ++r) {
    const double* row = proba.data.data() + r * proba.cols;
    correct += predicted[r] == y[r];
    double p = (y[r] >= 0 && static_cast<uint64_t>(y[r]) < proba.cols) ? row[y[r]] : 0.0;
    loss -= std::log(std::clamp(p, 1e-15, 1.0));
  }
  m.accuracy = static_cast<double>(correct) / static_cast<double>(proba.rows);
  m.log_loss = loss / static_cast<double>(proba.rows);
  return m;
}

OverfittingReport overfitting_report(const ClassificationMetrics& train,
                                     const ClassificationMetrics& test) {
  OverfittingReport r;
  r.train = train;
  r.test = test;
  r.accuracy_gap = train.accuracy - test.accuracy;
  r.log_loss_gap = test.log_loss - train.log_loss;
  bool acc = r.accuracy_gap > kOverfitAccuracyGap;
  bool loss = r.log_loss_gap > kOverfitLogLossGap;
  r.flagged = acc || loss;
  if (r.flagged) {
    std::string why;
    if (acc)
      why = fmt::format("train accuracy exceeds held-out accuracy by {:.1f} points",
                        100 * r.accuracy_gap);
    if (loss)
      why += fmt::format("{}held-out log-loss exceeds train log-loss by {:.3f}", acc ? "; " : "",
                         r.log_loss_gap);
    r.verdict =
        fmt::format("overfitting: {} (thresholds: accuracy gap {:.2f}, log-loss gap {:.2f})", why,
                    kOverfitAccuracyGap, kOverfitLogLossGap);
  } else {
    r.verdict = fmt::format(
        "no overfitting detected (accuracy gap {:.4f} <= {:.2f}, log-loss gap {:.4f} <= {:.2f})",
        r.accuracy_gap, kOverfitAccuracyGap, r.log_loss_gap, kOverfitLogLossGap);
  }
  return r;
}

}  // namespace secmlops::host
