#pragma once

// Synthetic classification data for pipelines, in the manner of scikit-learn's
// make_classification: one Gaussian cluster per class at a vertex of a hypercube in the
// informative subspace, redundant features as random linear combinations of the informative
// ones, the rest noise, a fraction of labels flipped. The generator and its distributions are
// our own, so a seed gives the same data on every platform (not scikit-learn's numbers).
#include "spec.hpp"

#include "secmlops/host/matrix.hpp"

#include <vector>

namespace secmlops::app::pipeline {

struct Synthetic {
  host::DenseMatrix x;
  std::vector<int32_t> y;
};

Synthetic make_classification(const GenerateSpec& spec);

}  // namespace secmlops::app::pipeline
