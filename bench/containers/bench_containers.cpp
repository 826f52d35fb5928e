// Opens a 1 GiB PyTorch-style zip (a small pickle member plus N stored tensor members), lists
// and routes every member through the scan engine, and reports the median wall time and the
// peak RSS. The archive is written sparse (tensor bytes are holes), so setup is fast; tensor
// bytes must never be read or copied, which is what keeps the time and RSS flat.
//
// Usage: bench_containers [DIR] [MEMBERS] [REPEATS]
#include "secmlops/host/containers.hpp"
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

void put16(std::string& s, uint16_t v) { s.append({char(v & 0xff), char(v >> 8)}); }
void put32(std::string& s, uint32_t v) {
  put16(s, uint16_t(v & 0xffff)), put16(s, uint16_t(v >> 16));
}

// Writes the archive with pwrite; tensor data are holes in a sparse file.
void make_zip(const std::string& path, int members, uint64_t total) {
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  struct E {
    std::string name;
    uint64_t lho, size;
    uint32_t crc;
  };
  std::vector<E> entries;
  uint64_t pos = 0;
  auto local = [&](const std::string& name, uint64_t size, uint32_t crc, const std::string* data) {
    std::string h;
    put32(h, 0x04034b50);
    put16(h, 20);
    put16(h, 0);
    put16(h, 0);
    put16(h, 0);
    put16(h, 0x21);
    put32(h, crc);
    put32(h, uint32_t(size));
    put32(h, uint32_t(size));
    put16(h, uint16_t(name.size()));
    put16(h, 0);
    h += name;
    if (data) h += *data;
    if (::pwrite(fd, h.data(), h.size(), off_t(pos)) != ssize_t(h.size()))
      throw std::runtime_error("write");
    entries.push_back({name, pos, size, crc});
    pos += 30 + name.size() + size;
  };
  std::string pickle = "GOOD: stands in for archive/data.pkl";
  local("archive/data.pkl", pickle.size(),
        uint32_t(crc32(0, reinterpret_cast<const Bytef*>(pickle.data()), uInt(pickle.size()))),
        &pickle);
  uint64_t each = total / uint64_t(members);
  for (int i = 0; i < members; ++i) local("archive/data/" + std::to_string(i), each, 0, nullptr);
  std::string cd;
  for (const auto& e : entries) {
    put32(cd, 0x02014b50);
    put16(cd, 20);
    put16(cd, 20);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0x21);
    put32(cd, e.crc);
    put32(cd, uint32_t(e.size));
    put32(cd, uint32_t(e.size));
    put16(cd, uint16_t(e.name.size()));
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put32(cd, 0);
    put32(cd, uint32_t(e.lho));
    cd += e.name;
  }
  std::string end;
  put32(end, 0x06054b50);
  put16(end, 0);
  put16(end, 0);
  put16(end, uint16_t(entries.size()));
  put16(end, uint16_t(entries.size()));
  put32(end, uint32_t(cd.size()));
  put32(end, uint32_t(pos));
  put16(end, 0);
  cd += end;
  if (::pwrite(fd, cd.data(), cd.size(), off_t(pos)) != ssize_t(cd.size()))
    throw std::runtime_error("write");
  ::close(fd);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace secmlops::host;
  std::filesystem::path dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path();
  int members = argc > 2 ? std::stoi(argv[2]) : 512;
  int repeats = argc > 3 ? std::stoi(argv[3]) : 21;
  auto path = (dir / "secmlops-bench-1gib.pt").string();
  make_zip(path, members, 1ull << 30);
  long rss_before = peak_rss_kib();

  Registry registry;
  auto fixture = std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-cpp.so";
  if (std::filesystem::exists(fixture)) registry.load_library(fixture);
  ScanEngine engine(registry, {});

  std::vector<double> list_s, scan_s, scan_cpu;
  size_t streams = 0;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto file = std::make_shared<FileStream>(path);
    containers::Budget budget{containers::Limits{}};
    auto ex = containers::read_zip(file, budget);
    auto t1 = std::chrono::steady_clock::now();
    double c1 = cpu_seconds();
    auto report = engine.scan_file(path);
    double c2 = cpu_seconds();
    auto t2 = std::chrono::steady_clock::now();
    if (ex.members.size() != size_t(members) + 1 || report.status() != secmlops::v1::SCANNED) {
      std::fprintf(stderr, "unexpected result: %zu members, status %d, %s\n", ex.members.size(),
                   report.status(), report.error().c_str());
      return 1;
    }
    streams = size_t(report.streams_size());
    list_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    scan_s.push_back(std::chrono::duration<double>(t2 - t1).count());
    scan_cpu.push_back(c2 - c1);
  }
  std::printf("archive: %s, %llu bytes, %d stored tensor members + 1 pickle member\n", path.c_str(),
              static_cast<unsigned long long>(std::filesystem::file_size(path)), members);
  std::printf("list members (read_zip):              median %.4f s over %d runs\n", median(list_s),
              repeats);
  std::printf(
      "scan_file (list + detect + route all): median %.4f s over %d runs (%zu stream results)\n",
      median(scan_s), repeats, streams);
  std::printf(
      "scan_file CPU time (user+sys):         median %.4f s (wall time above includes waiting for "
      "a "
      "shared CPU)\n",
      median(scan_cpu));
  std::printf("peak RSS: %.1f MiB (%.1f MiB before opening the archive)\n", peak_rss_kib() / 1024.0,
              rss_before / 1024.0);
  std::filesystem::remove(path);
  return 0;
}
