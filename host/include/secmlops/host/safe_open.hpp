#pragma once

#include <sys/stat.h>

#include <string>

namespace secmlops::host {

// A descriptor that closes itself.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Opens `relative` below the directory `dirfd` without following any symlink and without
// leaving the directory ("..", absolute paths and links all fail with ELOOP/EXDEV/EACCES):
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it, otherwise one
// O_NOFOLLOW openat per component. `flags` are open flags (O_CLOEXEC is always added).
// Returns the descriptor, or -errno.
int open_beneath(int dirfd, const std::string& relative, int flags);

// Opens a path the user named for reading without ever blocking (FIFOs, device nodes: a
// non-blocking open returns at once) and without becoming its controlling terminal.
// Returns the descriptor, or -errno.
int open_nonblocking(const std::string& path, int extra_flags = 0);

// What a non-regular entry is, for reports ("FIFO", "symlink", "socket", "character device").
const char* file_type_name(mode_t mode);

}  // namespace secmlops::host
