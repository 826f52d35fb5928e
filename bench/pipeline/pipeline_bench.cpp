// What a pipeline step costs over calling its operation directly, in process: the same scan of
// one small file (a) through app::scan and (b) as the only step of a pipeline (spec parsing,
// graph, thread, report and the pipeline-report.json write included). Medians of many runs.
//   secmlops_pipeline_bench [repeats]
#include "secmlops/app/operations.hpp"
#include "secmlops/app/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

using namespace secmlops;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double time_once(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 200;
  host::Registry registry;
  registry.load_directories({SECMLOPS_PLUGIN_DIR});
  app::LocalFiles files;
  app::Environment env{registry, files};

  auto dir = std::filesystem::temp_directory_path() / "secmlops-pipeline-bench";
  std::filesystem::create_directories(dir);
  auto file = dir / "small.pkl";
  std::ofstream(file, std::ios::binary)
      << std::string("\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86\x94.", 18);

  v1::ScanRequest scan;
  scan.add_paths(file.string());
  v1::PipelineRequest pipe;
  pipe.set_spec("name: bench\nsteps:\n  - id: scan\n    scan: {paths: [\"" + file.string() +
                "\"]}\n");
  pipe.set_output_dir((dir / "out").string());

  std::vector<double> direct, piped;
  for (int i = 0; i < 10; ++i)
    (void)app::scan(env, scan), (void)app::run_pipeline(env, pipe);  // warm-up
  for (int i = 0; i < repeats; ++i) {
    direct.push_back(time_once([&] { (void)app::scan(env, scan); }));
    piped.push_back(time_once([&] { (void)app::run_pipeline(env, pipe); }));
  }
  const double d = median(direct), p = median(piped);
  std::printf("scan of one file, direct        median %8.1f us (%d runs)\n", d * 1e6, repeats);
  std::printf("same scan as a one-step pipeline median %8.1f us\n", p * 1e6);
  std::printf("pipeline overhead per step       median %8.1f us\n", (p - d) * 1e6);
  std::filesystem::remove_all(dir);
  return 0;
}
