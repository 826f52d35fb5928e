// Benchmark and command-line driver for the pickle scanner core.
//
//   pickle_bench scan FILE [FORMAT]        print the findings for one file (FORMAT: probed)
//   pickle_bench bench REPEAT FILE...      median wall time, MB/s and peak RSS per file
//
// Files are mmap'ed: the scanner reads them through zero-copy windows exactly as it reads a
// host stream, and skipped payloads are never touched (RSS shows it).
#include "formats.hpp"
#include "pickle_scan.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace secmlops::plugins::pickle;

namespace {

struct Mapped {
  explicit Mapped(const char* path) {
    int fd = ::open(path, O_RDONLY);
    if (fd < 0) { std::perror(path); std::exit(2); }
    struct stat st{};
    ::fstat(fd, &st);
    size = static_cast<uint64_t>(st.st_size);
    if (size > 0) {
      data = static_cast<const uint8_t*>(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
      if (data == MAP_FAILED) { std::perror("mmap"); std::exit(2); }
    }
    ::close(fd);
  }
  ~Mapped() {
    if (size > 0) ::munmap(const_cast<uint8_t*>(data), size);
  }
  const uint8_t* data = reinterpret_cast<const uint8_t*>("");
  uint64_t size = 0;
};

struct CountSink final : Sink {
  void emit(Finding f) override {
    ++count;
    if (print)
      std::printf("%-8s %-28s @%llu %s [%s]%s%s\n", severity_name(f.severity), f.rule_id.c_str(),
                  static_cast<unsigned long long>(f.offset), f.message.c_str(), f.detail.c_str(),
                  f.evidence.empty() ? "" : " global=",
                  f.evidence.empty() || f.evidence[0].first != "global" ? "" : f.evidence[0].second.c_str());
  }
  bool print = false;
  uint64_t count = 0;
};

bool scan_file(const Mapped& m, const char* forced_format, CountSink& sink, const Policy& policy) {
  MemoryInput in(m.data, m.size);
  ScanState state(in, policy, sink);
  const char* format = kFormatPickle;
  if (forced_format != nullptr) format = forced_format;
  else probe_format({m.data, std::min<uint64_t>(m.size, 65536)}, format);
  return scan_format(state, format);
}

double peak_rss_mb() {
  struct rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "scan") {
    Mapped m(argv[2]);
    CountSink sink;
    sink.print = true;
    Policy policy(std::getenv("PICKLE_ALLOWLIST") != nullptr);
    bool ok = scan_file(m, argc > 3 ? argv[3] : nullptr, sink, policy);
    std::printf("%s: %llu findings%s\n", argv[2], static_cast<unsigned long long>(sink.count),
                ok ? "" : " (analysis incomplete)");
    return ok ? 0 : 3;
  }
  if (argc >= 4 && std::string(argv[1]) == "bench") {
    int repeat = std::max(1, std::atoi(argv[2]));
    Policy policy;
    std::printf("%-48s %12s %10s %10s %9s\n", "file", "bytes", "median_s", "MB/s", "findings");
    for (int f = 3; f < argc; ++f) {
      Mapped m(argv[f]);
      std::vector<double> times;
      uint64_t findings = 0;
      for (int r = 0; r < repeat; ++r) {
        CountSink sink;
        auto t0 = std::chrono::steady_clock::now();
        scan_file(m, nullptr, sink, policy);
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        findings = sink.count;
      }
      std::sort(times.begin(), times.end());
      double med = times[times.size() / 2];
      std::printf("%-48s %12llu %10.4f %10.1f %9llu\n", argv[f], static_cast<unsigned long long>(m.size), med,
                  static_cast<double>(m.size) / 1e6 / med, static_cast<unsigned long long>(findings));
    }
    std::printf("peak RSS: %.1f MB\n", peak_rss_mb());
    return 0;
  }
  std::fprintf(stderr, "usage: %s scan FILE [FORMAT] | bench REPEAT FILE...\n", argv[0]);
  return 2;
}
