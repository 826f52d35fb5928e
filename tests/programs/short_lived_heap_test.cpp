// The command line's heap (host/src/large_allocations.cpp): small blocks on transparent huge
// pages, unless the environment tunes malloc. Each case runs in a child process, because the
// policy changes malloc for the whole process.
#include "secmlops/host/large_allocations.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Mapping {
  bool found = false;
  std::string flags;  // VmFlags
  uint64_t anon_huge_kib = 0;
};

// The smaps entry of the mapping that holds `p`.
Mapping mapping_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  std::ifstream in("/proc/self/smaps");
  Mapping m;
  bool inside = false;
  std::string line;
  while (std::getline(in, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (line.find(':') > line.find(' ') && (head >> std::hex >> lo >> dash >> hi) && dash == '-') {
      inside = a >= lo && a < hi;
      continue;
    }
    if (!inside) continue;
    m.found = true;
    if (line.rfind("AnonHugePages:", 0) == 0)
      m.anon_huge_kib = std::strtoull(line.c_str() + 14, nullptr, 10);
    if (line.rfind("VmFlags:", 0) == 0) m.flags = line.substr(8) + " ";
  }
  return m;
}

bool huge_pages_enabled() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return !s.empty() && s.find("[never]") == std::string::npos;
}

// Runs `check` in a child; its exit status is the number of the first failed expectation.
int in_child(const std::function<int()>& check) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(check());
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// 8 MiB of 1 KiB blocks, written, as a command's cells and messages are.
std::vector<char*> small_blocks() {
  std::vector<char*> blocks;
  blocks.reserve(8192);
  for (int i = 0; i < 8192; ++i) {
    auto* b = static_cast<char*>(std::malloc(1024));
    if (b == nullptr) std::abort();
    std::memset(b, 1, 1024);
    blocks.push_back(b);
  }
  return blocks;
}

// Nothing in the environment that tunes malloc: the policy's own choice is what is tested.
void clear_malloc_environment() {
  for (const char* v : {"GLIBC_TUNABLES", "MALLOC_ARENA_MAX", "MALLOC_TOP_PAD_",
                        "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"})
    ::unsetenv(v);
}

// The mapping that holds a command's small blocks once the policy has run in this process.
Mapping heap_after_policy() {
  secmlops::host::use_short_lived_heap();
  const auto blocks = small_blocks();
  return mapping_of(blocks.back());
}

bool marked_for_huge_pages(const Mapping& m) { return m.flags.find(" hg ") != std::string::npos; }

TEST(ShortLivedHeap, SmallBlocksAreOnHugePages) {
  const bool enabled = huge_pages_enabled();
  EXPECT_EQ(in_child([enabled] {
              clear_malloc_environment();
              const Mapping m = heap_after_policy();
              if (!m.found) return 1;
              if (!marked_for_huge_pages(m)) return 2;
              // With huge pages on, the 8 MiB written are (nearly all) on them.
              if (enabled && m.anon_huge_kib < 4096) return 3;
              return 0;
            }),
            0);
}

// A block a new thread allocates (and writes), and the mapping that holds it.
Mapping thread_block_mapping() {
  Mapping m;
  std::thread([&m] {
    auto* b = static_cast<char*>(std::malloc(1024));
    if (b == nullptr) std::abort();
    std::memset(b, 1, 1024);
    m = mapping_of(b);
  }).join();
  return m;
}

// In a child: the policy, optionally arenas for helpers, then whether a new thread's block is
// in the marked heap (0: as expected).
int helper_thread_block(bool give_arenas, bool expect_marked) {
  return in_child([=] {
    clear_malloc_environment();
    if (!marked_for_huge_pages(heap_after_policy())) return 1;
    if (give_arenas) secmlops::host::give_helper_threads_arenas();
    const Mapping m = thread_block_mapping();
    if (!m.found) return 2;
    return marked_for_huge_pages(m) == expect_marked ? 0 : 3;
  });
}

TEST(ShortLivedHeap, HelperThreadsShareTheMarkedHeap) {
  EXPECT_EQ(helper_thread_block(/*give_arenas=*/false, /*expect_marked=*/true), 0);
}

TEST(ShortLivedHeap, HelperThreadsGetArenasOfTheirOwnWhenAskedFirst) {
  EXPECT_EQ(helper_thread_block(/*give_arenas=*/true, /*expect_marked=*/false), 0);
}

TEST(ShortLivedHeap, TheEnvironmentsOwnMallocTuningWins) {
  EXPECT_EQ(in_child([] {
              clear_malloc_environment();
              ::setenv("GLIBC_TUNABLES", "glibc.malloc.check=0", 1);
              const Mapping m = heap_after_policy();
              if (!m.found) return 1;
              return marked_for_huge_pages(m) ? 2 : 0;
            }),
            0);
}

TEST(ShortLivedHeap, ATightDataLimitKeepsTheDefaultHeap) {
  EXPECT_EQ(in_child([] {
              clear_malloc_environment();
              rlimit limit{};
              if (::getrlimit(RLIMIT_DATA, &limit) != 0) return 1;
              limit.rlim_cur = rlim_t{512} << 20;
              if (::setrlimit(RLIMIT_DATA, &limit) != 0) return 2;
              const Mapping m = heap_after_policy();
              if (!m.found) return 3;
              return marked_for_huge_pages(m) ? 4 : 0;
            }),
            0);
}

}  // namespace
