// Times the random forest and the RBF SVM on the data compare.py writes, printing one JSON
// object per run: {"rf_fit": s, "rf_predict_proba": s, "svm_fit": s, "svm_predict_proba": s,
// "svm_gradient": s, "svm_support_vectors": n, ...}. compare.py alternates runs of this program
// with scikit-learn and reports medians and ratios.
//
// Usage: bench_models_nonlinear DATA_DIR [WHAT...]   (WHAT: rf, svm; default both)
#include "forest.hpp"
#include "machine_floor.hpp"
#include "svm_model.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace rf = secmlops::plugins::random_forest;
namespace svm = secmlops::plugins::rbf_svm;
namespace models = secmlops::models;

struct Data {
  uint64_t rows = 0, cols = 0;
  std::vector<double> x;
  std::vector<int32_t> y;
};

// compare.py writes raw little-endian arrays: X as float64 rows×cols, y as int32, shape in a
// text file "rows cols".
Data load(const std::string& dir, const std::string& name) {
  Data d;
  std::ifstream shape(dir + "/" + name + ".shape");
  if (!(shape >> d.rows >> d.cols))
    throw std::runtime_error("cannot read " + dir + "/" + name + ".shape");
  d.x.resize(d.rows * d.cols);
  d.y.resize(d.rows);
  std::ifstream xs(dir + "/" + name + ".x", std::ios::binary),
      ys(dir + "/" + name + ".y", std::ios::binary);
  xs.read(reinterpret_cast<char*>(d.x.data()),
          static_cast<std::streamsize>(d.x.size() * sizeof(double)));
  ys.read(reinterpret_cast<char*>(d.y.data()),
          static_cast<std::streamsize>(d.y.size() * sizeof(int32_t)));
  if (!xs || !ys) throw std::runtime_error("truncated data files for " + name);
  return d;
}

template <class F>
double seconds(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [rf] [svm]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  bool do_rf = argc == 2, do_svm = argc == 2;
  for (int i = 2; i < argc; ++i) {
    do_rf |= std::string(argv[i]) == "rf";
    do_svm |= std::string(argv[i]) == "svm";
  }
  try {
    std::string out = "{";
    auto put = [&](const char* key, double v) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s\"%s\": %.9g", out.size() > 1 ? ", " : "", key, v);
      out += buf;
    };
    const Data all = load(dir, "all");
    const auto isas = secmlops::bench::runnable_isas();
    // The floors, measured in this run: the input read once and each variant's peak FLOP/s.
    put("read_once",
        secmlops::bench::read_once_seconds(all.x.data(), static_cast<int64_t>(all.x.size()), 25));
    for (auto isa : isas) {
      put(("peak_gflops_1t_" + std::string(models::isa_name(isa))).c_str(),
          secmlops::bench::peak_gflops(isa, 1));
      put(("peak_gflops_2t_" + std::string(models::isa_name(isa))).c_str(),
          secmlops::bench::peak_gflops(isa, 2));
    }
    if (do_rf) {
      secmlops::sdk::Config none;
      rf::ForestParams p = rf::parse_params(none);
      p.n_estimators = 100;
      p.max_depth = 10;
      p.seed = 0;
      rf::Forest forest;
      put("rf_fit", seconds([&] { forest.fit(all.x.data(), all.rows, all.cols, all.y, p); }));
      std::vector<double> proba(all.rows * forest.n_classes());
      put("rf_predict_proba",
          seconds([&] { forest.predict_proba(all.x.data(), all.rows, all.cols, proba.data()); }));
      put("rf_nodes", static_cast<double>(forest.stats().nodes));
      // Node steps of the walk: every row goes depth steps down every tree.
      put("rf_steps",
          static_cast<double>(all.rows) * static_cast<double>(forest.stats().total_depth));
      // The walk is portable in every build (docs/benchmarks.md): timed again as a median.
      put("rf_predict_proba_median", secmlops::bench::median_of(9, [&] {
            forest.predict_proba(all.x.data(), all.rows, all.cols, proba.data());
          }));
    }
    if (do_svm) {
      const Data train = load(dir, "svm_train");
      const Data grad = load(dir, "svm_grad");
      secmlops::sdk::Config none;
      svm::SvmParams p = svm::parse_params(none);
      svm::SvmModel model;
      put("svm_fit",
          seconds([&] { model.fit(train.x.data(), train.rows, train.cols, train.y, p); }));
      put("svm_support_vectors", static_cast<double>(model.support_vectors().rows()));
      std::vector<double> proba(all.rows * model.n_classes());
      put("svm_predict_proba",
          seconds([&] { model.predict_proba(all.x.data(), all.rows, proba.data()); }));
      std::vector<double> g(grad.rows * grad.cols);
      put("svm_gradient",
          seconds([&] { model.loss_gradient(grad.x.data(), grad.rows, grad.y.data(), g.data()); }));
      const auto predict_times = secmlops::bench::median_per_isa(
          isas, 5, [&] { model.predict_proba(all.x.data(), all.rows, proba.data()); });
      const auto gradient_times = secmlops::bench::median_per_isa(
          isas, 5, [&] { model.loss_gradient(grad.x.data(), grad.rows, grad.y.data(), g.data()); });
      for (size_t i = 0; i < isas.size(); ++i) {
        const std::string name = models::isa_name(isas[i]);
        put(("svm_predict_proba_" + name).c_str(), predict_times[i]);
        put(("svm_gradient_" + name).c_str(), gradient_times[i]);
      }
    }
    std::printf("%s, \"dispatched\": \"%s\", \"load\": \"%s\"}\n", out.c_str(),
                models::isa_name(models::active_isa()), secmlops::bench::load_average().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_models_nonlinear: %s\n", e.what());
    return 1;
  }
  return 0;
}
