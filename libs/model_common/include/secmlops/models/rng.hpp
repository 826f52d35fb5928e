// The one random generator of model and attack plugins: std::mt19937_64 seeded with the user's
// `seed` parameter. Its output sequence is fixed by the C++ standard, so a seed gives the same
// model or adversarial points on every platform and compiler. Distributions are implemented here
// (not std::*_distribution, whose algorithms are implementation-defined) for the same reason.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace secmlops::models {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n) (n > 0), without modulo bias.
  uint64_t below(uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = engine_();
    while (v >= limit);
    return v % n;
  }
  // Standard normal by Marsaglia's polar method (two values per accepted pair; the second is
  // kept for the next call). Only uniform(), +, ×, sqrt (exact in IEEE) and log are involved.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double f = std::sqrt(-2 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }
  // Fisher–Yates shuffle.
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace secmlops::models
