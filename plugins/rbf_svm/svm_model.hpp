// C-support vector classification with the RBF kernel, one-vs-one for several classes — the
// algorithm behind the rbf_svm plugin. Fitting uses the RBF kernel; an imported model (ONNX
// SVMClassifier, scikit-learn's SVC) may use libsvm's other kernels as well (see Kernel). The
// layout of a fitted model is libsvm's (and therefore scikit-learn's and ONNX SVMClassifier's):
// support vectors grouped by class, a (n_classes - 1) × n_sv coefficient matrix, one intercept per
// class pair.
//
// After fit every parameter is rounded to float32, the precision ONNX stores, so that an
// exported model predicts exactly what the fitted one does.
#pragma once

#include <Eigen/Dense>
#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace secmlops::plugins::rbf_svm {

namespace sdk = secmlops::sdk;

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct SvmParams {
  double C = 1.0;
  std::string gamma = "scale";  // scale | auto | a positive number
  double tol = 1e-3;
  int64_t max_iter = -1;    // -1: libsvm's own cap, max(10^7, 100 × samples)
  double cache_size = 200;  // MB of kernel rows kept per binary problem
  int probability_cv = 5;   // folds for Platt scaling; 0: fit the sigmoid on training decisions
  uint64_t seed = 0;        // shuffles the Platt cross-validation folds
  int n_jobs = 0;           // threads for batch kernels; 0: hardware concurrency
};

// Parses and validates plugin parameters; throws sdk::Error(INVALID_ARGUMENT) naming the parameter.
// Which keys exist is the plugin's declaration (rbf_svm_plugin.cpp): the host refuses undeclared
// ones before the plugin sees them, so other keys are not looked at here.
SvmParams parse_params(const sdk::Config& config);

// libsvm's kernels, as scikit-learn's SVC and ONNX's SVMClassifier define them:
//   rbf      exp(-gamma ||x - s||^2)       linear   <x, s>
//   poly     (gamma <x, s> + coef0)^degree  sigmoid  tanh(gamma <x, s> + coef0)
struct Kernel {
  enum Type { rbf, linear, poly, sigmoid } type = rbf;
  double gamma = 0;
  double coef0 = 0;
  double degree = 3;
  [[nodiscard]] const char* name() const;       // "rbf", "linear", "poly", "sigmoid"
  [[nodiscard]] const char* onnx_name() const;  // "RBF", "LINEAR", "POLY", "SIGMOID"
};

// Solution of one binary C-SVC dual: f(x) = sum_i coef[i] K(x_i, x) + intercept.
struct BinarySolution {
  std::vector<double> coef;  // y_i alpha_i per training sample of the subproblem
  double intercept = 0;
  int64_t iterations = 0;
  bool converged = true;
};

// SMO with libsvm's second-order working-set selection (Fan, Chen & Lin 2005), an LRU kernel
// row cache and no shrinking. x: rows × cols (row-major), y: +1/-1.
BinarySolution solve_binary(const RowMatrix& x, const std::vector<int8_t>& y, double C,
                            double gamma, double tol, int64_t max_iter, double cache_mb,
                            const std::function<void()>& check_cancelled = {});

class SvmModel {
 public:
  void fit(const double* x, uint64_t rows, uint64_t cols, std::span<const int32_t> y,
           const SvmParams& params, const std::function<void(const std::string&)>& log = {},
           const std::function<void()>& check_cancelled = {});

  // Pairwise decision values, rows × n_pairs in libsvm order (0,1), (0,2), …, (1,2), …;
  // positive means the first class of the pair. Kernels in float64.
  [[nodiscard]] RowMatrix decision(const double* x, uint64_t rows) const;
  // The same in float32 (kernels and sums; the model's parameters are float32 anyway) with a
  // SIMD kernel: what predict_proba uses.
  [[nodiscard]] RowMatrix decision_f32(const double* x, uint64_t rows) const;
  // With Platt parameters: libsvm's coupled probabilities (scikit-learn's predict_proba, whose
  // argmax ART uses as the label). Without them (an SVC fitted with probability=False): the
  // shares of libsvm's pairwise votes, whose first maximum is scikit-learn's predict.
  void predict_proba(const double* x, uint64_t rows, double* out) const;
  // decision_f32, with the rows where some value is too close to 0 for the float32 sign to be
  // trusted recomputed by decision(): the signs are those of the float64 decision values.
  [[nodiscard]] RowMatrix decision_exact_sign(const double* x, uint64_t rows) const;
  // The loss ART's ScikitlearnSVC.loss_gradient differentiates (see docs/models.md), in
  // float64, and its input gradient (rows × cols): kernels in float32 with the SIMD kernel,
  // weighted sums in float64 (relative error ~1e-7).
  [[nodiscard]] Eigen::VectorXd loss(const double* x, uint64_t rows, const int32_t* y) const;
  void loss_gradient(const double* x, uint64_t rows, const int32_t* y, double* out) const;

  // Replaces the model (ONNX import); validates shapes and values, then derives caches.
  void assign(RowMatrix support_vectors, std::vector<int> n_support, RowMatrix dual_coef,
              std::vector<double> intercept, std::vector<double> prob_a, std::vector<double> prob_b,
              double gamma);
  void assign(RowMatrix support_vectors, std::vector<int> n_support, RowMatrix dual_coef,
              std::vector<double> intercept, std::vector<double> prob_a, std::vector<double> prob_b,
              const Kernel& kernel);

  [[nodiscard]] bool fitted() const { return n_classes_ >= 2; }
  [[nodiscard]] uint64_t n_features() const { return static_cast<uint64_t>(sv_.cols()); }
  [[nodiscard]] uint32_t n_classes() const { return n_classes_; }
  [[nodiscard]] double gamma() const { return kernel_.gamma; }
  [[nodiscard]] const Kernel& kernel() const { return kernel_; }
  [[nodiscard]] double C() const { return C_; }
  [[nodiscard]] const RowMatrix& support_vectors() const { return sv_; }
  [[nodiscard]] const std::vector<int>& n_support() const { return n_support_; }
  [[nodiscard]] const RowMatrix& dual_coef() const { return dual_coef_; }
  [[nodiscard]] const std::vector<double>& intercept() const { return intercept_; }
  [[nodiscard]] const std::vector<double>& prob_a() const { return prob_a_; }
  [[nodiscard]] const std::vector<double>& prob_b() const { return prob_b_; }
  void set_n_jobs(int n) { n_jobs_ = n; }

 private:
  void derive();
  void vote_shares(const double* x, uint64_t rows, double* out) const;
  void check_input(uint64_t cols) const;
  // K(x, SV) for the rows of xm, in float64.
  [[nodiscard]] RowMatrix kernel_rows(const RowMatrix& xm) const;
  // Runs body(K_block, first_row, count) over row blocks of K(x, SV), in parallel.
  void for_kernel_blocks(
      const double* x, uint64_t rows,
      const std::function<void(const RowMatrix&, uint64_t, uint64_t)>& body) const;

  uint32_t n_classes_ = 0;
  Kernel kernel_;
  double C_ = 0;
  int n_jobs_ = 0;
  RowMatrix sv_;                   // n_sv × n_features
  std::vector<int> n_support_;     // per class
  RowMatrix dual_coef_;            // (n_classes - 1) × n_sv, libsvm sign
  std::vector<double> intercept_;  // per pair
  std::vector<double> prob_a_, prob_b_;
  // Derived.
  Eigen::VectorXd sv_sq_;            // squared norms of the support vectors
  Eigen::MatrixXd pair_coef_;        // n_sv × n_pairs: coefficient of each SV in each pair
  Eigen::MatrixXd art_coef_;         // n_sv × n_classes: loss weight of each SV for each label
  std::vector<double> art_coef_rm_;  // the same, row-major (n_sv × n_classes)
  std::vector<float> sv_t_f32_;      // n_features × n_sv (feature-major) for predict_proba
  std::vector<float> coef_t_f32_;    // n_pairs × n_sv
};

// Platt's sigmoid fit as libsvm implements it (Lin, Lin & Weng 2007): returns (A, B) with
// P(positive | f) = 1 / (1 + exp(A f + B)).
std::pair<double, double> sigmoid_train(const std::vector<double>& dec,
                                        const std::vector<int8_t>& y);
// Pairwise coupling (Wu, Lin & Weng 2004, method 2); r is k × k with r(i, j) = P(i | i or j).
void multiclass_probability(int k, const Eigen::MatrixXd& r, double* p);

}  // namespace secmlops::plugins::rbf_svm
