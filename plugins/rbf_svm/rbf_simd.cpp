#include "rbf_simd.hpp"

#include <cmath>
#include <cstdint>
#include <immintrin.h>

#include <bit>

namespace secmlops::plugins::rbf_svm::simd {

namespace {

// ||x_r - s_j||^2 for four rows r and every j (out: 4 × nsv); sv_t is feature-major. Each
// support-vector load serves four rows; eight 8-wide accumulators stay in registers.
__attribute__((target("avx2,fma"))) void squared_distances4_avx2(const float* x, std::size_t d,
                                                                 const float* sv_t, std::size_t nsv,
                                                                 float* out) {
  std::size_t j = 0;
  for (; j + 16 <= nsv; j += 16) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
           a30 = a00, a31 = a00;
    for (std::size_t k = 0; k < d; ++k) {
      const float* s = sv_t + k * nsv + j;
      const __m256 s0 = _mm256_loadu_ps(s), s1 = _mm256_loadu_ps(s + 8);
      __m256 xk = _mm256_set1_ps(x[k]);
      __m256 t0 = _mm256_sub_ps(xk, s0), t1 = _mm256_sub_ps(xk, s1);
      a00 = _mm256_fmadd_ps(t0, t0, a00);
      a01 = _mm256_fmadd_ps(t1, t1, a01);
      xk = _mm256_set1_ps(x[d + k]);
      t0 = _mm256_sub_ps(xk, s0), t1 = _mm256_sub_ps(xk, s1);
      a10 = _mm256_fmadd_ps(t0, t0, a10);
      a11 = _mm256_fmadd_ps(t1, t1, a11);
      xk = _mm256_set1_ps(x[2 * d + k]);
      t0 = _mm256_sub_ps(xk, s0), t1 = _mm256_sub_ps(xk, s1);
      a20 = _mm256_fmadd_ps(t0, t0, a20);
      a21 = _mm256_fmadd_ps(t1, t1, a21);
      xk = _mm256_set1_ps(x[3 * d + k]);
      t0 = _mm256_sub_ps(xk, s0), t1 = _mm256_sub_ps(xk, s1);
      a30 = _mm256_fmadd_ps(t0, t0, a30);
      a31 = _mm256_fmadd_ps(t1, t1, a31);
    }
    _mm256_storeu_ps(out + j, a00);
    _mm256_storeu_ps(out + j + 8, a01);
    _mm256_storeu_ps(out + nsv + j, a10);
    _mm256_storeu_ps(out + nsv + j + 8, a11);
    _mm256_storeu_ps(out + 2 * nsv + j, a20);
    _mm256_storeu_ps(out + 2 * nsv + j + 8, a21);
    _mm256_storeu_ps(out + 3 * nsv + j, a30);
    _mm256_storeu_ps(out + 3 * nsv + j + 8, a31);
  }
  for (; j < nsv; ++j)
    for (std::size_t r = 0; r < 4; ++r) {
      float acc = 0;
      for (std::size_t k = 0; k < d; ++k) {
        const float t = x[r * d + k] - sv_t[k * nsv + j];
        acc = std::fma(t, t, acc);
      }
      out[r * nsv + j] = acc;
    }
}

// One row with the same arithmetic (fused multiply-add in feature order), so a row's result
// does not depend on whether it was computed in a group of four.
__attribute__((target("avx2,fma"))) void squared_distances_avx2(const float* x, std::size_t d,
                                                                const float* sv_t, std::size_t nsv,
                                                                float* out) {
  std::size_t j = 0;
  for (; j + 8 <= nsv; j += 8) {
    __m256 a = _mm256_setzero_ps();
    for (std::size_t k = 0; k < d; ++k) {
      const __m256 t = _mm256_sub_ps(_mm256_set1_ps(x[k]), _mm256_loadu_ps(sv_t + k * nsv + j));
      a = _mm256_fmadd_ps(t, t, a);
    }
    _mm256_storeu_ps(out + j, a);
  }
  for (; j < nsv; ++j) {
    float acc = 0;
    for (std::size_t k = 0; k < d; ++k) {
      const float t = x[k] - sv_t[k * nsv + j];
      acc = std::fma(t, t, acc);
    }
    out[j] = acc;
  }
}

// The same for processors without AVX2/FMA (the results may differ in the last bit).
void squared_distances(const float* x, std::size_t d, const float* sv_t, std::size_t nsv, float* out) {
  for (std::size_t j = 0; j < nsv; ++j) out[j] = 0;
  for (std::size_t k = 0; k < d; ++k) {
    const float xk = x[k];
    const float* s = sv_t + k * nsv;
    for (std::size_t j = 0; j < nsv; ++j) {
      const float t = xk - s[j];
      out[j] += t * t;
    }
  }
}

// exp(-gamma · dist[j]) in place for j < nsv: 2^n · p(f) with a degree-6 polynomial for 2^f on
// [-0.5, 0.5] (relative error below 2e-7, i.e. float precision); arguments below -87 give
// exp(-87) ≈ 1.6e-38 instead of smaller values. Written for the auto-vectoriser.
__attribute__((target_clones("avx2", "default")))
void exp_neg_scaled(float* dist, std::size_t nsv, float gamma) {
  for (std::size_t j = 0; j < nsv; ++j) {
    float v = -gamma * dist[j];
    v = v < -87.0f ? -87.0f : v;
    const float z = v * 1.44269504088896341f;
    const float nf = (z + 12582912.0f) - 12582912.0f;  // round to nearest (1.5 · 2^23)
    const float f = z - nf;
    float p = 1.5403530393381606e-4f;
    p = p * f + 1.3333558146428443e-3f;
    p = p * f + 9.6181291076284772e-3f;
    p = p * f + 5.5504108664821580e-2f;
    p = p * f + 2.4022650695910071e-1f;
    p = p * f + 6.9314718055994531e-1f;
    p = p * f + 1.0f;
    const int32_t bits = (static_cast<int32_t>(nf) + 127) << 23;
    dist[j] = p * std::bit_cast<float>(bits);
  }
}

// Kernel rows for row r of x into scratch + (r % 4) · nsv, computing four rows at once when r is
// a multiple of four; returns that row.
float* kernel_row(const float* x, std::size_t r, std::size_t rows, std::size_t d, const float* sv_t,
                  std::size_t nsv, float gamma, float* scratch) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (r % 4 == 0) {
    const std::size_t end = r + 4 <= rows ? r + 4 : rows;
    if (avx2 && end == r + 4)
      squared_distances4_avx2(x + r * d, d, sv_t, nsv, scratch);
    else
      for (std::size_t q = r; q < end; ++q)
        (avx2 ? squared_distances_avx2 : squared_distances)(x + q * d, d, sv_t, nsv, scratch + (q - r) * nsv);
    for (std::size_t q = r; q < end; ++q) exp_neg_scaled(scratch + (q - r) * nsv, nsv, gamma);
  }
  return scratch + (r % 4) * nsv;
}

}  // namespace

__attribute__((target_clones("avx2", "default")))
void rbf_decision_f32(const float* x, std::size_t rows, std::size_t d, const float* sv_t,
                      std::size_t nsv, float gamma, const float* coef_t, std::size_t pairs,
                      const double* bias, double* out, float* scratch) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* dist = kernel_row(x, r, rows, d, sv_t, nsv, gamma, scratch);
    for (std::size_t p = 0; p < pairs; ++p) {
      const float* c = coef_t + p * nsv;
      float sum[8] = {};
      std::size_t j = 0;
      for (; j + 8 <= nsv; j += 8)
        for (std::size_t q = 0; q < 8; ++q) sum[q] += c[j + q] * dist[j + q];
      double total = bias[p];
      for (; j < nsv; ++j) total += static_cast<double>(c[j]) * dist[j];
      for (float s : sum) total += s;
      out[r * pairs + p] = total;
    }
  }
}

__attribute__((target_clones("avx2", "default")))
void rbf_gradient(const double* x64, const float* x32, std::size_t rows, std::size_t d,
                  const float* sv_t, const double* sv64, std::size_t nsv, float gamma,
                  const double* weights, std::size_t n_labels, const int32_t* labels, double* out,
                  float* scratch) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* kr = kernel_row(x32, r, rows, d, sv_t, nsv, gamma, scratch);
    double* g = out + r * d;
    for (std::size_t c = 0; c < d; ++c) g[c] = 0;
    double wsum = 0;
    const double* w = weights + static_cast<std::size_t>(labels[r]);
    for (std::size_t j = 0; j < nsv; ++j) {
      const double wj = w[j * n_labels] * static_cast<double>(kr[j]);
      wsum += wj;
      const double* s = sv64 + j * d;
      for (std::size_t c = 0; c < d; ++c) g[c] += wj * s[c];
    }
    const double* xr = x64 + r * d;
    const double scale = -2.0 * static_cast<double>(gamma);
    for (std::size_t c = 0; c < d; ++c) g[c] = scale * (wsum * xr[c] - g[c]);
  }
}

}  // namespace secmlops::plugins::rbf_svm::simd
