// Times the application layer's CSV loader on a file, as the operations call it: the matrix of
// the feature columns with the digest only (predict, attack), and with the whole DatasetRecord
// (train: schema statistics, privacy, classes). Prints medians and MB/s.
//   secmlops_csv_bench FILE.csv [repeats]
#include "secmlops/app/data.hpp"
#include "secmlops/host/digest.hpp"
#include "secmlops/host/large_allocations.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Medians of wall and CPU seconds (CPU time stays meaningful on a loaded machine).
template <class F>
std::pair<double, double> median_seconds(int repeats, F&& f) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_now();
    f();
    cpu.push_back(cpu_now() - c0);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace secmlops;
  host::use_short_lived_heap();  // as the command line does
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.csv [repeats]\n", argv[0]);
    return 2;
  }
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 21;
  const double mb = static_cast<double>(std::filesystem::file_size(argv[1])) / 1e6;
  host::Registry registry;
  app::LocalFiles files;
  app::Environment env{registry, files};
  v1::CsvData csv;
  csv.set_path(argv[1]);
  size_t cells = 0;
  for (auto [name, provenance, rule] :
       {std::tuple{"matrix + digest (predict, attack)", app::Provenance::digest,
                   app::LabelRule::none_unless_named},
        std::tuple{"matrix + full record (train)", app::Provenance::full,
                   app::LabelRule::last_by_default}}) {
    auto [wall, cpu] = median_seconds(repeats, [&] {
      auto t = app::load_csv(env, csv, rule, {}, provenance);
      cells = t.x.rows * t.x.cols;
    });
    std::printf(
        "%-36s wall %7.2f ms %6.0f MB/s   cpu %7.2f ms %6.0f MB/s  (%.1f MB, %zu values, medians "
        "of %d)\n",
        name, wall * 1e3, mb / wall, cpu * 1e3, mb / cpu, mb, cells, repeats);
  }
  // The parts, on the bytes in memory: splitting into cells, reading the numbers, the digest.
  std::string text(static_cast<size_t>(mb * 1e6), '\0');
  {
    FILE* f = std::fopen(argv[1], "rb");
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
  }
  host::CsvTable table;
  auto [w1, c1] = median_seconds(repeats, [&] { table = host::parse_csv(text, argv[1]); });
  std::vector<size_t> columns(table.fields);
  for (size_t c = 0; c < columns.size(); ++c) columns[c] = c;
  auto [w2, c2] = median_seconds(repeats, [&] { (void)table.numeric(columns); });
  auto [w3, c3] = median_seconds(repeats, [&] { (void)host::sha256_hex(text); });
  volatile unsigned char sink = 0;
  auto [w4, c4] = median_seconds(repeats, [&] {
    unsigned char x = 0;
    for (char ch : text) x ^= static_cast<unsigned char>(ch);
    sink = x;
  });
  std::printf(
      "parts (cpu): split into cells %.2f ms, numbers %.2f ms, sha256 %.2f ms; reading the bytes "
      "once "
      "%.2f ms (%.0f MB/s)\n",
      c1 * 1e3, c2 * 1e3, c3 * 1e3, c4 * 1e3, mb / c4);
  return 0;
}
