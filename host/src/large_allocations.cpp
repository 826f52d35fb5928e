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
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

#include <sys/mman.h>

#include <cstdlib>
#include <new>

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

#endif
