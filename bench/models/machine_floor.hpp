// The machine's limits, measured in the benchmark's own run so that kernels are reported against
// them: a pass that only reads the input (memory or cache bandwidth), the peak floating-point
// rate of each instruction-set variant, the load average the figures were taken under.
#pragma once

#include <secmlops/models/isa.hpp>
#include <secmlops/models/linear_kernels.hpp>
#include <secmlops/models/parallel.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace secmlops::bench {

template <class F>
double median_of(int n, F&& fn) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Medians of `runs` timings of fn under each of `isas`, the variants taking turns so that they
// see the same machine state (on a shared machine the load moves during a run).
template <class F>
std::vector<double> median_per_isa(const std::vector<models::Isa>& isas, int runs, F&& fn) {
  const models::Isa chosen = models::active_isa();
  std::vector<std::vector<double>> t(isas.size());
  for (int r = 0; r < runs; ++r)
    for (size_t i = 0; i < isas.size(); ++i) {
      models::set_isa(isas[i]);
      t[i].push_back(median_of(1, fn));
    }
  models::set_isa(chosen);
  std::vector<double> out;
  for (auto& v : t) {
    std::sort(v.begin(), v.end());
    out.push_back(v[v.size() / 2]);
  }
  return out;
}

// The instruction sets this processor runs, portable first.
inline std::vector<models::Isa> runnable_isas() {
  std::vector<models::Isa> out;
  for (auto isa : {models::Isa::portable, models::Isa::avx2, models::Isa::avx512})
    if (static_cast<int>(isa) <= static_cast<int>(models::best_supported_isa())) out.push_back(isa);
  return out;
}

// Seconds for one pass that reads n doubles once (a vectorised sum, the active variant).
inline double read_once_seconds(const double* x, int64_t n, int repeats) {
  using namespace models::kernels;
  auto f = SECMLOPS_DISPATCH(read_once);
  volatile double sink = 0;
  return median_of(repeats, [&] { sink = sink + f(x, n); });
}

// Peak double-precision GFLOP/s of the `isa` variant on `threads` threads at once (independent
// multiply-add chains, no memory traffic); the best of a few tries, each about 20 ms.
inline double peak_gflops(models::Isa isa, int threads) {
  using namespace models::kernels;
  auto f =
      models::pick(isa, &isa_portable::peak_flops, &isa_avx2::peak_flops, &isa_avx512::peak_flops);
  double best = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<double> sinks(static_cast<size_t>(threads));
    std::vector<int64_t> flops(static_cast<size_t>(threads));
    const auto a = std::chrono::steady_clock::now();
    models::parallel_for(static_cast<size_t>(threads), threads,
                         [&](size_t t) { flops[t] = f(2'000'000, &sinks[t]); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    int64_t total = 0;
    for (int64_t v : flops) total += v;
    best = std::max(best, static_cast<double>(total) / s / 1e9);
  }
  return best;
}

// "0.52 0.61 0.70" from /proc/loadavg (1, 5 and 15 minutes).
inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace secmlops::bench
