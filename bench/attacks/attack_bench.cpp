// Attack throughput through the host and the plugin ABI, as a user runs attacks: FGSM and PGD on
// linear models, FGSM on an RBF SVM, HopSkipJump on a random forest. Prints one line per case
// with the median time over the repeats and samples per second. Run by bench/attacks/run.sh,
// which also times the NumPy reference on the same shapes and prints the ratios.
#include "secmlops/host/attack_runner.hpp"
#include "secmlops/host/logging.hpp"
#include "secmlops/host/registry.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>

using namespace secmlops::host;

namespace {

// Two Gaussian classes in d dimensions whose means differ along every feature.
void make_data(uint64_t n, uint64_t d, uint64_t seed, DenseMatrix& x, std::vector<int32_t>& y,
               double spread) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 1);
  x = DenseMatrix(n, d);
  y.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    y[i] = static_cast<int32_t>(i % 2);
    for (uint64_t c = 0; c < d; ++c)
      x(i, c) = (y[i] ? 0.5 : -0.5) / std::sqrt(double(d)) * 4 + spread * g(rng);
  }
}

double median_seconds(int repeat, const std::function<void()>& f) {
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void report(const char* name, uint64_t samples, double seconds, uint64_t queries) {
  std::printf("%-28s samples=%-6llu median=%.6fs  %.3g samples/s  queries/run=%llu\n", name,
              (unsigned long long)samples, seconds, double(samples) / seconds,
              (unsigned long long)queries);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  init_logging("error");
  const int repeat = argc > 1 ? std::atoi(argv[1]) : 15;
  Registry reg;
  reg.load_directories(default_plugin_dirs());
  auto plugin = [&](secmlops_kind k, const char* n) { return reg.find(k, n); };
  auto fgsm = plugin(SECMLOPS_KIND_ATTACK, "fgsm"), pgd = plugin(SECMLOPS_KIND_ATTACK, "pgd"),
       hsj = plugin(SECMLOPS_KIND_ATTACK, "hsj");
  if (!fgsm || !pgd || !hsj) {
    std::fprintf(stderr, "attack plugins not found next to the binary\n");
    return 2;
  }
  DenseMatrix train, test;
  std::vector<int32_t> ytrain, ytest;
  make_data(10000, 20, 1, train, ytrain, 1.0);
  make_data(2000, 20, 2, test, ytest, 1.0);
  const KeyValues inf = {{"norm", "inf"}, {"eps", "0.1"}, {"eps_step", "0.01"}};

  for (const char* name : {"logreg", "linear_svm"}) {
    auto p = plugin(SECMLOPS_KIND_MODEL, name);
    if (!p) {
      std::printf("%s: model plugin not found, skipped\n", name);
      continue;
    }
    ModelSession m(*p);
    m.fit(train, ytrain, {});
    uint64_t q = 0;
    double t = median_seconds(repeat, [&] { q = run_attack(*fgsm, m, test, ytest, inf).queries; });
    report((std::string("fgsm/") + name).c_str(), test.rows, t, q);
    KeyValues pgd_params = inf;
    pgd_params.emplace_back("max_iter", "40");
    t = median_seconds(repeat, [&] { q = run_attack(*pgd, m, test, ytest, pgd_params).queries; });
    report((std::string("pgd40/") + name).c_str(), test.rows, t, q);
  }
  if (auto p = plugin(SECMLOPS_KIND_MODEL, "rbf_svm")) {
    // Overlapping classes so that about 2,500 training points end up as support vectors.
    DenseMatrix svm_train;
    std::vector<int32_t> svm_y;
    make_data(5000, 20, 3, svm_train, svm_y, 2.0);
    ModelSession m(*p);
    Emitted e;
    m.fit(svm_train, svm_y, {{"C", "1"}, {"gamma", "scale"}}, &e);
    auto d = m.describe();
    double svs = 0;
    for (const auto& [k, v] : d.metrics)
      if (k.find("support_vectors") != std::string::npos &&
          k.find("per_class") == std::string::npos)
        svs = v.first;
    uint64_t q = 0;
    double t = median_seconds(std::max(3, repeat / 3),
                              [&] { q = run_attack(*fgsm, m, test, ytest, inf).queries; });
    std::printf("rbf_svm support vectors: %.0f\n", svs);
    report("fgsm/rbf_svm", test.rows, t, q);
  } else {
    std::printf("rbf_svm: model plugin not found, skipped\n");
  }
  if (auto p = plugin(SECMLOPS_KIND_MODEL, "random_forest")) {
    ModelSession m(*p);
    m.fit(train, ytrain, {{"n_estimators", "100"}, {"max_depth", "10"}, {"seed", "1"}});
    DenseMatrix few(200, 20, std::vector<double>(test.data.begin(), test.data.begin() + 200 * 20));
    std::vector<int32_t> yfew(ytest.begin(), ytest.begin() + 200);
    uint64_t q = 0;
    double t = median_seconds(3, [&] {
      q = run_attack(*hsj, m, few, yfew, {{"seed", "1"}}).queries;
    });
    report("hsj/random_forest(100x10)", few.rows, t, q);
  } else {
    std::printf("random_forest: model plugin not found, skipped\n");
  }
  return 0;
}
