// The floor of an end-to-end job: a process that does nothing but what every implementation of
// the job must do with its files — read the input CSV once, parse every number and write an
// output CSV of the given width, each core its own slice. No model, no attack, no checks.
// Built twice: linked statically (e2e_floor), the smallest start-up a process has here; and
// linked dynamically against the shared libraries the secmlops host loads at start for its
// messages and logs (e2e_floor_linked: libstdc++, protobuf, spdlog), used for nothing: the least
// a host linked as this one is can cost.
//
//   e2e_floor IN [OUT COLUMNS]
//
// COLUMNS is how many numbers each output row has (the input's width for adversarial examples,
// 1 for predictions); every output number is one parsed from the input, written in its
// shortest round-trip form.
#include "secmlops/host/large_allocations.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Parsed {
  std::vector<double> values;
  size_t rows = 0;
};

// Parses the lines in [begin, end): numbers separated by commas; a cell that is not a number
// (the header) is skipped.
Parsed parse(const char* begin, const char* end) {
  Parsed out;
  out.values.reserve(static_cast<size_t>(end - begin) / 8);
  const char* p = begin;
  while (p < end) {
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (eol == nullptr) eol = end;
    bool any = false;
    while (p < eol) {
      double v = 0;
      auto r = std::from_chars(p, eol, v);
      if (r.ec == std::errc()) {
        out.values.push_back(v);
        any = true;
        p = r.ptr;
      }
      while (p < eol && *p != ',') ++p;
      if (p < eol) ++p;
    }
    if (any) ++out.rows;
    p = eol + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  secmlops::host::use_short_lived_heap();  // as the command line does
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: e2e_floor IN [OUT COLUMNS]\n");
    return 2;
  }
  int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
    std::perror(argv[1]);
    return 1;
  }
  const auto size = static_cast<size_t>(st.st_size);
  const auto* data =
      static_cast<const char*>(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0));
  if (data == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  // One slice per core, cut at line ends.
  const unsigned parts = std::max(1u, std::thread::hardware_concurrency());
  std::vector<const char*> cuts{data};
  for (unsigned i = 1; i < parts; ++i) {
    const char* c = data + size * i / parts;
    c = static_cast<const char*>(std::memchr(c, '\n', static_cast<size_t>(data + size - c)));
    cuts.push_back(c == nullptr ? data + size : c + 1);
  }
  cuts.push_back(data + size);
  // Each core parses its slice and writes its part of the output; the parts go out in order.
  const size_t columns = argc == 4 ? std::strtoul(argv[3], nullptr, 10) : 0;
  std::vector<Parsed> parsed(parts);
  std::vector<std::string> outs(parts);
  auto work = [&](unsigned i) {
    parsed[i] = parse(cuts[i], cuts[i + 1]);
    const auto& p = parsed[i];
    const size_t width = p.rows == 0 ? 0 : p.values.size() / p.rows;
    auto& out = outs[i];
    out.reserve(p.rows * columns * 24);
    char buf[32];
    for (size_t r = 0; width > 0 && r < p.rows; ++r) {
      for (size_t c = 0; c < columns; ++c) {
        auto res = std::to_chars(buf, buf + sizeof buf, p.values[r * width + c % width]);
        out.append(buf, res.ptr);
        out.push_back(c + 1 == columns ? '\n' : ',');
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < parts; ++i) threads.emplace_back(work, i);
  work(0);
  for (auto& t : threads) t.join();
  size_t rows = 0, values = 0;
  for (const auto& p : parsed) {
    rows += p.rows;
    values += p.values.size();
  }
  if (argc == 2) {
    std::printf("%zu rows, %zu numbers\n", rows, values);
    return 0;
  }
  FILE* f = std::fopen(argv[2], "wb");
  bool written = f != nullptr;
  for (const auto& out : outs)
    written = written && std::fwrite(out.data(), 1, out.size(), f) == out.size();
  if (!written || std::fclose(f) != 0) {
    std::perror(argv[2]);
    return 1;
  }
  return 0;
}
