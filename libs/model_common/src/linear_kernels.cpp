// Compiled once per instruction set (secmlops_isa_variants): include nothing but Eigen and plain
// headers here, so that no inline function of another library is compiled with AVX under a
// name the portable code shares.
#include <secmlops/models/linear_kernels.hpp>

#include <Eigen/Dense>

#include <immintrin.h>

namespace secmlops::models::kernels::SECMLOPS_ISA_NS {

namespace {
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMatrix>;
using Map = Eigen::Map<RowMatrix>;
}  // namespace

void linear_predict_proba(const LinearView& m, LinearLink link, const double* xp, int64_t rows,
                          double* op) {
  const ConstMap x(xp, rows, m.d), coef(m.coef, m.k, m.d);
  const Eigen::Map<const Eigen::VectorXd> intercept(m.intercept, m.k);
  if (link == LinearLink::binary) {
    Map out(op, rows, 2);
    Eigen::ArrayXd z = (x * coef.row(0).transpose()).array() + intercept(0);
    Eigen::ArrayXd p = 1.0 / (1.0 + (-z).exp());
    out.col(1) = p.matrix();
    out.col(0) = (1.0 - p).matrix();
    return;
  }
  Map out(op, rows, m.k);
  out.noalias() = x * coef.transpose();
  out.rowwise() += intercept.transpose();
  if (link == LinearLink::softmax) {
    Eigen::ArrayXd zmax = out.rowwise().maxCoeff().array();
    out = (out.colwise() - zmax.matrix()).array().exp().matrix();
  } else {
    out = (1.0 / (1.0 + (-out.array()).exp())).matrix();
  }
  Eigen::ArrayXd s = out.rowwise().sum().array();
  out.array().colwise() /= s;
}

double read_once(const double* x, int64_t n) {
  return Eigen::Map<const Eigen::VectorXd>(x, n).sum();
}

int64_t peak_flops(int64_t iterations, double* sink) {
  // Twelve chains: enough to cover the latency of two multiply-add units.
  constexpr int kChains = 12;
#if defined(__AVX512F__)
  using V = __m512d;
  constexpr int kLanes = 8, kOps = 2;
  auto step = [](V a, V m, V c) { return _mm512_fmadd_pd(a, m, c); };
  auto splat = [](double v) { return _mm512_set1_pd(v); };
  auto lane0 = [](V v) { return _mm512_cvtsd_f64(v); };
#elif defined(__AVX2__)
  using V = __m256d;
  constexpr int kLanes = 4, kOps = 2;
  auto step = [](V a, V m, V c) { return _mm256_fmadd_pd(a, m, c); };
  auto splat = [](double v) { return _mm256_set1_pd(v); };
  auto lane0 = [](V v) { return _mm256_cvtsd_f64(v); };
#else
  using V = __m128d;
  constexpr int kLanes = 2, kOps = 2;
  auto step = [](V a, V m, V c) { return _mm_add_pd(_mm_mul_pd(a, m), c); };
  auto splat = [](double v) { return _mm_set1_pd(v); };
  auto lane0 = [](V v) { return _mm_cvtsd_f64(v); };
#endif
  V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = splat(1.0 + c * 1e-3);
  const V m = splat(0.999999), add = splat(1e-7);
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = step(acc[c], m, add);
  double total = 0;
  for (int c = 0; c < kChains; ++c) total += lane0(acc[c]);
  *sink = total;
  return iterations * kChains * kLanes * kOps;
}

}  // namespace secmlops::models::kernels::SECMLOPS_ISA_NS
