#include "secmlops/host/stream.hpp"

#include "secmlops/host/safe_open.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace secmlops::host {

FileStream::FileStream(const std::filesystem::path& path) : path_(path.string()) {
  fd_ = open_nonblocking(path_);
  if (fd_ < 0) throw std::runtime_error(path_ + ": cannot open: " + std::strerror(-fd_));
  init(true);
}

FileStream::FileStream(int fd, std::string name, bool map) : path_(std::move(name)), fd_(fd) {
  if (fd_ < 0) throw std::runtime_error(path_ + ": no descriptor");
  init(map);
}

void FileStream::init(bool map) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int err = errno;
    ::close(fd_);
    throw std::runtime_error(path_ + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw std::runtime_error(path_ + ": not a regular file (" + file_type_name(st.st_mode) + ")");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  constexpr uint64_t kCopyBytes = 64u << 10;
  if (map && size_ > 0 && size_ <= kCopyBytes) {
    auto copy = std::make_unique_for_overwrite<uint8_t[]>(size_);
    uint64_t got = 0;
    while (got < size_) {
      ssize_t n = ::pread(fd_, copy.get() + got, size_ - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<uint64_t>(n);
    }
    // A file that shrank meanwhile is read through pread, which reports it.
    if (got == size_) {
      copy_ = std::move(copy);
      map_ = copy_.get();
    }
    return;
  }
  if (map && size_ > 0) {
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (m != MAP_FAILED) {
      map_ = static_cast<const uint8_t*>(m);
      // Scanners read mostly forward and skip tensor payloads: let the kernel read ahead.
      ::madvise(m, size_, MADV_SEQUENTIAL);
    }
  }
}

FileStream::~FileStream() {
  if (map_ != nullptr && copy_ == nullptr) ::munmap(const_cast<uint8_t*>(map_), size_);
  if (fd_ >= 0) ::close(fd_);
}

size_t FileStream::read_at(uint64_t offset, void* buf, size_t len) const {
  if (offset >= size_ || len == 0) return 0;
  len = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
  if (copy_ != nullptr) {
    std::memcpy(buf, copy_.get() + offset, len);
    return len;
  }
  // Always pread, even when mapped: copying out of the mapping would map the page-cache folios
  // around every read (up to 2 MiB each with large folios) into this process, so reading the
  // headers of a 1 GiB archive's members would cost RSS proportional to the file. view() is the
  // zero-copy path for scanners that want it.
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd_, static_cast<uint8_t*>(buf) + done, len - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(path_ + ": read error at offset " + std::to_string(offset + done) +
                               ": " + std::strerror(errno));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

const uint8_t* FileStream::view(uint64_t offset, uint64_t len) const {
  if (map_ == nullptr || offset > size_ || len > size_ - offset) return nullptr;
  return map_ + offset;
}

void FileStream::release(uint64_t offset, uint64_t len) const {
  if (map_ == nullptr || copy_ != nullptr || offset >= size_ || len == 0) return;
  len = std::min<uint64_t>(len, size_ - offset);
  // Only whole pages strictly inside the window; the mapping is read-only and private, so
  // MADV_DONTNEED just drops residency and the bytes are paged in again if viewed later.
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t begin = (offset + page - 1) / page * page;
  uint64_t end = (offset + len) / page * page;
  if (end > begin) ::madvise(const_cast<uint8_t*>(map_) + begin, end - begin, MADV_DONTNEED);
}

size_t MemoryStream::read_at(uint64_t offset, void* buf, size_t len) const {
  if (offset >= bytes_.size() || len == 0) return 0;
  len = static_cast<size_t>(std::min<uint64_t>(len, bytes_.size() - offset));
  std::memcpy(buf, bytes_.data() + offset, len);
  return len;
}

const uint8_t* MemoryStream::view(uint64_t offset, uint64_t len) const {
  if (offset > bytes_.size() || len > bytes_.size() - offset) return nullptr;
  return bytes_.data() + offset;
}

SubStream::SubStream(std::shared_ptr<const Stream> base, uint64_t offset, uint64_t length)
    : base_(std::move(base)), offset_(offset), length_(length) {
  if (offset_ > base_->size() || length_ > base_->size() - offset_)
    throw std::runtime_error("sub-stream [" + std::to_string(offset) + ", +" +
                             std::to_string(length) + ") lies outside its container");
}

size_t SubStream::read_at(uint64_t offset, void* buf, size_t len) const {
  if (offset >= length_) return 0;
  len = static_cast<size_t>(std::min<uint64_t>(len, length_ - offset));
  return base_->read_at(offset_ + offset, buf, len);
}

const uint8_t* SubStream::view(uint64_t offset, uint64_t len) const {
  if (offset > length_ || len > length_ - offset) return nullptr;
  return base_->view(offset_ + offset, len);
}

void SubStream::release(uint64_t offset, uint64_t len) const {
  if (offset >= length_) return;
  base_->release(offset_ + offset, std::min<uint64_t>(len, length_ - offset));
}

}  // namespace secmlops::host
