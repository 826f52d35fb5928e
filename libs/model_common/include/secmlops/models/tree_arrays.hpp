// A forest of classification trees as flat arrays in one ONNX node: what the scikit-learn
// importer hands the random_forest plugin. The standard TreeEnsembleClassifier spells every node
// out in ten repeated attributes (varints and strings: about 130 ms to write and read back for
// 200,000 nodes); this node holds the trees as raw little-endian tensors, which both sides copy
// or read in place. It lives in secmlops's own ONNX domain and is never written to a file: the
// plugin exports a forest as TreeEnsembleClassifier.
//
// Any node order is accepted (a tree is relaid out when needed). The importer writes each tree in
// the plugin's own order, which the plugin takes without relayout: every split's children next to
// each other after it (right = left + 1 > the split's index).
//
// Node: domain kDomain, op_type kOpType, input X (float, N × features), outputs label and
// probabilities like TreeEnsembleClassifier. Attributes (TENSOR with raw_data unless noted):
//   tree_starts     INT64  [trees + 1]  node ranges of the trees in the arrays below (0 … nodes)
//   left_children   INT32  [nodes]      index within its tree; -1 at a leaf
//   right_children  INT32  [nodes]      index within its tree; -1 at a leaf
//   features        INT32  [nodes]      split feature (ignored at leaves)
//   thresholds      FLOAT  [nodes]      a row goes left when float(x[feature]) <= threshold
//   leaf_weights    FLOAT  [leaves × n_classes]  one row per leaf (both children -1), in node
//                                       order across the trees; summed over trees at the leaves
//                                       a row reaches: predict_proba. float32 like
//                                       TreeEnsembleClassifier's class_weights
//   n_classes       INT (attribute i)
// The number of features is the input's second dimension.
#pragma once

namespace secmlops::models::tree_arrays {

inline constexpr const char* kDomain = "ai.secmlops";
inline constexpr const char* kOpType = "TreeArrays";
inline constexpr const char* kTreeStarts = "tree_starts";
inline constexpr const char* kLeft = "left_children";
inline constexpr const char* kRight = "right_children";
inline constexpr const char* kFeatures = "features";
inline constexpr const char* kThresholds = "thresholds";
inline constexpr const char* kLeafWeights = "leaf_weights";
inline constexpr const char* kClasses = "n_classes";

}  // namespace secmlops::models::tree_arrays
