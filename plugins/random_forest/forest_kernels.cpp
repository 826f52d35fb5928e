// Compiled once per instruction set (secmlops_isa_variants): plain headers only.
#include "forest_kernels.hpp"

#include <immintrin.h>

#include <type_traits>

namespace secmlops::plugins::random_forest::kernels::SECMLOPS_ISA_NS {

namespace {

[[maybe_unused]] int32_t child(const NarrowNode& n, const float* row) {
  return (n.left_feature >> 8) + !(row[n.left_feature & 255] <= n.threshold);
}
int32_t child(const WideNode& n, const float* row) { return n.left + !(row[n.feature] <= n.threshold); }

// The leaves reached in tree t by `lanes` (≤ 16) rows starting at `row0`, `cols` floats apart.
template <class Node>
void walk_rows(const TreeView<Node>& t, const float* row0, int lanes, uint64_t cols, int32_t* node) {
  constexpr int kLanes = 16;  // rows walked together for instruction-level parallelism
  const float* row[kLanes];
  for (int k = 0; k < kLanes; ++k) row[k] = row0 + static_cast<uint64_t>(k < lanes ? k : 0) * cols;
  for (int k = 0; k < kLanes; ++k) node[k] = 0;
  for (int step = 0; step < t.depth; ++step)
    for (int k = 0; k < kLanes; ++k) node[k] = child(t.nodes[node[k]], row[k]);
}

#if defined(__AVX512F__)
// Narrow nodes with AVX-512 gathers, up to 64 rows: 16 a register, four registers in flight to
// cover the gathers' latency. A step is the scalar one: left + !(x <= threshold), NaN going right.
template <>
void walk_rows(const TreeView<NarrowNode>& t, const float* row0, int lanes, uint64_t cols, int32_t* node) {
  constexpr int kGroups = 4;
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i one = _mm512_set1_epi32(1), feature_mask = _mm512_set1_epi32(255);
  __m512i offset[kGroups], at[kGroups];
  for (int g = 0; g < kGroups; ++g) {
    // Lanes past the last row read row 0, like the scalar walk.
    const __m512i index = _mm512_add_epi32(lane, _mm512_set1_epi32(16 * g));
    const __mmask16 valid = _mm512_cmplt_epi32_mask(index, _mm512_set1_epi32(lanes));
    offset[g] = _mm512_mullo_epi32(_mm512_maskz_mov_epi32(valid, index), _mm512_set1_epi32(static_cast<int>(cols)));
    at[g] = _mm512_setzero_si512();
  }
  const void* nodes = t.nodes;
  for (int step = 0; step < t.depth; ++step)
    for (int g = 0; g < kGroups; ++g) {
      const __m512i lo = _mm512_i32gather_epi64(_mm512_castsi512_si256(at[g]), nodes, 8);
      const __m512i hi = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(at[g], 1), nodes, 8);
      const __m512 threshold = _mm512_castsi512_ps(_mm512_permutex2var_epi32(lo, even, hi));
      const __m512i left_feature = _mm512_permutex2var_epi32(lo, odd, hi);
      const __m512i where = _mm512_add_epi32(offset[g], _mm512_and_si512(left_feature, feature_mask));
      const __m512 x = _mm512_i32gather_ps(where, row0, 4);
      const __mmask16 goes_left = _mm512_cmp_ps_mask(x, threshold, _CMP_LE_OQ);
      const __m512i right = _mm512_add_epi32(_mm512_srai_epi32(left_feature, 8), one);
      at[g] = _mm512_mask_sub_epi32(right, goes_left, right, one);
    }
  for (int g = 0; g < kGroups; ++g) _mm512_storeu_si512(node + 16 * g, at[g]);
}
constexpr int kRowsPerWalk = 64;
#else
constexpr int kRowsPerWalk = 16;
#endif

template <class Node>
void walk(const TreeView<Node>* trees, std::size_t n_trees, std::size_t C, const float* xf, uint64_t rows,
          uint64_t cols, double* o) {
  for (uint64_t i = 0; i < rows * C; ++i) o[i] = 0.0;
  // With two classes only class 1 is summed (p0 = 1 - p1 below).
  const std::size_t c0 = C == 2 ? 1 : 0;
  // The rows one walk_rows call takes: kRowsPerWalk for narrow nodes, 16 for the scalar walk.
  constexpr int kRows = std::is_same_v<Node, NarrowNode> ? kRowsPerWalk : 16;
  int32_t node[kRows];
  for (std::size_t ti = 0; ti < n_trees; ++ti) {
    const TreeView<Node>& t = trees[ti];
    for (uint64_t r = 0; r < rows; r += kRows) {
      const int lanes = static_cast<int>(rows - r < kRows ? rows - r : kRows);
      walk_rows(t, xf + r * cols, lanes, cols, node);
      for (int k = 0; k < lanes; ++k) {
        const double* v = t.values + static_cast<std::size_t>(t.leaf[node[k]]) * C;
        double* dst = o + (r + static_cast<uint64_t>(k)) * C;
        for (std::size_t c = c0; c < C; ++c) dst[c] += v[c];
      }
    }
  }
  if (C == 2)
    for (uint64_t r = 0; r < rows; ++r) o[2 * r] = 1.0 - o[2 * r + 1];
}

}  // namespace

void predict_narrow(const TreeView<NarrowNode>* trees, std::size_t n_trees, std::size_t n_classes, const float* xf,
                    uint64_t rows, uint64_t cols, double* out) {
  walk(trees, n_trees, n_classes, xf, rows, cols, out);
}

void predict_wide(const TreeView<WideNode>* trees, std::size_t n_trees, std::size_t n_classes, const float* xf,
                  uint64_t rows, uint64_t cols, double* out) {
  walk(trees, n_trees, n_classes, xf, rows, cols, out);
}

}  // namespace secmlops::plugins::random_forest::kernels::SECMLOPS_ISA_NS
