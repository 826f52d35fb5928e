// Times the scikit-learn import of one file, in memory (the rebuild and the ONNX mapping) and
// end to end (load_model_file: read, pickle scan, rebuild, mapping, the plugin's import).
//   sklearn_import_bench FILE PLUGIN_DIR [REPEATS]
// Prints the median and minimum of each, in milliseconds.
#include "secmlops/host/model_io.hpp"
#include "secmlops/host/registry.hpp"
#include "sklearn/sklearn_import.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

template <class F>
std::pair<double, double> time_ms(int repeats, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
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
  auto [rebuild_med, rebuild_min] = time_ms(repeats, [&] {
    auto c = secmlops::host::sklearn::import_pickle(bytes);
    nodes = c.onnx.size();
  });
  auto [load_med, load_min] = time_ms(repeats, [&] {
    auto m = secmlops::host::load_model_file(registry, file);
    if (!m.session) std::abort();
  });
  std::printf("%s: %zu bytes, ONNX %zu bytes\n", file.c_str(), bytes.size(), nodes);
  std::printf("  rebuild + ONNX mapping (in memory)      median %8.2f ms  min %8.2f ms\n", rebuild_med, rebuild_min);
  std::printf("  load_model_file (scan, import, plugin)  median %8.2f ms  min %8.2f ms\n", load_med, load_min);
  return 0;
}
