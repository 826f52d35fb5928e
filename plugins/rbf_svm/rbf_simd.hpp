// Single-precision RBF decision values for predict_proba: the hot loop of the SVM, compiled once
// per instruction set (portable, AVX2+FMA, AVX-512) and picked at run time
// (secmlops/models/isa.hpp).
#pragma once

#include <secmlops/models/isa.hpp>

#include <cstddef>
#include <cstdint>

namespace secmlops::plugins::rbf_svm::simd {

SECMLOPS_ISA_DECLARE(void rbf_decision_f32(const float* x, std::size_t rows, std::size_t d,
                                           const float* sv_t, std::size_t nsv, float gamma,
                                           const float* coef_t, std::size_t pairs,
                                           const double* bias, double* out, float* scratch);
                     void rbf_gradient(const double* x64, const float* x32, std::size_t rows,
                                       std::size_t d, const float* sv_t, const double* sv64,
                                       std::size_t nsv, float gamma, const double* weights,
                                       std::size_t n_labels, const int32_t* labels, double* out,
                                       float* scratch))

// For each of `rows` rows of x (row-major, d floats each):
//   out[r * pairs + p] = bias[p] + sum_j coef_t[p * nsv + j] * exp(-gamma * ||x_r - s_j||^2)
// where s_j is column j of sv_t (feature-major: sv_t[k * nsv + j]). `scratch` holds 4 × nsv floats.
inline void rbf_decision_f32(const float* x, std::size_t rows, std::size_t d, const float* sv_t,
                             std::size_t nsv, float gamma, const float* coef_t, std::size_t pairs,
                             const double* bias, double* out, float* scratch) {
  SECMLOPS_DISPATCH(rbf_decision_f32)
  (x, rows, d, sv_t, nsv, gamma, coef_t, pairs, bias, out, scratch);
}

// Input gradient of sum_j w_j(r) K(x_r, s_j) with w_j(r) = weights[j * n_labels + label[r]]:
//   out[r * d + c] = -2 gamma sum_j w_j K(x_r, s_j) (x_r[c] - s_j[c]),
// kernels in float32 (as above), weighted sums in float64. x64 is the float64 input, x32 the
// same rows in float32, sv64 the support vectors row-major (nsv × d). `scratch`: 4 × nsv floats.
inline void rbf_gradient(const double* x64, const float* x32, std::size_t rows, std::size_t d,
                         const float* sv_t, const double* sv64, std::size_t nsv, float gamma,
                         const double* weights, std::size_t n_labels, const int32_t* labels,
                         double* out, float* scratch) {
  SECMLOPS_DISPATCH(rbf_gradient)
  (x64, x32, rows, d, sv_t, sv64, nsv, gamma, weights, n_labels, labels, out, scratch);
}

}  // namespace secmlops::plugins::rbf_svm::simd
