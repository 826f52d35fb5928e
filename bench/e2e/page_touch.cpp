// What first touching fresh memory costs here, per 4 KiB page: 64 MiB of anonymous memory
// written one byte a page, mapped plainly, with MAP_POPULATE, and advised for transparent huge
// pages. Where page tables are virtualised a fault costs far more than the bytes it maps, which
// is why the programs put large blocks on huge pages (host/src/large_allocations.cpp).
//
//   page_touch [ROUNDS]
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const long asked = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 5;
  const int rounds = static_cast<int>(std::clamp(asked, 1L, 1000L));
  constexpr size_t kBytes = size_t{64} << 20;
  constexpr size_t kPage = 4096;
  const char* names[] = {"4 KiB pages, faulted", "MAP_POPULATE", "MADV_HUGEPAGE"};
  for (int mode = 0; mode < 3; ++mode) {
    std::vector<double> us;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (mode == 1 ? MAP_POPULATE : 0);
      auto* p = static_cast<volatile char*>(
          ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, flags, -1, 0));
      if (p == MAP_FAILED) {
        std::perror("mmap");
        return 1;
      }
      if (mode == 2) (void)::madvise(const_cast<char*>(p), kBytes, MADV_HUGEPAGE);
      for (size_t i = 0; i < kBytes; i += kPage) p[i] = 1;
      const auto t1 = std::chrono::steady_clock::now();
      ::munmap(const_cast<char*>(p), kBytes);
      constexpr auto kPages = static_cast<double>(kBytes) / static_cast<double>(kPage);
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / kPages);
    }
    std::sort(us.begin(), us.end());
    std::printf("%-22s %6.2f us a 4 KiB page (median of %d rounds, 64 MiB each)\n", names[mode],
                us[us.size() / 2], rounds);
  }
  return 0;
}
