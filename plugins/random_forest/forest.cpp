#include "forest.hpp"

#include <secmlops/models/parallel.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

namespace secmlops::plugins::random_forest {
namespace {

using sdk::Error;

[[noreturn]] void invalid(const std::string& message) {
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, message);
}

using models::parallel_for;
using models::resolve_jobs;

// SplitMix64: independent, reproducible seeds per tree regardless of which thread builds it.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The float32 cut between two distinct values a < b: a <= cut < b.
float cut_between(float lo, float hi) {
  auto mid = static_cast<float>((static_cast<double>(lo) + static_cast<double>(hi)) / 2);
  return mid < hi ? mid : lo;  // adjacent floats: the cut is the lower value itself
}

// Per-feature bins: thresholds[f][b] is the float32 cut between bin b and b + 1.
struct Binned {
  uint64_t rows = 0, cols = 0;
  std::vector<uint8_t> codes;                  // column-major rows × cols
  std::vector<std::vector<float>> thresholds;  // per feature, ascending
};

Binned bin_features(const std::vector<float>& xf, uint64_t rows, uint64_t cols, int max_bins) {
  Binned b;
  b.rows = rows;
  b.cols = cols;
  b.codes.resize(rows * cols);
  b.thresholds.resize(cols);
  std::vector<float> sorted(rows);
  for (uint64_t c = 0; c < cols; ++c) {
    const float* col = xf.data() + c * rows;
    sorted.assign(col, col + rows);
    std::sort(sorted.begin(), sorted.end());
    std::vector<float> uniq(sorted);
    uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
    std::vector<size_t> cut_after;  // index k in uniq: cut between uniq[k] and uniq[k + 1]
    if (uniq.size() <= static_cast<size_t>(max_bins)) {
      for (size_t k = 0; k + 1 < uniq.size(); ++k) cut_after.push_back(k);
    } else {
      for (int q = 1; q < max_bins; ++q) {
        float v = sorted[static_cast<size_t>(q) * rows / static_cast<size_t>(max_bins)];
        size_t k =
            static_cast<size_t>(std::lower_bound(uniq.begin(), uniq.end(), v) - uniq.begin());
        if (k + 1 < uniq.size() && (cut_after.empty() || cut_after.back() != k))
          cut_after.push_back(k);
      }
    }
    auto& thr = b.thresholds[c];
    for (size_t k : cut_after) {
      float lo = uniq[k], hi = uniq[k + 1];
      thr.push_back(cut_between(lo, hi));
    }
    uint8_t* codes = b.codes.data() + c * rows;
    for (uint64_t r = 0; r < rows; ++r)
      codes[r] =
          static_cast<uint8_t>(std::lower_bound(thr.begin(), thr.end(), col[r]) - thr.begin());
  }
  return b;
}

// Nodes with at most this many distinct samples are split exactly (sorted values, every cut
// between distinct values) as CART does; larger nodes use the feature histograms, whose 256
// quantile bins lose nothing that matters there. Fully grown trees thus still separate every
// distinct training point.
constexpr uint32_t kExactBelow = 512;

struct TreeBuilder {
  const Binned& bins;
  const std::vector<float>& xf;  // column-major float32 copy of the training data
  std::span<const int32_t> y;
  uint32_t n_classes;
  const ForestParams& p;
  int max_features;

  Tree build(uint64_t tree_index) const {
    std::mt19937_64 rng(mix(p.seed ^ mix(tree_index + 1)));
    const uint64_t rows = bins.rows;
    // Bootstrap as integer sample weights over the distinct drawn rows, like scikit-learn:
    // min_samples_* count distinct rows, impurities and leaf values use the weights.
    std::vector<uint32_t> weight(rows, 1);
    std::vector<uint32_t> idx;
    if (p.bootstrap) {
      std::fill(weight.begin(), weight.end(), 0u);
      std::uniform_int_distribution<uint64_t> pick(0, rows - 1);
      for (uint64_t k = 0; k < rows; ++k) ++weight[pick(rng)];
    }
    for (uint32_t i = 0; i < rows; ++i)
      if (weight[i] > 0) idx.push_back(i);
    Tree t;
    auto add_node = [&t] {
      t.threshold.push_back(std::numeric_limits<float>::quiet_NaN());
      t.feature.push_back(0);
      t.left.push_back(static_cast<int32_t>(t.threshold.size()) - 2);
      t.leaf.push_back(-1);
    };
    add_node();
    struct Work {
      int32_t node;
      uint32_t begin, end;
      int depth;
    };
    std::vector<Work> stack{{0, 0, static_cast<uint32_t>(idx.size()), 0}};
    std::vector<int> features(bins.cols);
    std::iota(features.begin(), features.end(), 0);
    const size_t C = n_classes;
    std::vector<double> hist(256 * C), counts(C), left_counts(C);
    std::vector<uint32_t> hist_n(256);
    struct Sample {
      float v;
      int32_t y;
      uint32_t w;
    };
    std::vector<Sample> sorted;
    const auto min_leaf = static_cast<uint32_t>(p.min_samples_leaf);
    while (!stack.empty()) {
      Work w = stack.back();
      stack.pop_back();
      t.depth = std::max(t.depth, w.depth);
      const uint32_t n = w.end - w.begin;  // distinct rows
      std::fill(counts.begin(), counts.end(), 0.0);
      for (uint32_t i = w.begin; i < w.end; ++i)
        counts[static_cast<size_t>(y[idx[i]])] += weight[idx[i]];
      double n_w = 0;
      for (double c : counts) n_w += c;
      const bool pure =
          std::count_if(counts.begin(), counts.end(), [](double c) { return c > 0; }) <= 1;
      int best_feature = -1;
      float best_threshold = 0;
      double best_score = -1;
      // Scores a candidate cut: maximising sum_child (sum_c w_c^2) / w_child minimises the
      // weighted Gini impurity of the children.
      auto consider = [&](uint32_t nl, double wl, int f, float threshold) {
        if (nl < min_leaf || n - nl < min_leaf) return;
        double sl = 0, sr = 0;
        for (size_t c = 0; c < C; ++c) {
          double l = left_counts[c], r = counts[c] - left_counts[c];
          sl += l * l;
          sr += r * r;
        }
        double score = sl / wl + sr / (n_w - wl);
        if (score > best_score) best_score = score, best_feature = f, best_threshold = threshold;
      };
      if (!pure && (p.max_depth < 0 || w.depth < p.max_depth) &&
          n >= static_cast<uint32_t>(p.min_samples_split) && n >= 2 * min_leaf) {
        int visited = 0;
        // Features in a fresh random order; like CART, keep looking past max_features only
        // while no valid split was found.
        for (size_t k = 0; k < features.size(); ++k) {
          if (visited >= max_features && best_feature >= 0) break;
          std::uniform_int_distribution<size_t> pick(k, features.size() - 1);
          std::swap(features[k], features[pick(rng)]);
          const int f = features[k];
          std::fill(left_counts.begin(), left_counts.end(), 0.0);
          if (n <= kExactBelow) {
            const float* col = xf.data() + static_cast<size_t>(f) * rows;
            sorted.clear();
            for (uint32_t i = w.begin; i < w.end; ++i)
              sorted.push_back({col[idx[i]], y[idx[i]], weight[idx[i]]});
            std::sort(sorted.begin(), sorted.end(),
                      [](const Sample& a, const Sample& b) { return a.v < b.v; });
            if (sorted.front().v == sorted.back().v) continue;  // constant in this node
            ++visited;
            double wl = 0;
            for (uint32_t q = 0; q + 1 < n; ++q) {
              left_counts[static_cast<size_t>(sorted[q].y)] += sorted[q].w;
              wl += sorted[q].w;
              if (sorted[q].v < sorted[q + 1].v)
                consider(q + 1, wl, f, cut_between(sorted[q].v, sorted[q + 1].v));
            }
            continue;
          }
          const uint8_t* codes = bins.codes.data() + static_cast<size_t>(f) * rows;
          const size_t nb = bins.thresholds[static_cast<size_t>(f)].size() + 1;
          std::fill(hist.begin(), hist.begin() + static_cast<long>(nb * C), 0.0);
          std::fill(hist_n.begin(), hist_n.begin() + static_cast<long>(nb), 0u);
          int lo = 255, hi = 0;
          for (uint32_t i = w.begin; i < w.end; ++i) {
            const int code = codes[idx[i]];
            lo = std::min(lo, code);
            hi = std::max(hi, code);
            hist[static_cast<size_t>(code) * C + static_cast<size_t>(y[idx[i]])] += weight[idx[i]];
            ++hist_n[static_cast<size_t>(code)];
          }
          if (lo == hi) continue;  // constant in this node
          ++visited;
          uint32_t nl = 0;
          double wl = 0;
          for (int bin = lo; bin < hi; ++bin) {
            const double* h = hist.data() + static_cast<size_t>(bin) * C;
            for (size_t c = 0; c < C; ++c) left_counts[c] += h[c], wl += h[c];
            nl += hist_n[static_cast<size_t>(bin)];
            if (hist_n[static_cast<size_t>(bin)] == 0) continue;
            consider(nl, wl, f, bins.thresholds[static_cast<size_t>(f)][static_cast<size_t>(bin)]);
          }
        }
      }
      if (best_feature < 0) {
        t.leaf[static_cast<size_t>(w.node)] = static_cast<int32_t>(t.values.size() / C);
        for (size_t c = 0; c < C; ++c)
          t.values.push_back(static_cast<float>(counts[c] / n_w / p.n_estimators));
        continue;
      }
      const float* col = xf.data() + static_cast<size_t>(best_feature) * rows;
      auto mid = std::partition(idx.begin() + w.begin, idx.begin() + w.end,
                                [&](uint32_t i) { return col[i] <= best_threshold; });
      auto split = static_cast<uint32_t>(mid - idx.begin());
      const auto node = static_cast<size_t>(w.node);
      const auto left = static_cast<int32_t>(t.nodes());
      t.feature[node] = best_feature;
      t.threshold[node] = best_threshold;
      t.left[node] = left;
      add_node();
      add_node();
      stack.push_back({left + 1, split, w.end, w.depth + 1});
      stack.push_back({left, w.begin, split, w.depth + 1});
    }
    return t;
  }
};

int64_t int_param(const sdk::Config& c, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  int64_t v = c.get_int(key, fallback);
  if (v < lo || v > hi)
    invalid("parameter '" + std::string(key) + "' must be in " + std::to_string(lo) + ".." +
            std::to_string(hi) + ", got " + std::to_string(v));
  return v;
}

}  // namespace

int resolve_max_features(const std::string& spec, uint64_t n_features) {
  const double d = static_cast<double>(n_features);
  int n = 0;
  if (spec == "sqrt" || spec == "auto") {
    n = static_cast<int>(std::sqrt(d));
  } else if (spec == "log2") {
    n = static_cast<int>(std::log2(d));
  } else if (spec == "all" || spec == "none" || spec.empty()) {
    n = static_cast<int>(n_features);
  } else {
    bool is_int = spec.find_first_not_of("0123456789") == std::string::npos;
    try {
      if (is_int) {
        long long v = std::stoll(spec);
        if (v < 1) throw std::invalid_argument("");
        n = static_cast<int>(std::min<long long>(v, static_cast<long long>(n_features)));
        if (static_cast<uint64_t>(v) > n_features)
          invalid("parameter 'max_features' is " + spec + " but the data has only " +
                  std::to_string(n_features) + " features");
      } else {
        size_t used = 0;
        double f = std::stod(spec, &used);
        if (used != spec.size() || !(f > 0.0 && f <= 1.0)) throw std::invalid_argument("");
        n = static_cast<int>(f * d);
      }
    } catch (const std::invalid_argument&) {
      invalid(
          "parameter 'max_features' must be sqrt, log2, all, a positive integer or a fraction "
          "in (0, 1], got '" +
          spec + "'");
    } catch (const std::out_of_range&) {
      invalid("parameter 'max_features' is out of range: '" + spec + "'");
    }
  }
  return std::max(1, n);
}

ForestParams parse_params(const sdk::Config& c) {
  ForestParams p;
  p.n_estimators = static_cast<int>(int_param(c, "n_estimators", 100, 1, 100000));
  auto depth = c.get_string("max_depth", "none");
  p.max_depth = (depth == "none" || depth == "None" || depth == "-1")
                    ? -1
                    : static_cast<int>(int_param(c, "max_depth", -1, 1, 100000));
  p.min_samples_split = static_cast<int>(int_param(c, "min_samples_split", 2, 2, INT32_MAX));
  p.min_samples_leaf = static_cast<int>(int_param(c, "min_samples_leaf", 1, 1, INT32_MAX));
  p.max_features = c.get_string("max_features", "sqrt");
  (void)resolve_max_features(p.max_features, 1u << 20);  // syntax check now, count at fit
  p.bootstrap = c.get_bool("bootstrap", true);
  p.seed =
      static_cast<uint64_t>(int_param(c, c.has("seed") ? "seed" : "random_state", 0, 0, INT64_MAX));
  p.n_jobs = static_cast<int>(int_param(c, "n_jobs", 0, 0, 1024));
  p.max_bins = static_cast<int>(int_param(c, "max_bins", 256, 2, 256));
  return p;
}

void Forest::fit(const double* x, uint64_t rows, uint64_t cols, std::span<const int32_t> y,
                 const ForestParams& params) {
  if (rows == 0 || cols == 0) invalid("training data is empty");
  if (rows > UINT32_MAX) invalid("too many training rows (" + std::to_string(rows) + ")");
  if (y.size() != rows)
    invalid("got " + std::to_string(y.size()) + " labels for " + std::to_string(rows) + " rows");
  int32_t max_label = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] < 0 || y[i] > 65535)
      invalid("label of row " + std::to_string(i) + " is " + std::to_string(y[i]) +
              ", expected 0..65535");
    max_label = std::max(max_label, y[i]);
  }
  const uint32_t n_classes = static_cast<uint32_t>(max_label) + 1;
  std::vector<float> xf(rows * cols);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      double v = x[r * cols + c];
      if (!std::isfinite(v))
        invalid("training value at row " + std::to_string(r) + ", column " + std::to_string(c) +
                " is not finite");
      xf[c * rows + r] = static_cast<float>(v);
    }
  const int max_features = resolve_max_features(params.max_features, cols);
  Binned bins = bin_features(xf, rows, cols, params.max_bins);
  TreeBuilder builder{bins, xf, y, n_classes, params, max_features};
  std::vector<Tree> trees(static_cast<size_t>(params.n_estimators));
  parallel_for(trees.size(), resolve_jobs(params.n_jobs, trees.size()),
               [&](size_t i) { trees[i] = builder.build(i); });
  trees_ = std::move(trees);
  n_features_ = cols;
  n_classes_ = n_classes;
  pack();
}

void Forest::pack() {
  narrow_.assign(n_features_ <= 256 ? trees_.size() : 0, {});
  wide_.assign(n_features_ <= 256 ? 0 : trees_.size(), {});
  std::vector<NarrowNode> no_narrow;
  std::vector<WideNode> no_wide;
  for (size_t ti = 0; ti < trees_.size(); ++ti)
    pack_tree(trees_[ti], n_features_, narrow_.empty() ? no_narrow : narrow_[ti],
              wide_.empty() ? no_wide : wide_[ti]);
}

void Forest::pack_tree(const Tree& t, uint64_t n_features, std::vector<NarrowNode>& narrow,
                       std::vector<WideNode>& wide) {
  const size_t n = t.nodes();
  if (n_features <= 256) {
    narrow.resize(n);
    for (size_t i = 0; i < n; ++i) narrow[i] = {t.threshold[i], t.left[i] * 256 + t.feature[i]};
  } else {
    wide.resize(n);
    for (size_t i = 0; i < n; ++i) wide[i] = {t.threshold[i], t.feature[i], t.left[i]};
  }
}

template <class Node>
void Forest::predict_block(const std::vector<std::vector<Node>>& packed, const float* xf,
                           uint64_t rows, uint64_t cols, double* o) const {
  constexpr int kLanes = 16;  // rows walked together for instruction-level parallelism
  const size_t C = n_classes_;
  std::fill(o, o + rows * C, 0.0);
  // With two classes only class 1 is summed (p0 = 1 - p1 below).
  const size_t c0 = C == 2 ? 1 : 0;
  for (size_t ti = 0; ti < trees_.size(); ++ti) {
    const Tree& t = trees_[ti];
    const Node* nodes = packed[ti].data();
    for (uint64_t r = 0; r < rows; r += kLanes) {
      const int lanes = static_cast<int>(std::min<uint64_t>(kLanes, rows - r));
      int32_t node[kLanes] = {};
      const float* row[kLanes];
      for (int k = 0; k < kLanes; ++k)
        row[k] = xf + (r + static_cast<uint64_t>(k < lanes ? k : 0)) * cols;
      for (int step = 0; step < t.depth; ++step)
        for (int k = 0; k < kLanes; ++k) node[k] = nodes[node[k]].child(row[k]);
      for (int k = 0; k < lanes; ++k) {
        const double* v =
            t.values.data() + static_cast<size_t>(t.leaf[static_cast<size_t>(node[k])]) * C;
        double* dst = o + (r + static_cast<uint64_t>(k)) * C;
        for (size_t c = c0; c < C; ++c) dst[c] += v[c];
      }
    }
  }
  if (C == 2)
    for (uint64_t r = 0; r < rows; ++r) o[2 * r] = 1.0 - o[2 * r + 1];
}

void Forest::predict_proba(const double* x, uint64_t rows, uint64_t cols, double* out,
                           int n_jobs) const {
  if (!fitted()) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the random forest is not fitted");
  if (cols != n_features_)
    invalid("input has " + std::to_string(cols) + " features, the model expects " +
            std::to_string(n_features_));
  constexpr uint64_t kBlock = 256;  // rows per task: the row block stays in L1 while trees stream
  const uint64_t blocks = (rows + kBlock - 1) / kBlock;
  parallel_for(blocks, resolve_jobs(n_jobs, blocks), [&](size_t b) {
    const uint64_t r0 = b * kBlock, r1 = std::min(rows, r0 + kBlock);
    std::vector<float> xf((r1 - r0) * cols);
    for (uint64_t i = 0; i < xf.size(); ++i) xf[i] = static_cast<float>(x[r0 * cols + i]);
    double* o = out + r0 * n_classes_;
    if (!narrow_.empty())
      predict_block(narrow_, xf.data(), r1 - r0, cols, o);
    else
      predict_block(wide_, xf.data(), r1 - r0, cols, o);
  });
}

ForestStats Forest::stats() const {
  ForestStats s;
  s.trees = trees_.size();
  for (const Tree& t : trees_) {
    s.nodes += t.nodes();
    for (size_t i = 0; i < t.nodes(); ++i) s.leaves += t.is_leaf(i) ? 1 : 0;
    s.max_depth = std::max(s.max_depth, t.depth);
    s.total_depth += static_cast<uint64_t>(t.depth);
  }
  s.mean_depth = s.trees ? static_cast<double>(s.total_depth) / static_cast<double>(s.trees) : 0.0;
  return s;
}

namespace {

// Checks one tree of an imported forest and completes it (leaves in the walk's form, depth), in
// one pass without a branch per node kind: each condition is folded into a flag, and a tree that
// fails is handed to diagnose_tree for the message. `depth` is scratch of at least nodes + 2.
// pack(k, threshold, feature, left) takes each node as it is completed, while it is in registers.
template <class Pack>
bool check_tree(Tree& t, uint64_t n_features, uint32_t n_classes, std::vector<int>& depth,
                Pack pack) {
  const size_t n = t.nodes();
  const auto rows = static_cast<int64_t>(t.values.size() / n_classes);
  depth.assign(n + 2, -1);
  depth[0] = 0;
  int max_depth = 0;
  size_t leaves = 0;
  bool bad = false;
  const auto last = static_cast<int64_t>(n);
  for (size_t k = 0; k < n; ++k) {
    const auto i = static_cast<int64_t>(k);
    const bool leaf = t.leaf[k] >= 0;
    const int d = depth[k];
    bad |= d < 0;  // unreachable
    max_depth = std::max(max_depth, d);
    const int64_t l = t.left[k];
    const int32_t f = t.feature[k];
    bad |= leaf & (t.leaf[k] >= rows);
    const bool split_ok =
        (l > i) & (l + 1 < last) & (f >= 0) & (static_cast<uint64_t>(f) < n_features);
    bad |= (!leaf) & (!split_ok);
    // A split's children get their depth; a leaf (or a bad split) writes the two spare slots.
    const int64_t use = static_cast<int64_t>((!leaf) & split_ok);
    const auto c =
        static_cast<size_t>(last ^ ((l ^ last) & -use));  // l when used, else last: no branch
    bad |= (!leaf) & (static_cast<int>(depth[c] >= 0) |
                      static_cast<int>(depth[c + 1] >= 0));  // a second parent
    depth[c] = depth[c + 1] = d + 1;
    const auto left = leaf ? static_cast<int32_t>(i - 1) : static_cast<int32_t>(l);
    const float threshold = leaf ? std::numeric_limits<float>::quiet_NaN() : t.threshold[k];
    const int32_t feature = leaf ? 0 : f;
    t.left[k] = left;
    t.threshold[k] = threshold;
    t.feature[k] = feature;
    pack(k, threshold, feature, left);
    leaves += leaf;
  }
  t.depth = max_depth;
  return !bad && t.values.size() == leaves * n_classes;
}

// The reason check_tree refused a tree (it has not changed the tree's structure).
[[noreturn]] void diagnose_tree(const Tree& t, size_t ti, uint64_t n_features, uint32_t n_classes) {
  const size_t n = t.nodes();
  const std::string where = "tree " + std::to_string(ti);
  std::vector<int> depth(n, -1);
  depth[0] = 0;
  size_t leaves = 0;
  for (size_t i = 0; i < n; ++i) {
    if (depth[i] < 0) invalid(where + ": node " + std::to_string(i) + " is unreachable");
    if (t.is_leaf(i)) {
      if (static_cast<size_t>(t.leaf[i]) >= t.values.size() / n_classes)
        invalid(where + ": leaf " + std::to_string(i) + " has no class weights");
      ++leaves;
      continue;
    }
    const int64_t l = t.left[i];
    if (l <= static_cast<int64_t>(i) || static_cast<size_t>(l) + 1 >= n)
      invalid(where + ": node " + std::to_string(i) + " has child index " + std::to_string(l) +
              " out of order or range");
    if (t.feature[i] < 0 || static_cast<uint64_t>(t.feature[i]) >= n_features)
      invalid(where + ": node " + std::to_string(i) + " uses feature " +
              std::to_string(t.feature[i]) + " of " + std::to_string(n_features));
    for (int64_t c : {l, l + 1}) {
      if (depth[static_cast<size_t>(c)] >= 0)
        invalid(where + ": node " + std::to_string(c) + " has two parents");
      depth[static_cast<size_t>(c)] = depth[i] + 1;
    }
  }
  if (t.values.size() != leaves * n_classes)
    invalid(where + ": class weight count does not match its leaves");
  invalid(where + ": malformed");
}

}  // namespace

void Forest::assign(std::vector<Tree> trees, uint64_t n_features, uint32_t n_classes) {
  assign(trees.size(), n_features, n_classes,
         [&trees](size_t ti, Tree& t) { t = std::move(trees[ti]); });
}

void Forest::assign(size_t n_trees, uint64_t n_features, uint32_t n_classes,
                    const std::function<void(size_t, Tree&)>& make_tree,
                    std::span<const size_t> runs) {
  if (n_trees == 0) invalid("the forest has no trees");
  if (n_features == 0 || n_classes == 0) invalid("the forest has no features or classes");
  std::vector<Tree> trees(n_trees);
  std::vector<std::vector<NarrowNode>> narrow(n_features <= 256 ? n_trees : 0);
  std::vector<std::vector<WideNode>> wide(n_features <= 256 ? 0 : n_trees);
  // Trees first … last - 1, in order: the first fault is the lowest index's.
  const auto run = [&](size_t first, size_t last) {
    std::vector<int> depth;  // reused from tree to tree
    for (size_t ti = first; ti < last; ++ti) {
      Tree& t = trees[ti];
      make_tree(ti, t);
      const size_t n = t.nodes();
      if (n == 0 || t.feature.size() != n || t.left.size() != n || t.leaf.size() != n)
        invalid("tree " + std::to_string(ti) + ": inconsistent node arrays");
      // Packed as it is checked (pack_tree's layout).
      bool ok = false;
      if (!narrow.empty()) {
        narrow[ti].resize(n);
        NarrowNode* out = narrow[ti].data();
        ok = check_tree(t, n_features, n_classes, depth,
                        [out](size_t k, float threshold, int32_t feature, int32_t left) {
                          out[k] = {threshold, left * 256 + feature};
                        });
      } else {
        wide[ti].resize(n);
        WideNode* out = wide[ti].data();
        ok = check_tree(t, n_features, n_classes, depth,
                        [out](size_t k, float threshold, int32_t feature, int32_t left) {
                          out[k] = {threshold, feature, left};
                        });
      }
      if (!ok) diagnose_tree(t, ti, n_features, n_classes);
    }
  };
  const bool split = runs.size() > 1 && runs.front() == 0 && runs.back() <= n_trees &&
                     std::is_sorted(runs.begin(), runs.end());
  if (!split) {
    run(0, n_trees);
  } else {
    std::vector<std::exception_ptr> errors(runs.size());
    // Kept threads: on a busy machine this thread takes every run instead of waiting for one.
    models::shared_pool().run(runs.size(), [&](size_t k) {
      try {
        run(runs[k], k + 1 < runs.size() ? runs[k + 1] : n_trees);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  trees_ = std::move(trees);
  narrow_ = std::move(narrow);
  wide_ = std::move(wide);
  n_features_ = n_features;
  n_classes_ = n_classes;
}

}  // namespace secmlops::plugins::random_forest
