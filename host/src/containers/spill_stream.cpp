#include "containers/spill_stream.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace secmlops::host::containers {
namespace {

std::atomic<uint64_t> g_spilled{0};

// A read-only mapping of an unlinked temp file: gone from disk as soon as the stream goes.
class MappedTempStream final : public Stream {
 public:
  MappedTempStream(int fd, uint64_t size, uint64_t reserved)
      : fd_(fd), size_(size), reserved_(reserved) {
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) {
      int err = errno;
      ::close(fd_);
      g_spilled.fetch_sub(reserved_);
      throw std::runtime_error(std::string("cannot map spilled member: ") + std::strerror(err));
    }
    map_ = static_cast<const uint8_t*>(m);
    ::madvise(m, size_, MADV_SEQUENTIAL);
  }
  ~MappedTempStream() override {
    ::munmap(const_cast<uint8_t*>(map_), size_);
    ::close(fd_);
    g_spilled.fetch_sub(reserved_);
  }
  MappedTempStream(const MappedTempStream&) = delete;
  MappedTempStream& operator=(const MappedTempStream&) = delete;
  [[nodiscard]] uint64_t size() const override { return size_; }
  size_t read_at(uint64_t offset, void* buf, size_t len) const override {
    if (offset >= size_ || len == 0) return 0;
    len = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
    std::memcpy(buf, map_ + offset, len);
    return len;
  }
  [[nodiscard]] const uint8_t* view(uint64_t offset, uint64_t len) const override {
    if (offset > size_ || len > size_ - offset) return nullptr;
    return map_ + offset;
  }

 private:
  int fd_;
  uint64_t size_;
  uint64_t reserved_;
  const uint8_t* map_ = nullptr;
};

std::atomic<bool> g_spill_to_memfd{false};

bool reserve_spill(uint64_t n, uint64_t limit) {
  uint64_t cur = g_spilled.load();
  do {
    if (cur + n > limit || cur + n < cur) return false;
  } while (!g_spilled.compare_exchange_weak(cur, cur + n));
  return true;
}

int open_unlinked_temp() {
  if (g_spill_to_memfd.load(std::memory_order_relaxed)) {
    int fd = ::memfd_create("secmlops-member", MFD_CLOEXEC);
    if (fd < 0)
      throw std::runtime_error(std::string("cannot create a memory file: ") + std::strerror(errno));
    return fd;
  }
  std::error_code ec;
  std::string dir = std::filesystem::temp_directory_path(ec).string();
  if (ec || dir.empty()) dir = "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string tmpl = dir + "/secmlops-member-XXXXXX";
  fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot create a temp file in " + dir + ": " + std::strerror(errno));
  ::unlink(tmpl.c_str());
  return fd;
}

void write_all(int fd, const uint8_t* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("cannot write spilled member: ") + std::strerror(errno));
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

}  // namespace

void spill_to_memfd(bool on) { g_spill_to_memfd.store(on, std::memory_order_relaxed); }

uint64_t spilled_bytes() { return g_spilled.load(); }

SpillBuffer::~SpillBuffer() {
  if (fd_ >= 0) ::close(fd_);
  g_spilled.fetch_sub(spilled_);
}

void SpillBuffer::append(const uint8_t* data, size_t len) {
  if (len == 0) return;
  const bool to_file = fd_ >= 0 || size_ + len > threshold_;
  if (to_file) {
    uint64_t n = len + (fd_ < 0 ? memory_.size() : 0);
    if (!reserve_spill(n, max_spill_))
      throw SpillBudgetExceeded(
          "inflated members spilled to temp files would exceed the budget of " +
          std::to_string(max_spill_) + " bytes");
    spilled_ += n;
  }
  if (fd_ < 0 && to_file) {
    fd_ = open_unlinked_temp();
    write_all(fd_, memory_.data(), memory_.size());
    std::vector<uint8_t>().swap(memory_);
  }
  if (fd_ >= 0)
    write_all(fd_, data, len);
  else
    memory_.insert(memory_.end(), data, data + len);
  size_ += len;
}

std::shared_ptr<const Stream> SpillBuffer::finish() {
  std::shared_ptr<const Stream> out;
  if (fd_ >= 0) {
    int fd = fd_;
    fd_ = -1;
    out = std::make_shared<MappedTempStream>(fd, size_, spilled_);
    spilled_ = 0;  // the stream holds the reservation now
  } else {
    memory_.shrink_to_fit();
    out = std::make_shared<MemoryStream>(std::move(memory_));
    memory_ = {};
  }
  size_ = 0;
  return out;
}

}  // namespace secmlops::host::containers
