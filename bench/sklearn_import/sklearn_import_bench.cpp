// Times the scikit-learn import of one file, in memory (the rebuild, the ONNX mapping, the
// plugin's import: the model ready to predict, which is what pickle.load gives a Python user) and
// end to end (load_model_file: read, the sandboxed pickle scan, rebuild, mapping, plugin).
//   sklearn_import_bench FILE PLUGIN_DIR [REPEATS] [import [JOBS]]
// With `import` only the import (rebuild + mapping + plugin) runs, REPEATS times: what to profile
// (`perf record`) without the scan's processes in the samples. JOBS sets the threads of the
// mapping and of the plugin (default 0: by the forest's size and the cores; 1: one thread).
// Prints the median and minimum wall time of each and the median CPU time of the process (the
// figure that does not depend on neighbours on a shared machine), in milliseconds.
#include "secmlops/host/model_io.hpp"
#include "secmlops/host/model_session.hpp"
#include "secmlops/host/registry.hpp"
#include "sklearn/pickle_vm.hpp"
#include "sklearn/sklearn_import.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Times {
  double median, min, cpu;
};

template <class F>
Times time_ms(int repeats, F&& f) {
  std::vector<double> t, c;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    double c0 = cpu_ms();
    f();
    c.push_back(cpu_ms() - c0);
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  return {t[t.size() / 2], t.front(), c[c.size() / 2]};
}

void print_row(const char* label, const Times& t, const std::string& note = "") {
  std::printf("  %-40s median %8.2f ms  min %8.2f ms  CPU %8.2f ms%s\n", label, t.median, t.min,
              t.cpu, note.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE PLUGIN_DIR [REPEATS]\n", argv[0]);
    return 2;
  }
  const std::string file = argv[1];
  const int repeats = argc > 3 ? std::stoi(argv[3]) : 15;
  std::ifstream in(file, std::ios::binary);
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  secmlops::host::Registry registry;
  registry.load_directories({argv[2]});
  size_t nodes = 0;
  if (argc > 4 && std::string(argv[4]) == "import") {
    const int jobs = argc > 5 ? std::stoi(argv[5]) : 0;
    const auto first = secmlops::host::sklearn::import_pickle(bytes);
    const auto target = registry.find(SECMLOPS_KIND_MODEL, first.plugin);
    if (!target) return 2;
    const Times imported = time_ms(repeats, [&] {
      auto c = secmlops::host::sklearn::import_pickle(bytes, jobs);
      secmlops::host::ModelSession session(*target, {{"n_jobs", std::to_string(jobs)}});
      if (!session.import_onnx(c.onnx)) std::abort();
    });
    print_row("import: rebuild + mapping + plugin", imported,
              "  (threads: " + (jobs == 0 ? std::string("auto") : std::to_string(jobs)) + ")");
    return 0;
  }
  const Times vm = time_ms(repeats, [&] {
    secmlops::host::sklearn::Arena arena;
    auto u = secmlops::host::sklearn::run_pickle(arena, bytes, 0);
    if (u.root == nullptr) std::abort();
  });
  const Times rebuild = time_ms(repeats, [&] {
    auto c = secmlops::host::sklearn::import_pickle(bytes);
    nodes = c.onnx.size();
  });
  const auto converted = secmlops::host::sklearn::import_pickle(bytes);
  const auto target = registry.find(SECMLOPS_KIND_MODEL, converted.plugin);
  if (!target) {
    std::fprintf(stderr, "model plugin %s not found in %s\n", converted.plugin.c_str(), argv[2]);
    return 2;
  }
  const Times plugin = time_ms(repeats, [&] {
    secmlops::host::ModelSession session(*target);
    if (!session.import_onnx(converted.onnx)) std::abort();
  });
  const Times imported = time_ms(repeats, [&] {
    auto c = secmlops::host::sklearn::import_pickle(bytes);
    secmlops::host::ModelSession session(*target);
    if (!session.import_onnx(c.onnx)) std::abort();
  });
  const Times load = time_ms(repeats, [&] {
    auto m = secmlops::host::load_model_file(registry, file);
    if (!m.session) std::abort();
  });
  std::printf("%s: %zu bytes, ONNX %zu bytes\n", file.c_str(), bytes.size(), nodes);
  print_row("rebuild only (in memory)", vm);
  print_row("rebuild + ONNX mapping (in memory)", rebuild);
  print_row("the plugin's import of the mapped ONNX", plugin);
  print_row("import: rebuild + mapping + plugin", imported);
  print_row("load_model_file (scan, import, plugin)", load);
  return 0;
}
