// Benchmark and command-line driver for the pickle scanner core.
//
//   pickle_bench scan FILE [FORMAT]        print the findings for one file (FORMAT: probed)
//   pickle_bench bench REPEAT FILE...      median wall time, MB/s and peak RSS per file
//   pickle_bench floor REPEAT FILE         the floor: a bare opcode walk over the mapped file
//                                          (argument lengths only: no stack, memo or policy)
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
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace secmlops::plugins::pickle;

namespace {

struct Mapped {
  explicit Mapped(const char* path) {
    int fd = ::open(path, O_RDONLY);
    if (fd < 0) {
      std::perror(path);
      std::exit(2);
    }
    struct stat st {};
    ::fstat(fd, &st);
    size = static_cast<uint64_t>(st.st_size);
    if (size > 0) {
      data = static_cast<const uint8_t*>(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
      if (data == MAP_FAILED) {
        std::perror("mmap");
        std::exit(2);
      }
    }
    ::close(fd);
  }
  ~Mapped() {
    if (size > 0) ::munmap(const_cast<uint8_t*>(data), size);
  }
  const uint8_t* data = reinterpret_cast<const uint8_t*>("");
  uint64_t size = 0;
};

// Reads through a bounded buffer with pread, like the host's read fallback: resident memory
// stays independent of the file size (an mmap would count every touched page in the RSS).
class FileInput final : public Input {
 public:
  explicit FileInput(const char* path) : fd_(::open(path, O_RDONLY)) {
    if (fd_ < 0) {
      std::perror(path);
      std::exit(2);
    }
    struct stat st {};
    ::fstat(fd_, &st);
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~FileInput() override { ::close(fd_); }
  [[nodiscard]] uint64_t size() const override { return size_; }
  const uint8_t* window(uint64_t offset, uint64_t len) override {
    len = std::min(len, size_ - offset);
    buffer_.resize(std::max<size_t>(len, 1));
    uint64_t done = 0;
    while (done < len) {
      ssize_t n =
          ::pread(fd_, buffer_.data() + done, len - done, static_cast<off_t>(offset + done));
      if (n <= 0) return nullptr;
      done += static_cast<uint64_t>(n);
    }
    return buffer_.data();
  }

 private:
  int fd_;
  uint64_t size_ = 0;
  std::vector<uint8_t> buffer_;
};

struct CountSink final : Sink {
  void emit(Finding f) override {
    ++count;
    if (print)
      std::printf("%-8s %-28s @%llu %s [%s]%s%s\n", severity_name(f.severity), f.rule_id.c_str(),
                  static_cast<unsigned long long>(f.offset), f.message.c_str(), f.detail.c_str(),
                  f.evidence.empty() || f.evidence[0].first != "global" ? "" : " global=",
                  f.evidence.empty() || f.evidence[0].first != "global"
                      ? ""
                      : f.evidence[0].second.c_str());
  }
  bool print = false;
  uint64_t count = 0;
};

bool scan_input(Input& in, const char* forced_format, CountSink& sink, const Policy& policy) {
  ScanState state(in, policy, sink);
  const char* format = kFormatPickle;
  if (forced_format != nullptr) {
    format = forced_format;
  } else {
    uint64_t n = std::min<uint64_t>(in.size(), 65536);
    probe_format({in.window(0, n), n}, format);
  }
  return scan_format(state, format);
}

bool scan_file(const Mapped& m, const char* forced_format, CountSink& sink, const Policy& policy) {
  MemoryInput in(m.data, m.size);
  return scan_input(in, forced_format, sink, policy);
}

double cpu_seconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double peak_rss_mb() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// The least any opcode-level scanner must do: find where each opcode ends. Per opcode kind: a
// fixed argument size, a little-endian length prefix of 1/4/8 bytes, or newline-ended lines.
struct OpShape {
  uint8_t fixed = 0, prefix = 0, lines = 0;
};
const std::array<OpShape, 256>& op_shapes() {
  static const std::array<OpShape, 256> t = [] {
    std::array<OpShape, 256> s{};
    auto fixed = [&](int op, uint8_t n) { s[op].fixed = n; };
    auto prefix = [&](int op, uint8_t n) { s[op].prefix = n; };
    auto lines = [&](int op, uint8_t n) { s[op].lines = n; };
    fixed(0x80, 1);
    fixed(0x95, 8);
    fixed('K', 1);
    fixed('M', 2);
    fixed('J', 4);
    fixed('G', 8);
    fixed('q', 1);
    fixed('r', 4);
    fixed('h', 1);
    fixed('j', 4);
    fixed(0x82, 1);
    fixed(0x83, 2);
    fixed(0x84, 4);
    prefix(0x8a, 1);
    prefix(0x8b, 4);
    prefix('T', 4);
    prefix('U', 1);
    prefix('X', 4);
    prefix(0x8c, 1);
    prefix(0x8d, 8);
    prefix('B', 4);
    prefix('C', 1);
    prefix(0x8e, 8);
    prefix(0x96, 8);
    for (int op : {'I', 'L', 'F', 'S', 'V', 'P', 'p', 'g'}) lines(op, 1);
    lines('c', 2);
    lines('i', 2);
    return s;
  }();
  return t;
}

// Opcodes walked until the first STOP (0 when the bytes end first).
uint64_t bare_walk(const uint8_t* p, uint64_t size) {
  const auto& shapes = op_shapes();
  uint64_t pos = 0, ops = 0;
  while (pos < size) {
    const uint8_t op = p[pos];
    ++ops;
    if (op == '.') return ops;
    const OpShape s = shapes[op];
    pos += 1 + s.fixed;
    if (s.prefix != 0) {
      if (pos + s.prefix > size) return 0;
      uint64_t len = 0;
      std::memcpy(&len, p + pos, s.prefix);  // little-endian host
      pos += s.prefix + len;
    }
    for (uint8_t l = 0; l < s.lines && pos < size; ++l) {
      const void* nl = std::memchr(p + pos, '\n', size - pos);
      if (nl == nullptr) return 0;
      pos = static_cast<uint64_t>(static_cast<const uint8_t*>(nl) - p) + 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "floor") {
    int repeat = std::max(1, std::atoi(argv[2]));
    Mapped m(argv[3]);
    std::vector<double> times, cpu;
    uint64_t ops = 0;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpu_seconds();
      ops = bare_walk(m.data, m.size);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(cpu_seconds() - c0);
    }
    std::sort(times.begin(), times.end());
    std::sort(cpu.begin(), cpu.end());
    double med = times[times.size() / 2], cmed = std::max(cpu[cpu.size() / 2], 1e-6);
    std::printf(
        "floor (bare opcode walk, mapped, page cache warm): %llu opcodes, wall %.4f s (%.1f MB/s), "
        "cpu %.4f s (%.1f MB/s)\n",
        static_cast<unsigned long long>(ops), med, static_cast<double>(m.size) / 1e6 / med, cmed,
        static_cast<double>(m.size) / 1e6 / cmed);
    return ops == 0 ? 3 : 0;
  }
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
    std::printf("%-28s %12s %10s %10s %10s %10s %9s\n", "file", "bytes", "wall_s", "wall_MB/s",
                "cpu_s", "cpu_MB/s", "findings");
    const bool use_mmap = std::getenv("PICKLE_BENCH_MMAP") != nullptr;
    for (int f = 3; f < argc; ++f) {
      std::vector<double> times, cpu;
      uint64_t findings = 0;
      uint64_t size = 0;
      for (int r = 0; r < repeat; ++r) {
        CountSink sink;
        auto t0 = std::chrono::steady_clock::now();
        double c0 = cpu_seconds();
        if (use_mmap) {
          Mapped m(argv[f]);
          size = m.size;
          scan_file(m, nullptr, sink, policy);
        } else {
          FileInput in(argv[f]);
          size = in.size();
          scan_input(in, nullptr, sink, policy);
        }
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        cpu.push_back(cpu_seconds() - c0);
        findings = sink.count;
      }
      std::sort(times.begin(), times.end());
      std::sort(cpu.begin(), cpu.end());
      double med = times[times.size() / 2], cmed = std::max(cpu[cpu.size() / 2], 1e-6);
      const char* base = std::strrchr(argv[f], '/') ? std::strrchr(argv[f], '/') + 1 : argv[f];
      std::printf("%-28s %12llu %10.4f %10.1f %10.4f %10.1f %9llu\n", base,
                  static_cast<unsigned long long>(size), med, static_cast<double>(size) / 1e6 / med,
                  cmed, static_cast<double>(size) / 1e6 / cmed,
                  static_cast<unsigned long long>(findings));
    }
    std::printf("peak RSS: %.1f MB\n", peak_rss_mb());
    return 0;
  }
  std::fprintf(stderr, "usage: %s scan FILE [FORMAT] | bench REPEAT FILE... | floor REPEAT FILE\n",
               argv[0]);
  return 2;
}
