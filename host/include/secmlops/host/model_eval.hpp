#pragma once

#include "secmlops/host/matrix.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace secmlops::host {

// A seeded shuffle split: `test_size` is a fraction in [0, 1); the test part has
// ceil(n · test_size) rows (as scikit-learn's train_test_split). Same seed, same split. Both
// parts list their rows in ascending order, so test_size 0 trains on every row in order.
struct Split {
  std::vector<size_t> train;
  std::vector<size_t> test;
};
Split train_test_split(size_t n, double test_size, uint64_t seed);

DenseMatrix take_rows(const DenseMatrix& m, const std::vector<size_t>& rows);
std::vector<int32_t> take(const std::vector<int32_t>& v, const std::vector<size_t>& rows);

struct ClassificationMetrics {
  uint64_t rows = 0;
  double accuracy = 0;
  // Mean cross-entropy −log p_y with p clipped to [1e-15, 1] (scikit-learn's log_loss).
  double log_loss = 0;
};
ClassificationMetrics classification_metrics(const DenseMatrix& proba,
                                             const std::vector<int32_t>& y);

// Overfitting: a model that does much better on the rows it was trained on than on held-out
// rows has memorised them. The host computes it from predict_proba, so the figure means the
// same for every model family.
inline constexpr double kOverfitAccuracyGap = 0.05;  // train − held-out accuracy above 5 points
inline constexpr double kOverfitLogLossGap = 0.10;   // held-out − train log-loss above 0.10 nats

struct OverfittingReport {
  ClassificationMetrics train;
  ClassificationMetrics test;
  double accuracy_gap = 0;  // train − test
  double log_loss_gap = 0;  // test − train
  bool flagged = false;
  std::string verdict;  // one sentence
};
OverfittingReport overfitting_report(const ClassificationMetrics& train,
                                     const ClassificationMetrics& test);

}  // namespace secmlops::host
