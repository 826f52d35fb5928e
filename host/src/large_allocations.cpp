// The program's operator new: a block of 1 MiB or more (a CSV's text and cells, a data matrix, an
// output buffer) starts on a 2 MiB boundary, its size rounded up to 2 MiB, and is marked for
// transparent huge pages. Such a buffer is written once, front to back, soon after it is
// allocated: on 4 KiB pages every page is a fault, which costs far more than the bytes written
// where page tables are virtualised (12 µs a page was measured on a 2-core VM, against under 1 µs
// a page on huge pages); numpy marks its large arrays the same way. Smaller blocks are malloc's.
// Every block is malloc'd memory: the library's operator delete (free) releases both kinds.
//
// Linked into programs, not libraries: one definition per process, which the plugins' and
// libraries' allocations bind to as well. Not under sanitizers, whose own allocator checks
// new/delete pairs.
#include "secmlops/host/large_allocations.hpp"

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <thread>

namespace {

constexpr std::size_t kLargeBlock = std::size_t{1} << 20;
constexpr std::size_t kHugePage = std::size_t{2} << 20;

void* allocate(std::size_t n) {
  if (n < kLargeBlock) return std::malloc(n == 0 ? 1 : n);
  const std::size_t rounded = (n + kHugePage - 1) & ~(kHugePage - 1);
  if (rounded < n) return nullptr;  // n near SIZE_MAX
  void* p = nullptr;
  if (::posix_memalign(&p, kHugePage, rounded) != 0) return nullptr;
  // Advice only: where huge pages are off or none is free, the block is on 4 KiB pages.
  (void)::madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

}  // namespace

void* operator new(std::size_t n) {
  while (true) {
    if (void* p = allocate(n)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }

namespace {
bool short_lived_heap = false;  // use_short_lived_heap changed malloc's settings
}  // namespace

void secmlops::host::use_short_lived_heap() {
  for (const char* v : {"GLIBC_TUNABLES", "MALLOC_ARENA_MAX", "MALLOC_TOP_PAD_",
                        "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"})
    if (std::getenv(v) != nullptr) return;
  constexpr std::size_t kPad = std::size_t{64} << 20;
  // Under a tight limit on data or address space, each 64 MiB growth could fail where a small
  // one would not: the default heap is kept there.
  for (const int resource : {RLIMIT_DATA, RLIMIT_AS}) {
    rlimit limit{};
    if (::getrlimit(resource, &limit) != 0 ||
        (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < (rlim_t{1} << 30)))
      return;
  }
  // One arena: a thread's blocks come from the same huge pages (a command has a few threads).
  (void)::mallopt(M_ARENA_MAX, 1);
  short_lived_heap = true;
  // Blocks below 32 MiB (glibc's largest threshold) come from the heap, freed ones are reused
  // rather than unmapped and faulted again, and the heap is never given back before exit.
  (void)::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  (void)::mallopt(M_TRIM_THRESHOLD, 2 * kPad);
  (void)::mallopt(M_TOP_PAD, kPad);
  // The next growth of the heap happens now (a block larger than its free top, plus the pad),
  // and the new part is marked: later growths keep their own, unmarked mapping.
  constexpr std::size_t kProbe = std::size_t{1} << 20;
  void* probe = std::malloc(kProbe);
  if (probe == nullptr) return;
  const auto chunk = reinterpret_cast<std::uintptr_t>(probe) - 2 * sizeof(std::size_t);
  std::free(probe);  // back into the free top, which starts at `chunk` again
  const auto heap_end = reinterpret_cast<std::uintptr_t>(::sbrk(0));
  // A huge page is only ever given to a whole aligned 2 MiB of the marked part whose pages were
  // not touched before the mark. Growing the heap wrote the free top's header after the probe,
  // so the marked part begins at the first boundary past the probe; a filler block, never
  // touched (so never faulted) and never freed, takes what lies before it.
  const auto aligned = (chunk + kProbe + 64 + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = heap_end & ~(kHugePage - 1);
  // A heap that could not grow by brk lives in mappings of its own: left as it is.
  if (heap_end < chunk || end <= aligned || end - aligned > 2 * kPad) return;
  (void)::madvise(reinterpret_cast<void*>(aligned), end - aligned, MADV_HUGEPAGE);
  [[maybe_unused]] static void* volatile filler;  // volatile: kept although never read
  filler = std::malloc(aligned - chunk - sizeof(std::size_t));
}

void secmlops::host::give_helper_threads_arenas() {
  // Threads started from now on may get an arena of their own, up to one per core (if none has
  // allocated yet: glibc reads the limit when a thread first needs an arena).
  if (short_lived_heap)
    (void)::mallopt(M_ARENA_MAX,
                    static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 1);
}

#else

void secmlops::host::use_short_lived_heap() {}
void secmlops::host::give_helper_threads_arenas() {}

#endif
