#include "forest_onnx.hpp"

#include <secmlops/models/onnx_io.hpp>
#include <secmlops/models/onnx_raw.hpp>
#include <secmlops/models/parallel.hpp>
#include <secmlops/models/tree_arrays.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>

namespace secmlops::plugins::random_forest {

namespace onnx_io = secmlops::models::onnx_io;
namespace {

using sdk::Error;

[[noreturn]] void invalid(const std::string& m) {
  std::string message = "TreeEnsembleClassifier: ";
  message += m;
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, message);
}

constexpr size_t kMaxNodes = 50'000'000;
constexpr size_t kMaxTrees = 1'000'000;
constexpr uint64_t kMaxFeatures = 10'000'000;
constexpr size_t kMaxClasses = 65536;
// Nodes a thread takes at least when a forest is read on several: fewer cost more to start.
constexpr size_t kNodesPerRun = size_t{1} << 16;

[[noreturn]] void invalid_arrays(const std::string& m) {
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "TreeArrays: " + m);
}

// A raw little-endian tensor attribute of the TreeArrays node, read element by element.
template <class T>
struct RawArray {
  const char* p = nullptr;
  size_t n = 0;
  T operator[](size_t i) const {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    return v;
  }
};

// The raw_data of a tensor attribute: in the parsed message, or left in the model's bytes.
using RawOf = std::function<std::string_view(const onnx::AttributeProto&)>;

template <class T>
RawArray<T> raw_array(const onnx::NodeProto& n, const char* name, int32_t type,
                      const RawOf& raw_of) {
  const auto* a = onnx_io::attr(n, name);
  if (a == nullptr || !a->has_t()) invalid_arrays(std::string("no tensor ") + name);
  const auto& t = a->t();
  if (t.data_type() != type)
    invalid_arrays(std::string("tensor ") + name + " has the wrong element type");
  const std::string_view raw = raw_of(*a);
  if (raw.size() % sizeof(T) != 0)
    invalid_arrays(std::string("tensor ") + name + " has truncated data");
  return {raw.data(), raw.size() / sizeof(T)};
}

// One tree of the TreeArrays node when it is already in Tree's layout, which is how the
// scikit-learn importer writes it: each split's children next to each other after it
// (right = left + 1 > node), leaves with both children -1 and their weight rows in node order.
// Copied as they are, without branching on the node kind; the structure (one parent per node,
// every node reached, features in range) is left to Forest::assign, the one check of a Tree.
// False when the arrays are in another order: relay_out takes those.
bool copy_in_layout(const RawArray<int32_t>& left, const RawArray<int32_t>& right,
                    const RawArray<int32_t>& feature, const RawArray<float>& threshold, size_t base,
                    size_t size, Tree& t, int32_t& leaves) {
  t.left.resize(size);
  t.feature.resize(size);
  t.threshold.resize(size);
  t.leaf.resize(size);
  bool in_layout = true;
  int32_t n_leaves = 0;
  for (size_t k = 0; k < size; ++k) {
    const int64_t l = left[base + k], r = right[base + k];
    const auto i = static_cast<int64_t>(k);
    const bool leaf = (l == -1) & (r == -1);
    in_layout &= leaf | ((r == l + 1) & (l > i));
    t.left[k] = static_cast<int32_t>(leaf ? i - 1 : l);
    t.feature[k] = leaf ? 0 : feature[base + k];
    t.threshold[k] = leaf ? std::numeric_limits<float>::quiet_NaN() : threshold[base + k];
    t.leaf[k] = leaf ? n_leaves : -1;
    n_leaves += leaf;
  }
  leaves = n_leaves;
  return in_layout;
}

// One tree in any order (a graph written by another tool): relaid out breadth-first with children
// in pairs as Tree wants them. Leaves are numbered in node order (the rows of leaf_weights).
int32_t relay_out(const RawArray<int32_t>& left, const RawArray<int32_t>& right,
                  const RawArray<int32_t>& feature, const RawArray<float>& threshold, size_t ti,
                  size_t base, size_t size, Tree& t) {
  t.threshold.assign(size, 0.0f);
  t.feature.assign(size, 0);
  t.left.assign(size, 0);
  t.leaf.assign(size, -1);
  std::vector<int32_t> leaf_rank(size, -1);
  int32_t leaves = 0;
  for (size_t i = 0; i < size; ++i)
    if (left[base + i] == -1 && right[base + i] == -1) leaf_rank[i] = leaves++;
  std::vector<int32_t> order{0};
  order.reserve(size);
  std::vector<uint8_t> seen(size, 0);
  seen[0] = 1;
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = base + static_cast<size_t>(order[k]);
    const int32_t l = left[i], r = right[i];
    if (l == -1 && r == -1) {
      t.leaf[k] = leaf_rank[static_cast<size_t>(order[k])];
      continue;
    }
    for (int32_t c : {l, r}) {
      if (c < 0 || static_cast<size_t>(c) >= size || seen[static_cast<size_t>(c)])
        invalid_arrays("tree " + std::to_string(ti) + " node " + std::to_string(order[k]) +
                       " has a child outside the tree or shared with another node");
      seen[static_cast<size_t>(c)] = 1;
    }
    t.feature[k] = feature[i];
    t.threshold[k] = threshold[i];
    t.left[k] = static_cast<int32_t>(order.size());
    order.push_back(l);
    order.push_back(r);
  }
  if (order.size() != size) invalid_arrays("tree " + std::to_string(ti) + " has unreachable nodes");
  return leaves;
}

// The TreeArrays node (secmlops/models/tree_arrays.hpp), on `jobs` threads (0: by its size).
Forest import_tree_arrays(const onnx::GraphProto& g, const onnx::NodeProto& n, int jobs,
                          const RawOf& raw_of) {
  namespace ta = secmlops::models::tree_arrays;
  if (std::endian::native != std::endian::little)
    throw Error(SECMLOPS_ERR_UNSUPPORTED,
                "TreeArrays (little-endian tensors) on a big-endian host");
  const auto* ca = onnx_io::attr(n, ta::kClasses);
  if (ca == nullptr || ca->i() < 2 || static_cast<size_t>(ca->i()) > kMaxClasses)
    invalid_arrays("n_classes out of range");
  const auto C = static_cast<size_t>(ca->i());
  const uint64_t n_features = onnx_io::input_columns(g);
  if (n_features == 0 || n_features > kMaxFeatures)
    invalid_arrays("input has no known column count");
  const auto starts = raw_array<int64_t>(n, ta::kTreeStarts, onnx::TensorProto::INT64, raw_of);
  const auto left = raw_array<int32_t>(n, ta::kLeft, onnx::TensorProto::INT32, raw_of);
  const auto right = raw_array<int32_t>(n, ta::kRight, onnx::TensorProto::INT32, raw_of);
  const auto feature = raw_array<int32_t>(n, ta::kFeatures, onnx::TensorProto::INT32, raw_of);
  const auto threshold = raw_array<float>(n, ta::kThresholds, onnx::TensorProto::FLOAT, raw_of);
  const auto weights = raw_array<float>(n, ta::kLeafWeights, onnx::TensorProto::FLOAT, raw_of);
  const size_t N = left.n;
  if (N == 0 || N > kMaxNodes) invalid_arrays("node count " + std::to_string(N) + " out of range");
  if (right.n != N || feature.n != N || threshold.n != N || weights.n % C != 0)
    invalid_arrays("tensors have different lengths");
  const size_t n_leaves = weights.n / C;
  if (starts.n < 2 || starts.n - 1 > kMaxTrees || starts[0] != 0 ||
      starts[starts.n - 1] != static_cast<int64_t>(N))
    invalid_arrays("tree_starts does not cover the nodes");
  // One tree's arrays and weight rows (from leaf_base on) into t; returns its leaf count.
  const auto make_tree = [&](size_t ti, Tree& t, size_t leaf_base) {
    const int64_t b = starts[ti], e = starts[ti + 1];
    if (e <= b || e > static_cast<int64_t>(N))
      invalid_arrays("tree_starts entry " + std::to_string(ti + 1) +
                     " is out of order or beyond the nodes");
    const auto size = static_cast<size_t>(e - b);
    const auto base = static_cast<size_t>(b);
    int32_t leaves = 0;
    if (!copy_in_layout(left, right, feature, threshold, base, size, t, leaves))
      leaves = relay_out(left, right, feature, threshold, ti, base, size, t);
    if (leaf_base + static_cast<size_t>(leaves) > n_leaves)
      invalid_arrays("leaf_weights has fewer rows than there are leaves");
    // The weight rows of this tree's leaves, in the order its leaves are numbered.
    t.values.resize(static_cast<size_t>(leaves) * C);
    bool finite = true;
    for (size_t v = 0; v < t.values.size(); ++v) {
      const float w = weights[leaf_base * C + v];
      finite &= std::isfinite(w);
      t.values[v] = w;
    }
    if (!finite) invalid_arrays("leaf_weights holds a value that is not finite");
    return static_cast<size_t>(leaves);
  };
  const size_t n_trees = starts.n - 1;
  // A tree that the forest accepts has (nodes + 1) / 2 leaves: every node is a leaf or a split
  // with two children, and each is reached once. So each tree's weight rows are known before
  // any tree is read, the trees are independent and can be split over threads in runs of about
  // equal node counts (see jobs). A forest that breaks that count, or any rule, is read again in
  // one pass, which names the fault as it always has.
  std::vector<size_t> leaf_bases(n_trees + 1, 0);
  bool counted = true;
  for (size_t ti = 0; ti < n_trees; ++ti) {
    const int64_t size = starts[ti + 1] - starts[ti];
    counted &= size > 0 && size <= static_cast<int64_t>(N);
    leaf_bases[ti + 1] = leaf_bases[ti] + (counted ? static_cast<size_t>(size + 1) / 2 : 0);
  }
  if (counted && leaf_bases[n_trees] == n_leaves) {
    std::vector<size_t> runs{0};
    // jobs when positive, else one thread per 64k nodes up to one per core.
    const size_t n_runs =
        jobs > 0 ? std::min(static_cast<size_t>(jobs), n_trees)
                 : std::clamp<size_t>(N / kNodesPerRun, 1,
                                      static_cast<size_t>(models::resolve_jobs(0, n_trees)));
    for (size_t k = 1; k < n_runs; ++k) {
      size_t ti = runs.back();
      while (ti < n_trees && static_cast<size_t>(starts[ti]) < N * k / n_runs) ++ti;
      runs.push_back(ti);
    }
    try {
      Forest f;
      f.assign(
          n_trees, n_features, static_cast<uint32_t>(C),
          [&](size_t ti, Tree& t) {
            if (make_tree(ti, t, leaf_bases[ti]) != leaf_bases[ti + 1] - leaf_bases[ti])
              invalid_arrays("tree " + std::to_string(ti) + " is not a binary tree");
          },
          runs);
      return f;
    } catch (const Error&) {
      // Read again below for the message of the first fault.
    }
  }
  size_t leaf_base = 0;  // leaves of the trees before this one
  Forest f;
  f.assign(n_trees, n_features, static_cast<uint32_t>(C),
           [&](size_t ti, Tree& t) { leaf_base += make_tree(ti, t, leaf_base); });
  if (leaf_base != n_leaves) invalid_arrays("leaf_weights has more rows than there are leaves");
  return f;
}

// The TreeArrays node when the graph is one (it is then the graph's only node).
const onnx::NodeProto* tree_arrays_node(const onnx::GraphProto& g) {
  namespace ta = secmlops::models::tree_arrays;
  for (const auto& node : g.node())
    if (node.domain() == ta::kDomain && node.op_type() == ta::kOpType) {
      if (g.node_size() != 1)
        throw Error(SECMLOPS_ERR_UNSUPPORTED, "TreeArrays with other nodes in the graph");
      return &node;
    }
  return nullptr;
}

}  // namespace

std::vector<uint8_t> export_onnx(const Forest& forest) {
  if (!forest.fitted())
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the random forest is not fitted");
  const uint32_t C = forest.n_classes();
  auto model = onnx_io::skeleton("random_forest", forest.n_features());
  auto* g = model.mutable_graph();
  auto* node = g->add_node();
  node->set_op_type("TreeEnsembleClassifier");
  node->set_domain("ai.onnx.ml");
  node->set_name("TreeEnsembleClassifier");
  node->add_input("X");
  node->add_output("label");
  node->add_output("probabilities");
  std::vector<int64_t> tree_ids, node_ids, feature_ids, true_ids, false_ids, missing;
  std::vector<float> values, hitrates;
  std::vector<std::string> modes;
  std::vector<int64_t> c_tree, c_node, c_id;
  std::vector<float> c_weight;
  const auto& trees = forest.trees();
  for (size_t ti = 0; ti < trees.size(); ++ti) {
    const Tree& t = trees[ti];
    for (size_t i = 0; i < t.nodes(); ++i) {
      const bool leaf = t.is_leaf(i);
      tree_ids.push_back(static_cast<int64_t>(ti));
      node_ids.push_back(static_cast<int64_t>(i));
      feature_ids.push_back(leaf ? 0 : t.feature[i]);
      modes.emplace_back(leaf ? "LEAF" : "BRANCH_LEQ");
      values.push_back(leaf ? 0.0f : t.threshold[i]);
      true_ids.push_back(leaf ? 0 : t.left[i]);
      false_ids.push_back(leaf ? 0 : t.left[i] + 1);
      missing.push_back(0);
      hitrates.push_back(1.0f);
      if (!leaf) continue;
      const double* v = t.values.data() + static_cast<size_t>(t.leaf[i]) * C;
      // Binary: one weight, class 1's, under class id 0 (as skl2onnx writes it).
      for (uint32_t c = (C == 2 ? 1 : 0); c < C; ++c) {
        c_tree.push_back(static_cast<int64_t>(ti));
        c_node.push_back(static_cast<int64_t>(i));
        c_id.push_back(C == 2 ? 0 : c);
        c_weight.push_back(static_cast<float>(v[c]));
      }
    }
  }
  std::vector<int64_t> labels(C);
  for (uint32_t c = 0; c < C; ++c) labels[c] = c;
  onnx_io::set_ints(*node, "class_ids", c_id);
  onnx_io::set_ints(*node, "class_nodeids", c_node);
  onnx_io::set_ints(*node, "class_treeids", c_tree);
  onnx_io::set_floats(*node, "class_weights", c_weight);
  onnx_io::set_ints(*node, "classlabels_int64s", labels);
  onnx_io::set_ints(*node, "nodes_falsenodeids", false_ids);
  onnx_io::set_ints(*node, "nodes_featureids", feature_ids);
  onnx_io::set_floats(*node, "nodes_hitrates", hitrates);
  onnx_io::set_ints(*node, "nodes_missing_value_tracks_true", missing);
  onnx_io::set_strings(*node, "nodes_modes", modes);
  onnx_io::set_ints(*node, "nodes_nodeids", node_ids);
  onnx_io::set_ints(*node, "nodes_treeids", tree_ids);
  onnx_io::set_ints(*node, "nodes_truenodeids", true_ids);
  onnx_io::set_floats(*node, "nodes_values", values);
  onnx_io::set_string(*node, "post_transform", "NONE");
  onnx_io::add_output(*g, "label", onnx::TensorProto::INT64, {-1});
  onnx_io::add_output(*g, "probabilities", onnx::TensorProto::FLOAT, {-1, static_cast<int64_t>(C)});
  return onnx_io::serialize(model);
}

Forest import_onnx(sdk::Bytes bytes, int jobs) {
  // A TreeArrays node's tensors are read where they are in the bytes, not copied by the parse.
  if (const auto lean = onnx_io::parse_lean(bytes)) {
    const auto& g = lean->model.graph();
    if (const auto* arrays = tree_arrays_node(g))
      return import_tree_arrays(g, *arrays, jobs, [&](const onnx::AttributeProto& a) {
        for (int i = 0; i < g.node_size(); ++i)
          for (int k = 0; k < g.node(i).attribute_size(); ++k)
            if (&g.node(i).attribute(k) == &a)
              return lean->raw(static_cast<size_t>(i), static_cast<size_t>(k));
        return std::string_view{};
      });
  }
  auto model = onnx_io::parse(bytes);
  const auto& g = model.graph();
  if (const auto* arrays = tree_arrays_node(g))
    return import_tree_arrays(g, *arrays, jobs, [](const onnx::AttributeProto& a) {
      return std::string_view(a.t().raw_data());
    });
  const auto& n =
      onnx_io::find_ml_node(g, "TreeEnsembleClassifier", {"ZipMap", "Cast", "Identity"});
  const auto post = onnx_io::string_attr(n, "post_transform", "NONE");
  if (post != "NONE")
    throw Error(SECMLOPS_ERR_UNSUPPORTED, "TreeEnsembleClassifier with post_transform " + post +
                                              " (a boosted ensemble) is not a random forest");
  for (double b : onnx_io::floats(n, "base_values", false))
    if (b != 0.0)
      throw Error(SECMLOPS_ERR_UNSUPPORTED,
                  "TreeEnsembleClassifier with base_values is not a random forest");

  auto tree_ids = onnx_io::ints(n, "nodes_treeids");
  auto node_ids = onnx_io::ints(n, "nodes_nodeids");
  auto feature_ids = onnx_io::ints(n, "nodes_featureids");
  auto modes = onnx_io::strings(n, "nodes_modes");
  auto true_ids = onnx_io::ints(n, "nodes_truenodeids");
  auto false_ids = onnx_io::ints(n, "nodes_falsenodeids");
  auto values = onnx_io::floats(n, "nodes_values", false);
  if (values.empty()) values = onnx_io::tensor_values(n, "nodes_values_as_tensor");
  auto missing = onnx_io::ints(n, "nodes_missing_value_tracks_true", false);
  const size_t N = tree_ids.size();
  if (N == 0) invalid("no nodes");
  if (N > kMaxNodes) invalid("too many nodes (" + std::to_string(N) + ")");
  for (auto* v : {&node_ids, &feature_ids, &true_ids, &false_ids})
    if (v->size() != N) invalid("nodes_* attributes have different lengths");
  if (modes.size() != N || values.size() != N)
    invalid("nodes_modes/nodes_values lengths differ from nodes_treeids");
  for (int64_t m : missing)
    if (m != 0)
      throw Error(SECMLOPS_ERR_UNSUPPORTED,
                  "TreeEnsembleClassifier: missing-value tracking is not supported");

  auto c_tree = onnx_io::ints(n, "class_treeids");
  auto c_node = onnx_io::ints(n, "class_nodeids");
  auto c_id = onnx_io::ints(n, "class_ids");
  auto c_weight = onnx_io::floats(n, "class_weights", false);
  if (c_weight.empty()) c_weight = onnx_io::tensor_values(n, "class_weights_as_tensor");
  if (c_node.size() != c_tree.size() || c_id.size() != c_tree.size() ||
      c_weight.size() != c_tree.size())
    invalid("class_* attributes have different lengths");
  size_t C = onnx_io::ints(n, "classlabels_int64s", false).size();
  if (C == 0) C = onnx_io::strings(n, "classlabels_strings", false).size();
  if (C == 0) invalid("no classlabels_int64s or classlabels_strings");
  if (C > kMaxClasses) invalid("too many classes");
  bool binary_single = C == 2;
  for (int64_t id : c_id) {
    if (id < 0 || static_cast<size_t>(id) >= C)
      invalid("class id " + std::to_string(id) + " outside 0.." + std::to_string(C - 1));
    if (id != 0) binary_single = false;
  }

  // Group nodes by tree: (tree id) → (node id → attribute index).
  std::map<int64_t, std::unordered_map<int64_t, size_t>> by_tree;
  for (size_t i = 0; i < N; ++i) {
    if (!by_tree[tree_ids[i]].emplace(node_ids[i], i).second)
      invalid("tree " + std::to_string(tree_ids[i]) + " repeats node id " +
              std::to_string(node_ids[i]));
  }
  if (by_tree.size() > kMaxTrees) invalid("too many trees");
  std::map<std::pair<int64_t, int64_t>, std::vector<double>> leaf_weights;
  for (size_t k = 0; k < c_tree.size(); ++k) {
    auto& w = leaf_weights[{c_tree[k], c_node[k]}];
    if (w.empty()) w.assign(C, 0.0);
    // Binary with one weight per leaf: the weight is class 1's score.
    w[binary_single ? 1 : static_cast<size_t>(c_id[k])] += c_weight[k];
  }
  uint64_t n_features = 0;
  for (size_t i = 0; i < N; ++i) {
    if (modes[i] == "LEAF") continue;
    if (modes[i] != "BRANCH_LEQ")
      throw Error(SECMLOPS_ERR_UNSUPPORTED, "TreeEnsembleClassifier: node mode " + modes[i] +
                                                " is not supported (only BRANCH_LEQ)");
    if (feature_ids[i] < 0 || static_cast<uint64_t>(feature_ids[i]) >= kMaxFeatures)
      invalid("feature id " + std::to_string(feature_ids[i]) + " out of range");
    n_features = std::max<uint64_t>(n_features, static_cast<uint64_t>(feature_ids[i]) + 1);
  }
  const uint64_t declared = onnx_io::input_columns(g);
  if (declared != 0) {
    if (declared < n_features)
      invalid("nodes use feature " + std::to_string(n_features - 1) + " but the input has " +
              std::to_string(declared) + " columns");
    n_features = declared;
  }
  if (n_features == 0) n_features = 1;

  std::vector<Tree> trees;
  for (const auto& [tid, nodes] : by_tree) {
    // Root: the one node no other node points to.
    std::unordered_map<int64_t, int> referenced;
    for (const auto& [nid, i] : nodes)
      if (modes[i] != "LEAF") {
        for (int64_t c : {true_ids[i], false_ids[i]}) {
          if (!nodes.count(c))
            invalid("tree " + std::to_string(tid) + " node " + std::to_string(nid) +
                    " points to missing node " + std::to_string(c));
          ++referenced[c];
        }
      }
    int64_t root = -1;
    for (const auto& [nid, i] : nodes)
      if (!referenced.count(nid)) {
        if (root >= 0) invalid("tree " + std::to_string(tid) + " has more than one root");
        root = nid;
      }
    if (root < 0) invalid("tree " + std::to_string(tid) + " has no root (cycle)");
    // Breadth-first relayout: children allocated in pairs (true → left, false → left + 1).
    Tree t;
    std::vector<int64_t> order{root};
    t.threshold.push_back(0);
    t.feature.push_back(0);
    t.left.push_back(0);
    t.leaf.push_back(-1);
    for (size_t k = 0; k < order.size(); ++k) {
      if (order.size() > nodes.size())
        invalid("tree " + std::to_string(tid) + " is not a tree (shared or cyclic nodes)");
      const size_t i = nodes.at(order[k]);
      if (modes[i] == "LEAF") {
        auto it = leaf_weights.find({tid, order[k]});
        t.leaf[k] = static_cast<int32_t>(t.values.size() / C);
        if (it == leaf_weights.end())
          t.values.insert(t.values.end(), C, 0.0);
        else
          t.values.insert(t.values.end(), it->second.begin(), it->second.end());
        continue;
      }
      t.feature[k] = static_cast<int32_t>(feature_ids[i]);
      t.threshold[k] = static_cast<float>(values[i]);
      t.left[k] = static_cast<int32_t>(order.size());
      for (int64_t c : {true_ids[i], false_ids[i]}) {
        order.push_back(c);
        t.threshold.push_back(0);
        t.feature.push_back(0);
        t.left.push_back(0);
        t.leaf.push_back(-1);
      }
    }
    if (order.size() != nodes.size())
      invalid("tree " + std::to_string(tid) + " has unreachable nodes");
    trees.push_back(std::move(t));
  }
  Forest f;
  f.assign(std::move(trees), n_features, static_cast<uint32_t>(C));
  return f;
}

}  // namespace secmlops::plugins::random_forest
