// Scans ONNX models with the walker over a memory-mapped file, as the host does, and prints
// the median wall time, the bytes the walker fetched and the process's peak RSS.
//   bench_onnx_scan [--runs N] model.onnx...
#include "onnx_walker.hpp"
#include "scan_job.hpp"
#include "secmlops/host/stream.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

// Copies out of the host's stream, one copy per window as this benchmark has always measured:
// the figure is the walker's own cost, comparable from run to run.
class StreamSource final : public secmlops::sdk::ReadSource {
 public:
  explicit StreamSource(const secmlops::host::Stream& s) : s_(s) {}
  uint64_t size() const override { return s_.size(); }

 private:
  size_t read_into(uint64_t offset, uint8_t* buf, size_t len) override {
    return s_.read_at(offset, buf, len);
  }
  const secmlops::host::Stream& s_;
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else
      files.emplace_back(argv[i]);
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: bench_onnx_scan [--runs N] model.onnx...\n");
    return 2;
  }
  for (const auto& file : files) {
    std::vector<double> times;
    secmlops::plugins::onnx::WalkStats stats;
    size_t findings = 0;
    int worst = 0;
    for (int r = 0; r < runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      secmlops::host::FileStream stream(file);
      StreamSource src(stream);
      std::filesystem::path dir = std::filesystem::path(file).parent_path();
      secmlops::plugins::onnx::WalkContext ctx;
      findings = 0;
      worst = 0;
      ctx.emit = [&](const secmlops::sdk::Finding& f) {
        ++findings;
        worst = std::max<int>(worst, f.severity);
      };
      ctx.stat_sibling = [&](const std::string& rel) {
        return secmlops::host::stat_sibling_in(dir, rel);
      };
      stats = secmlops::plugins::onnx::walk_model(src, ctx);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "%s: size %.2f GiB, median %.3f ms (min %.3f, max %.3f, %d runs), tensors %llu, bytes read "
        "%llu, "
        "findings %zu (max severity %d), peak RSS %.1f MiB\n",
        file.c_str(), static_cast<double>(std::filesystem::file_size(file)) / (1 << 30),
        times[times.size() / 2] * 1e3, times.front() * 1e3, times.back() * 1e3, runs,
        static_cast<unsigned long long>(stats.tensors),
        static_cast<unsigned long long>(stats.bytes_fetched), findings, worst,
        static_cast<double>(ru.ru_maxrss) / 1024.0);
  }
  return 0;
}
