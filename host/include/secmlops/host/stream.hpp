#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace secmlops::host {

// Random-access bytes a scanner reads: a file on disk, or a member the host expanded.
class Stream {
 public:
  virtual ~Stream() = default;
  [[nodiscard]] virtual uint64_t size() const = 0;
  // Copies up to len bytes at offset; returns the count (0 at or past the end). Throws
  // std::runtime_error on an I/O error.
  virtual size_t read_at(uint64_t offset, void* buf, size_t len) const = 0;
  // Zero-copy access when the bytes are addressable; nullptr otherwise or when out of range.
  [[nodiscard]] virtual const uint8_t* view(uint64_t offset, uint64_t len) const = 0;
  // Hint that the bytes of an earlier view are no longer needed: mapped streams drop those
  // pages from the process (the page cache keeps them), so a sequential scan of a large file
  // keeps a small resident set. Never invalidates data, only residency.
  virtual void release(uint64_t /*offset*/, uint64_t /*len*/) const {}
};

// A read-only memory-mapped file (pread when mapping fails, e.g. for an empty file).
class FileStream final : public Stream {
 public:
  // Throws std::runtime_error naming the path on failure, and for anything but a regular file
  // (the open never blocks: FIFOs and devices are refused, not waited on).
  explicit FileStream(const std::filesystem::path& path);
  // Takes an already-open descriptor (the one the caller checked is the one read); `name`
  // only labels errors. Throws like the path constructor. Without `map`, reads are pread only
  // (a host that only digests the file and hands the descriptor to a worker).
  FileStream(int fd, std::string name, bool map = true);
  ~FileStream() override;
  FileStream(const FileStream&) = delete;
  FileStream& operator=(const FileStream&) = delete;

  [[nodiscard]] uint64_t size() const override { return size_; }
  size_t read_at(uint64_t offset, void* buf, size_t len) const override;
  [[nodiscard]] const uint8_t* view(uint64_t offset, uint64_t len) const override;
  void release(uint64_t offset, uint64_t len) const override;
  [[nodiscard]] int fd() const { return fd_; }

 private:
  void init(bool map);
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  const uint8_t* map_ = nullptr;  // the mapping, or copy_
  // A small file is read once instead of mapped: a mapping costs more system calls and page
  // faults than its bytes are worth.
  std::unique_ptr<uint8_t[]> copy_;
};

// Bytes owned in memory (decompressed members, uploads).
class MemoryStream final : public Stream {
 public:
  explicit MemoryStream(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  [[nodiscard]] uint64_t size() const override { return bytes_.size(); }
  size_t read_at(uint64_t offset, void* buf, size_t len) const override;
  [[nodiscard]] const uint8_t* view(uint64_t offset, uint64_t len) const override;
  [[nodiscard]] const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// A window [offset, offset+length) of another stream (a stored archive member), sharing it.
class SubStream final : public Stream {
 public:
  SubStream(std::shared_ptr<const Stream> base, uint64_t offset, uint64_t length);
  [[nodiscard]] uint64_t size() const override { return length_; }
  size_t read_at(uint64_t offset, void* buf, size_t len) const override;
  [[nodiscard]] const uint8_t* view(uint64_t offset, uint64_t len) const override;
  void release(uint64_t offset, uint64_t len) const override;

 private:
  std::shared_ptr<const Stream> base_;
  uint64_t offset_;
  uint64_t length_;
};

}  // namespace secmlops::host
