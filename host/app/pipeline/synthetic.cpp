#include "synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace secmlops::app::pipeline {
namespace {

// SplitMix64: small, fast and specified exactly, so sequences are the same everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : s_(seed ^ 0x9e3779b97f4a7c15ull) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return next() % n; }
  double normal() {  // Box–Muller
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0;
    while (u <= 0) u = uniform();
    const double v = uniform();
    const double r = std::sqrt(-2.0 * std::log(u));
    spare_ = r * std::sin(2 * M_PI * v);
    has_spare_ = true;
    return r * std::cos(2 * M_PI * v);
  }

 private:
  uint64_t s_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace

Synthetic make_classification(const GenerateSpec& s) {
  Random rng(s.seed);
  const uint64_t n = s.samples;
  const uint32_t k = s.classes, inf = s.informative, red = s.redundant, d = s.features;
  Synthetic out;
  out.x = host::DenseMatrix(n, d);
  out.y.resize(n);

  // Class centroids: distinct hypercube vertices (side 2·class_sep), chosen at random.
  std::vector<std::vector<double>> centroid(k, std::vector<double>(inf));
  std::vector<uint64_t> used;
  for (uint32_t c = 0; c < k; ++c) {
    uint64_t vertex;
    do {
      vertex = inf >= 63 ? rng.next() : rng.below(1ull << inf);
    } while (std::find(used.begin(), used.end(), vertex) != used.end());
    used.push_back(vertex);
    for (uint32_t j = 0; j < inf; ++j)
      centroid[c][j] = ((vertex >> (j % 64)) & 1 ? 1.0 : -1.0) * s.class_sep;
  }
  // A random linear map per class gives each cluster its own covariance.
  std::vector<std::vector<double>> cov(k, std::vector<double>(static_cast<size_t>(inf) * inf));
  for (auto& a : cov)
    for (auto& v : a) v = 2 * rng.uniform() - 1;
  std::vector<double> mix(static_cast<size_t>(inf) * red);
  for (auto& v : mix) v = 2 * rng.uniform() - 1;

  std::vector<double> z(inf);
  for (uint64_t r = 0; r < n; ++r) {
    const auto c = static_cast<uint32_t>(r % k);  // balanced classes
    out.y[r] = static_cast<int32_t>(c);
    for (auto& v : z) v = rng.normal();
    for (uint32_t j = 0; j < inf; ++j) {
      double acc = centroid[c][j];
      for (uint32_t i = 0; i < inf; ++i) acc += z[i] * cov[c][static_cast<size_t>(i) * inf + j];
      out.x(r, j) = acc;
    }
    for (uint32_t j = 0; j < red; ++j) {
      double acc = 0;
      for (uint32_t i = 0; i < inf; ++i) acc += out.x(r, i) * mix[static_cast<size_t>(i) * red + j];
      out.x(r, inf + j) = acc;
    }
    for (uint32_t j = inf + red; j < d; ++j) out.x(r, j) = rng.normal();
  }
  // Label noise, then a shuffle of rows and of feature columns (informative ones are not first).
  for (uint64_t r = 0; r < n; ++r)
    if (rng.uniform() < s.flip) out.y[r] = static_cast<int32_t>(rng.below(k));
  std::vector<uint64_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  for (uint64_t i = n; i > 1; --i) std::swap(rows[i - 1], rows[rng.below(i)]);
  std::vector<uint32_t> cols(d);
  std::iota(cols.begin(), cols.end(), 0);
  for (uint32_t i = d; i > 1; --i) std::swap(cols[i - 1], cols[rng.below(i)]);
  Synthetic shuffled;
  shuffled.x = host::DenseMatrix(n, d);
  shuffled.y.resize(n);
  for (uint64_t r = 0; r < n; ++r) {
    shuffled.y[r] = out.y[rows[r]];
    for (uint32_t j = 0; j < d; ++j) shuffled.x(r, j) = out.x(rows[r], cols[j]);
  }
  return shuffled;
}

}  // namespace secmlops::app::pipeline
