// Tree traversal for predict_proba, one copy per instruction set (secmlops/models/isa.hpp).
#pragma once

#include <secmlops/models/isa.hpp>

#include <cstddef>
#include <cstdint>

namespace secmlops::plugins::random_forest::kernels {

// What a prediction step reads of a node, in one load. With at most 256 features the child
// index and the feature share a word (8 bytes a node); otherwise 12 bytes. A step of the walk
// described at Tree (forest.hpp) goes to left + !(row[feature] <= threshold). No member
// functions: inline code here would be compiled into every variant under one name.
struct NarrowNode {
  float threshold;
  int32_t left_feature;  // left · 256 + feature (left is −1 for a single-leaf tree)
};
struct WideNode {
  float threshold;
  int32_t feature, left;
};

template <class Node>
struct TreeView {
  const Node* nodes;
  const int32_t* leaf;   // per node: row of `values`
  const double* values;  // leaves × n_classes
  int depth;
};

SECMLOPS_ISA_DECLARE(
    // out (rows × n_classes) = the sum over trees of the reached leaves' values; with two
    // classes only class 1 is summed and p0 = 1 − p1. xf: rows × cols float32, row-major.
    void predict_narrow(const TreeView<NarrowNode>* trees, std::size_t n_trees, std::size_t n_classes,
                        const float* xf, uint64_t rows, uint64_t cols, double* out);
    void predict_wide(const TreeView<WideNode>* trees, std::size_t n_trees, std::size_t n_classes,
                      const float* xf, uint64_t rows, uint64_t cols, double* out))

}  // namespace secmlops::plugins::random_forest::kernels
