// The batch prediction of a linear classifier (logreg, linear_svm) and two probes of the machine
// that benchmarks report kernels against, one copy per instruction set (secmlops/models/isa.hpp).
// Plain pointers at this boundary: the copies are compiled with different Eigen namespaces.
#pragma once

#include <secmlops/models/isa.hpp>

#include <cstdint>

namespace secmlops::models::kernels {

enum class LinearLink {
  binary,       // one score row: p1 = σ(z), p0 = 1 − p1
  softmax,      // k scores: softmax
  one_vs_rest,  // k scores: σ(z) per class, then divided by their sum
};

struct LinearView {
  const double* coef;       // k × d, row-major
  const double* intercept;  // k
  int64_t k, d;
};

SECMLOPS_ISA_DECLARE(
    // out: rows × (binary ? 2 : k) probabilities, row-major; x: rows × d, row-major.
    void linear_predict_proba(const LinearView& model, LinearLink link, const double* x,
                              int64_t rows, double* out))

SECMLOPS_ISA_DECLARE(
    // The sum of n doubles, vectorised: a pass that only reads its input once.
    double read_once(const double* x, int64_t n))

SECMLOPS_ISA_DECLARE(
    // Independent multiply-add chains in the widest registers of the variant (fused with FMA,
    // a multiply and an add without): `iterations` rounds, returns the floating-point operations
    // done; `sink` receives a result so nothing is optimised away.
    int64_t peak_flops(int64_t iterations, double* sink))

}  // namespace secmlops::models::kernels
