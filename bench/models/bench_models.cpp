// Model plugins side by side with scikit-learn on the same 10,000 × 20 data, in one run.
//
//   bench_models [--repeats N]
//
// Runs bench/models/sklearn_bench.py (which writes the data and times scikit-learn), then times
// the secmlops cores on the same data and prints medians and ratios. The secmlops side calls the
// plugin cores directly: the same code the plugins run, without the ABI round trip (which costs
// one indirect call per batch).
#include "linear_svm.hpp"
#include "logreg.hpp"
#include "machine_floor.hpp"
#include "mlp.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace secmlops;
using Clock = std::chrono::steady_clock;

double median_seconds(int n, const std::function<void()>& fn) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) {
    auto a = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <class T>
std::vector<T> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<T> out(bytes.size() / sizeof(T));
  std::copy(bytes.begin(), bytes.begin() + static_cast<long>(out.size() * sizeof(T)),
            reinterpret_cast<char*>(out.data()));
  return out;
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error("failed: " + cmd);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 7;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--repeats") repeats = std::atoi(argv[i + 1]);
  const std::string load_before = bench::load_average();
  char tmpl[] = "/tmp/secmlops-bench-models-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  // numpy's best BLAS kernel for the reference side only (see docs/benchmarks.md).
  auto sk = nlohmann::json::parse(run(
      "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 " SECMLOPS_SKLEARN_BENCH " " +
      dir + " " + std::to_string(repeats)));
  auto xv = read_all<double>(dir + "/x.f64");
  auto yv = read_all<int32_t>(dir + "/y.i32");
  std::system(("rm -rf " + dir).c_str());
  const long n = static_cast<long>(yv.size()), d = static_cast<long>(xv.size()) / n;
  models::ConstRowMap x(xv.data(), n, d);
  models::RowMatrix out(n, 2);

  nlohmann::json ours;
  plugins::logreg::LogisticRegression lr;
  ours["logreg_fit"] = median_seconds(repeats, [&] { lr.fit(x, yv, {}); });
  plugins::linear_svm::LinearSvm svm;
  ours["linear_svm_fit"] = median_seconds(repeats, [&] { svm.fit(x, yv, {}); });
  plugins::mlp::Mlp mlp;
  plugins::mlp::Options mo;
  mo.max_iter = 5;
  mlp.fit(x, yv, mo);
  auto proba = [&](auto& model, long rows) {
    models::ConstRowMap xr(xv.data(), rows, d);
    model.predict_proba(xr, models::RowMap(out.data(), rows, 2));
  };
  ours["logreg_predict_proba"] = median_seconds(5 * repeats, [&] { proba(lr, n); });
  ours["linear_svm_predict_proba"] = median_seconds(5 * repeats, [&] { proba(svm, n); });
  ours["mlp_predict_proba"] = median_seconds(5 * repeats, [&] { proba(mlp, n); });
  ours["logreg_predict_proba_100"] = median_seconds(20 * repeats, [&] { proba(lr, 100); });
  ours["mlp_predict_proba_100"] = median_seconds(20 * repeats, [&] { proba(mlp, 100); });
  // The floor of any whole-batch predict_proba: one pass that reads the 10,000 × 20 input (a
  // vectorised sum). A linear model cannot answer faster than it can read its input.
  volatile double sink = 0;
  const double read_floor = median_seconds(5 * repeats, [&] { sink = sink + x.sum(); });
  models::RowMatrix grad(2000, d);
  models::ConstRowMap x2000(xv.data(), 2000, d);
  double grad_s = median_seconds(50 * repeats, [&] {
    lr.loss_gradient(x2000, yv.data(), models::RowMap(grad.data(), 2000, d));
  });
  auto accuracy = [&](auto& model) {
    model.predict_proba(x, models::RowMap(out.data(), n, 2));
    long ok = 0;
    for (long i = 0; i < n; ++i) ok += (out(i, 1) > out(i, 0)) == (yv[static_cast<size_t>(i)] == 1);
    return static_cast<double>(ok) / static_cast<double>(n);
  };

  std::printf(
      "data: make_classification 10000 x %ld, 2 classes; medians of %d runs (predict: %d)\n", d,
      repeats, 5 * repeats);
  std::printf("scikit-learn BLAS: %s\n\n", sk["blas"].dump().c_str());
  std::printf("%-32s %14s %14s %9s\n", "", "scikit-learn", "secmlops", "speedup");
  for (const char* k :
       {"logreg_fit", "linear_svm_fit", "logreg_predict_proba", "linear_svm_predict_proba",
        "mlp_predict_proba", "logreg_predict_proba_100", "mlp_predict_proba_100"}) {
    double a = sk[k].get<double>(), b = ours[k].get<double>();
    std::printf("%-32s %11.1f us %11.1f us %8.1fx\n", k, a * 1e6, b * 1e6, a / b);
  }
  std::printf("%-32s %14s %11.1f us\n", "logreg_loss_gradient_2000_rows", "-", grad_s * 1e6);
  std::printf("%-32s %14s %11.1f us   (20x scikit-learn's logreg would need %.1f us)\n",
              "read_input_once_10000_rows", "-", read_floor * 1e6,
              sk["logreg_predict_proba"].get<double>() / 20 * 1e6);
  std::printf(
      "\ntraining accuracy: logreg %.4f (scikit-learn %.4f), linear_svm %.4f (scikit-learn %.4f)\n",
      accuracy(lr), sk["logreg_accuracy"].get<double>(), accuracy(svm),
      sk["linear_svm_accuracy"].get<double>());
  std::printf("solver iterations (objective evaluations): logreg %d (%d), linear_svm %d (%d)\n",
              lr.solver().iterations, lr.solver().evaluations, svm.solver().iterations,
              svm.solver().evaluations);
  std::printf("scikit-learn LinearSVC(dual=False) converged in %d iterations\n",
              sk["linear_svm_iterations"].get<int>());

  // The same kernels under each instruction-set variant, against the machine's floor measured
  // now: the input read once, and the peak FLOP/s of each variant on both cores.
  const auto isas = bench::runnable_isas();
  const models::Isa chosen = models::active_isa();
  const long d_hidden = mlp.layers()[0].w.cols();
  const double mlp_flop =
      2.0 * static_cast<double>(n) * static_cast<double>(d * d_hidden + d_hidden * 2);
  models::RowMatrix mgrad(2000, d);
  struct Row {
    const char* name;
    std::function<void()> run;
    std::vector<double> s;
  };
  std::vector<Row> rows_;
  rows_.push_back({"logreg predict_proba 10000", [&] { proba(lr, n); }, {}});
  rows_.push_back({"linear_svm predict_proba 10000", [&] { proba(svm, n); }, {}});
  rows_.push_back({"mlp predict_proba 10000", [&] { proba(mlp, n); }, {}});
  rows_.push_back(
      {"mlp input gradient 2000",
       [&] { mlp.loss_gradient(x2000, yv.data(), models::RowMap(mgrad.data(), 2000, d)); },
       {}});
  std::vector<double> peak1, peak2;
  for (Row& r : rows_) r.s = bench::median_per_isa(isas, 10 * repeats, r.run);
  for (models::Isa isa : isas) {
    peak1.push_back(bench::peak_gflops(isa, 1));
    peak2.push_back(bench::peak_gflops(isa, 2));
  }
  const double read_once =
      bench::read_once_seconds(xv.data(), static_cast<int64_t>(xv.size()), 10 * repeats);
  std::printf("\nkernels per instruction set (dispatched: %s), medians of %d runs, microseconds\n",
              models::isa_name(chosen), 10 * repeats);
  std::printf("%-32s", "");
  for (models::Isa isa : isas) std::printf(" %10s", models::isa_name(isa));
  std::printf("\n");
  for (const Row& r : rows_) {
    std::printf("%-32s", r.name);
    for (double v : r.s) std::printf(" %10.1f", v * 1e6);
    std::printf("\n");
  }
  std::printf("%-32s", "peak GFLOP/s, 1 core");
  for (double v : peak1) std::printf(" %10.1f", v);
  std::printf("\n%-32s", "peak GFLOP/s, 2 cores");
  for (double v : peak2) std::printf(" %10.1f", v);
  // Against twice the one-core peak: on a shared machine the two-core probe rarely gets both.
  std::printf("\n%-32s", "mlp predict GFLOP/s (% of 2x1)");
  for (size_t i = 0; i < isas.size(); ++i)
    std::printf(" %5.1f (%2.0f%%)", mlp_flop / rows_[2].s[i] / 1e9,
                100 * mlp_flop / rows_[2].s[i] / 1e9 / (2 * peak1[i]));
  std::printf(
      "\n\nfloor: reading the 10000 x %ld input once (%s, 1 core): %.1f us = %.1f GB/s; "
      "logreg predict_proba is %.2fx that floor, linear_svm %.2fx\n",
      d, models::isa_name(chosen), read_once * 1e6,
      static_cast<double>(xv.size() * 8) / read_once / 1e9, rows_[0].s.back() / read_once,
      rows_[1].s.back() / read_once);
  std::printf(
      "floor: the mlp forward pass is %.1f MFLOP: %.1f us at twice the 1-core peak of the %s "
      "variant\n",
      mlp_flop / 1e6, mlp_flop / (2 * peak1.back() * 1e9) * 1e6, models::isa_name(isas.back()));
  std::printf("load average: %s at the start, %s at the end\n", load_before.c_str(),
              bench::load_average().c_str());
  return 0;
}
