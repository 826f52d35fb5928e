#include "rbf_simd.hpp"

#include <immintrin.h>
#include <cmath>
#include <cstdint>

#include <bit>

// Compiled once per instruction set (secmlops_isa_variants): plain headers only.
namespace secmlops::plugins::rbf_svm::simd::SECMLOPS_ISA_NS {

namespace {

// Squared distances with one arithmetic in every variant with FMA (fused multiply-add in
// feature order), so a row's result does not depend on the register width or on whether it was
// computed in a group of four; the portable copy rounds the products separately (the last bit
// may differ).
[[maybe_unused]] inline float distance_tail(const float* x, std::size_t d, const float* sv_t,
                                            std::size_t nsv, std::size_t j) {
  float acc = 0;
  for (std::size_t k = 0; k < d; ++k) {
    const float t = x[k] - sv_t[k * nsv + j];
#if defined(__FMA__)
    acc = std::fma(t, t, acc);
#else
    acc += t * t;
#endif
  }
  return acc;
}

#if defined(__AVX2__)
#if defined(__AVX512F__)
using Vec = __m512;
constexpr std::size_t kWidth = 16;
Vec zero() { return _mm512_setzero_ps(); }
Vec load(const float* p) { return _mm512_loadu_ps(p); }
Vec splat(float v) { return _mm512_set1_ps(v); }
Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
#else
using Vec = __m256;
constexpr std::size_t kWidth = 8;
Vec zero() { return _mm256_setzero_ps(); }
Vec load(const float* p) { return _mm256_loadu_ps(p); }
Vec splat(float v) { return _mm256_set1_ps(v); }
Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
#endif

// ||x_r - s_j||^2 for four rows r and every j (out: 4 × nsv); sv_t is feature-major. Each
// support-vector load serves four rows; eight accumulators stay in registers.
void squared_distances4(const float* x, std::size_t d, const float* sv_t, std::size_t nsv,
                        float* out) {
  std::size_t j = 0;
  for (; j + 2 * kWidth <= nsv; j += 2 * kWidth) {
    Vec a[4][2];
    for (auto& r : a) r[0] = r[1] = zero();
    for (std::size_t k = 0; k < d; ++k) {
      const float* s = sv_t + k * nsv + j;
      const Vec s0 = load(s), s1 = load(s + kWidth);
      for (std::size_t r = 0; r < 4; ++r) {
        const Vec xk = splat(x[r * d + k]);
        const Vec t0 = sub(xk, s0), t1 = sub(xk, s1);
        a[r][0] = fmadd(t0, t0, a[r][0]);
        a[r][1] = fmadd(t1, t1, a[r][1]);
      }
    }
    for (std::size_t r = 0; r < 4; ++r) {
      store(out + r * nsv + j, a[r][0]);
      store(out + r * nsv + j + kWidth, a[r][1]);
    }
  }
  for (; j < nsv; ++j)
    for (std::size_t r = 0; r < 4; ++r)
      out[r * nsv + j] = distance_tail(x + r * d, d, sv_t, nsv, j);
}

void squared_distances(const float* x, std::size_t d, const float* sv_t, std::size_t nsv,
                       float* out) {
  std::size_t j = 0;
  for (; j + kWidth <= nsv; j += kWidth) {
    Vec a = zero();
    for (std::size_t k = 0; k < d; ++k) {
      const Vec t = sub(splat(x[k]), load(sv_t + k * nsv + j));
      a = fmadd(t, t, a);
    }
    store(out + j, a);
  }
  for (; j < nsv; ++j) out[j] = distance_tail(x, d, sv_t, nsv, j);
}
#else
// Without AVX2: feature by feature over all support vectors (the compiler vectorises with SSE2).
void squared_distances(const float* x, std::size_t d, const float* sv_t, std::size_t nsv,
                       float* out) {
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

void squared_distances4(const float* x, std::size_t d, const float* sv_t, std::size_t nsv,
                        float* out) {
  for (std::size_t r = 0; r < 4; ++r) squared_distances(x + r * d, d, sv_t, nsv, out + r * nsv);
}
#endif

// exp(-gamma · dist[j]) in place for j < nsv: 2^n · p(f) with a degree-6 polynomial for 2^f on
// [-0.5, 0.5] (relative error below 2e-7, i.e. float precision); arguments below -87 give
// exp(-87) ≈ 1.6e-38 instead of smaller values. Written for the auto-vectoriser.
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
  if (r % 4 == 0) {
    const std::size_t end = r + 4 <= rows ? r + 4 : rows;
    if (end == r + 4)
      squared_distances4(x + r * d, d, sv_t, nsv, scratch);
    else
      for (std::size_t q = r; q < end; ++q)
        squared_distances(x + q * d, d, sv_t, nsv, scratch + (q - r) * nsv);
    for (std::size_t q = r; q < end; ++q) exp_neg_scaled(scratch + (q - r) * nsv, nsv, gamma);
  }
  return scratch + (r % 4) * nsv;
}

}  // namespace

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

}  // namespace secmlops::plugins::rbf_svm::simd::SECMLOPS_ISA_NS
