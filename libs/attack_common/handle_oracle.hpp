#pragma once

#include "oracle.hpp"

#include <secmlops/sdk/plugin.hpp>

namespace secmlops::plugins::attacks {

// The host's model handle as an Oracle: every call is one batch through the host, which counts
// queries; cancellation is the host's job flag.
class HandleOracle final : public Oracle {
 public:
  HandleOracle(const sdk::ModelHandle& model, sdk::Job& job) : m_(model), job_(job) {}
  [[nodiscard]] uint32_t n_classes() const override { return m_.n_classes(); }
  [[nodiscard]] bool has_gradient() const override { return m_.has_gradient(); }
  void predict_proba(const ConstRows& x, RowMatrix& out) override {
    out.resize(x.rows(), m_.n_classes());
    m_.predict_proba(dense(x), out.data());
    count(static_cast<uint64_t>(x.rows()));
  }
  void loss_gradient(const ConstRows& x, LabelSpan y, RowMatrix& out) override {
    out.resize(x.rows(), x.cols());
    m_.loss_gradient(dense(x), y.data(), out.data());
  }
  void check_cancelled() override { job_.check_cancelled(); }

 private:
  // The ABI takes densely packed rows; the attacks only pass whole matrices or row ranges of
  // them, which are (a gapped view would be copied once here).
  sdk::Matrix dense(const ConstRows& x) {
    const double* data = x.data();
    if (x.rows() > 1 && x.outerStride() != x.cols()) {
      packed_ = x;
      data = packed_.data();
    }
    return {data, static_cast<uint64_t>(x.rows()), static_cast<uint64_t>(x.cols())};
  }

  RowMatrix packed_;
  const sdk::ModelHandle& m_;
  sdk::Job& job_;
};

// The host's input matrix seen as an Eigen row-major matrix, without a copy.
inline Eigen::Map<const RowMatrix> view_rows(const sdk::Matrix& x) {
  return {x.data(), static_cast<Eigen::Index>(x.rows()), static_cast<Eigen::Index>(x.cols())};
}

// Copies the input matrix into an Eigen row-major matrix.
inline RowMatrix to_rows(const sdk::Matrix& x) { return view_rows(x); }

inline Labels to_labels(const int32_t* y, uint64_t n) { return y ? Labels(y, y + n) : Labels(); }

// The host's output buffer as an Eigen row-major matrix (attacks may write into it directly).
inline Eigen::Map<RowMatrix> output_rows(double* out, const sdk::Matrix& x) {
  return {out, static_cast<Eigen::Index>(x.rows()), static_cast<Eigen::Index>(x.cols())};
}

// Reports the attack's own counters (the result is already in the host's buffer).
inline void report(sdk::Job& job, const Oracle& oracle, const char* method) {
  job.metric("attack.model_queries", static_cast<double>(oracle.queries()));
  job.property("attack.method", method);
}

// Writes the result into the host's buffer and reports the attack's own counters.
inline void finish(sdk::Job& job, const RowMatrix& adv, double* out, const Oracle& oracle,
                   const char* method) {
  Eigen::Map<RowMatrix>(out, adv.rows(), adv.cols()) = adv;
  report(job, oracle, method);
}

}  // namespace secmlops::plugins::attacks
