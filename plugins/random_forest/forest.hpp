// Random forest of CART trees (Gini), the algorithm behind the random_forest plugin.
//
// Features are binned once per fit (at most 256 bins per feature, cut points at float32 midpoints
// between observed values), so every split search is a histogram pass over the node's samples.
// Thresholds are float32 and a sample goes left when float(x) <= threshold: the same rule as
// ONNX's TreeEnsembleClassifier BRANCH_LEQ on float input, so export → import is exact.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace secmlops::plugins::random_forest {

namespace sdk = secmlops::sdk;

struct ForestParams {
  int n_estimators = 100;
  int max_depth = -1;  // -1: unlimited
  int min_samples_split = 2;
  int min_samples_leaf = 1;
  std::string max_features = "sqrt";  // sqrt | log2 | all | integer count | fraction in (0, 1]
  bool bootstrap = true;
  uint64_t seed = 0;
  int n_jobs = 0;      // 0: std::thread::hardware_concurrency()
  int max_bins = 256;  // 2..256
};

// One tree in a flat array. Children are allocated in pairs: the right child of node i is
// left[i] + 1, and a sample moves to left[i] + !(float(x[feature]) <= threshold), so NaN goes
// right like ONNX's BRANCH_LEQ without missing-value tracking. A leaf has threshold NaN and
// left = itself - 1: it maps to itself, so a traversal runs a fixed number of steps (the tree's
// depth) without testing for leaves.
struct Tree {
  std::vector<float> threshold;
  std::vector<int32_t> feature;
  std::vector<int32_t> left;
  std::vector<int32_t> leaf;  // index into `values` (rows of n_classes), -1 for split nodes
  // Per-leaf class weights: the leaf's class distribution divided by the number of trees, rounded
  // to float32 (what ONNX stores), so predict_proba is a plain sum over trees and an exported
  // model predicts bit for bit the same after import. With two classes only the class-1 column
  // is summed and p0 = 1 - p1, as ONNX runtimes do for a binary TreeEnsembleClassifier.
  std::vector<double> values;
  int depth = 0;

  [[nodiscard]] size_t nodes() const { return threshold.size(); }
  [[nodiscard]] bool is_leaf(size_t i) const { return leaf[i] >= 0; }
};

struct ForestStats {
  size_t trees = 0, nodes = 0, leaves = 0;
  int max_depth = 0;
  double mean_depth = 0;
  uint64_t total_depth = 0;
};

class Forest {
 public:
  // x: row-major rows × cols; y: labels in 0..n_classes-1. Throws sdk::Error on bad input.
  void fit(const double* x, uint64_t rows, uint64_t cols, std::span<const int32_t> y,
           const ForestParams& params);
  // out: rows × n_classes, the mean over trees of the leaf class distributions.
  void predict_proba(const double* x, uint64_t rows, uint64_t cols, double* out,
                     int n_jobs = 0) const;

  [[nodiscard]] uint64_t n_features() const { return n_features_; }
  [[nodiscard]] uint32_t n_classes() const { return n_classes_; }
  [[nodiscard]] const std::vector<Tree>& trees() const { return trees_; }
  [[nodiscard]] ForestStats stats() const;
  [[nodiscard]] bool fitted() const { return !trees_.empty(); }

  // Replaces the model (ONNX import); validates structure (indices, cycles, depth).
  void assign(std::vector<Tree> trees, uint64_t n_features, uint32_t n_classes);
  // The same with trees made one at a time by make_tree(index, tree), each checked and packed as
  // soon as it is made (while it is in the cache). Without `runs`, in index order; with runs (the
  // first tree of each run of trees, ascending from 0) one thread per run, so make_tree must be
  // safe to call for different trees at once. Either way the fault thrown is the one of the
  // lowest tree index, and the forest does not depend on the runs.
  void assign(size_t n_trees, uint64_t n_features, uint32_t n_classes,
              const std::function<void(size_t, Tree&)>& make_tree,
              std::span<const size_t> runs = {});

 private:
  // What a prediction step reads of a node, in one load. With at most 256 features the child
  // index and the feature share a word (8 bytes a node); otherwise 12 bytes.
  // child(row) is the step of the walk described at Tree.
  struct NarrowNode {
    float threshold;
    int32_t left_feature;  // left · 256 + feature (left is −1 for a single-leaf tree)
    [[nodiscard]] int32_t child(const float* row) const {
      return (left_feature >> 8) + !(row[left_feature & 255] <= threshold);
    }
  };
  struct WideNode {
    float threshold;
    int32_t feature, left;
    [[nodiscard]] int32_t child(const float* row) const {
      return left + !(row[feature] <= threshold);
    }
  };
  void pack();
  // t's nodes into narrow (n_features <= 256) or wide.
  static void pack_tree(const Tree& t, uint64_t n_features, std::vector<NarrowNode>& narrow,
                        std::vector<WideNode>& wide);
  template <class Node>
  void predict_block(const std::vector<std::vector<Node>>& packed, const float* xf, uint64_t rows,
                     uint64_t cols, double* out) const;

  std::vector<Tree> trees_;
  std::vector<std::vector<NarrowNode>> narrow_;  // filled when n_features <= 256
  std::vector<std::vector<WideNode>> wide_;      // filled otherwise
  uint64_t n_features_ = 0;
  uint32_t n_classes_ = 0;
};

// Parses and validates plugin parameters; throws sdk::Error(INVALID_ARGUMENT) naming the parameter.
// Which keys exist is the plugin's declaration (random_forest_plugin.cpp): the host refuses
// undeclared ones before the plugin sees them, so other keys are not looked at here.
ForestParams parse_params(const sdk::Config& config);
// The number of features tried per split for `spec` and `n_features`.
int resolve_max_features(const std::string& spec, uint64_t n_features);

}  // namespace secmlops::plugins::random_forest
