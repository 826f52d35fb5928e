#include "secmlops/host/safe_open.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace secmlops::host {
namespace {

// Remembered once the kernel says openat2 does not exist (Linux < 5.6, or filtered by a
// container runtime), so the fallback is taken without a failing call per file.
std::atomic<bool> openat2_missing{false};

int openat2_beneath(int dirfd, const std::string& relative, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dirfd, relative.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EINTR || errno == EAGAIN) continue;  // EAGAIN: a rename raced the lookup
    return -errno;
  }
}

// One openat per component, each with O_NOFOLLOW, each relative to the directory opened by the
// previous one: a component swapped for a symlink at any moment fails with ELOOP.
int walk_beneath(int dirfd, const std::string& relative, int flags) {
  if (relative.empty() || relative.front() == '/') return -EXDEV;
  UniqueFd owned;
  int at = dirfd;
  size_t pos = 0;
  for (;;) {
    size_t slash = relative.find('/', pos);
    std::string part =
        relative.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    bool last =
        slash == std::string::npos || relative.find_first_not_of('/', slash) == std::string::npos;
    if (part == "..") return -EXDEV;
    if (!part.empty() && part != ".") {
      int f = last ? flags | O_NOFOLLOW : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
      int fd = ::openat(at, part.c_str(), f, 0);
      if (fd < 0) return -errno;
      owned.reset(fd);
      at = fd;
      if (last) return owned.release();
    } else if (last) {
      // "dir/." or "dir/": the directory itself.
      int fd = ::openat(at, ".", flags, 0);
      return fd < 0 ? -errno : fd;
    }
    pos = slash + 1;
  }
}

}  // namespace

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int open_beneath(int dirfd, const std::string& relative, int flags) {
  flags |= O_CLOEXEC;
  if (!openat2_missing.load(std::memory_order_relaxed)) {
    int fd = openat2_beneath(dirfd, relative, flags);
    if (fd != -ENOSYS && fd != -EPERM) return fd;  // EPERM: a seccomp filter refusing openat2
    openat2_missing.store(true, std::memory_order_relaxed);
  }
  return walk_beneath(dirfd, relative, flags);
}

int open_nonblocking(const std::string& path, int extra_flags) {
  for (;;) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | extra_flags);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

const char* file_type_name(mode_t mode) {
  if (S_ISREG(mode)) return "regular file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISFIFO(mode)) return "FIFO";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  return "special file";
}

}  // namespace secmlops::host
