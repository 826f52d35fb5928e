// Compiled once per instruction set (secmlops_isa_variants): nothing but Eigen and plain headers.
#include "mlp_kernels.hpp"

#include <Eigen/Dense>

#include <vector>

namespace secmlops::plugins::mlp::kernels::SECMLOPS_ISA_NS {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMatrix>;
using Map = Eigen::Map<RowMatrix>;

ConstMap weights(const DenseView& l) { return {l.w, l.in, l.out}; }
Eigen::Map<const Eigen::RowVectorXd> bias(const DenseView& l) { return {l.b, l.out}; }

// Row-wise softmax in place (subtracting the row max keeps exp finite).
void softmax_rows(RowMatrix& z) {
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    auto row = z.row(r);
    const double m = row.maxCoeff();
    row = (row.array() - m).exp().matrix();
    row /= row.sum();
  }
}

}  // namespace

void predict(const DenseView* layers, std::size_t n, const double* xp, int64_t rows, double* out) {
  // Two ping-pong buffers instead of keeping every layer's activations.
  RowMatrix cur, next;
  for (std::size_t l = 0; l < n; ++l) {
    if (l == 0)
      next.noalias() = ConstMap(xp, rows, layers[0].in) * weights(layers[0]);
    else
      next.noalias() = cur * weights(layers[l]);
    next.rowwise() += bias(layers[l]);
    if (l + 1 < n) next = next.cwiseMax(0.0);
    std::swap(cur, next);
  }
  softmax_rows(cur);
  Map(out, rows, cur.cols()) = cur;
}

void loss_gradient(const DenseView* layers, std::size_t n, const double* xp, const int32_t* y,
                   int64_t rows, double* out) {
  // acts[l] is the input of layer l (acts[0] = x); the last layer's output is `delta`.
  std::vector<RowMatrix> acts(n);
  acts[0] = ConstMap(xp, rows, layers[0].in);
  RowMatrix delta;
  for (std::size_t l = 0; l < n; ++l) {
    RowMatrix& a = l + 1 < n ? acts[l + 1] : delta;
    a.noalias() = acts[l] * weights(layers[l]);
    a.rowwise() += bias(layers[l]);
    if (l + 1 < n) a = a.cwiseMax(0.0);
  }
  softmax_rows(delta);
  for (Eigen::Index i = 0; i < rows; ++i) delta(i, y[i]) -= 1.0;  // d(−log p_y)/dz = p − e_y
  for (std::size_t l = n; l-- > 0;) {
    RowMatrix back = delta * weights(layers[l]).transpose();
    if (l > 0) back.array() *= (acts[l].array() > 0.0).cast<double>();  // ReLU'
    delta.swap(back);
  }
  Map(out, rows, layers[0].in) = delta;
}

}  // namespace secmlops::plugins::mlp::kernels::SECMLOPS_ISA_NS
