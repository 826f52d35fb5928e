// The MLP's forward pass and input gradient, one copy per instruction set
// (secmlops/models/isa.hpp); plain pointers at this boundary.
#pragma once

#include <secmlops/models/isa.hpp>

#include <cstddef>
#include <cstdint>

namespace secmlops::plugins::mlp::kernels {

struct DenseView {
  const double* w;  // in × out, row-major
  const double* b;  // out
  int64_t in, out;
};

SECMLOPS_ISA_DECLARE(
    // Softmax probabilities of `rows` rows of x (row-major, layers[0].in columns) into out
    // (rows × layers[n - 1].out): ReLU hidden layers, softmax output.
    void predict(const DenseView* layers, std::size_t n, const double* x, int64_t rows,
                 double* out);
    // Gradient of −log p_y(x) with respect to x for every row, into out (rows × layers[0].in).
    void loss_gradient(const DenseView* layers, std::size_t n, const double* x, const int32_t* y,
                       int64_t rows, double* out))

}  // namespace secmlops::plugins::mlp::kernels
