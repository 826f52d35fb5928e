// The bytes a scanner reads, one way for every scanner (header-only, over the C ABI's stream
// services):
//
//   void scan(secmlops::sdk::ScanJob& job) {
//     secmlops::sdk::JobSource src(job);             // zero-copy views when the host maps the
//     uint64_t n = src.u64le(0, "the header length");  // stream, seek + read otherwise
//     auto header = src.bytes(8, n, "the header");   // exactly n bytes or ParseError(offset)
//     …
//   }
//
// Parsers take a `Source&`, so tests and fuzzers run them over a `MemorySource`. A parser that
// reads many small values keeps a `WindowReader` over the source: a read inside its current
// window is a range check, and it asks the source for a new window only when it leaves it.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::sdk {

// Malformed or truncated input; `offset` is the absolute byte offset where it was seen. Turns
// into SECMLOPS_ERR_PARSE at the boundary.
class ParseError : public Error {
 public:
  ParseError(uint64_t offset, const std::string& what)
      : Error(SECMLOPS_ERR_PARSE, what + " at byte offset " + std::to_string(offset)),
        offset_(offset) {}
  [[nodiscard]] uint64_t offset() const noexcept { return offset_; }

 private:
  uint64_t offset_;
};

// Random-access bytes: the scanned stream, a buffer, anything a test makes up.
class Source {
 public:
  virtual ~Source() = default;
  [[nodiscard]] virtual uint64_t size() const = 0;
  // A pointer to min(len, size() - offset) bytes at `offset` (offset <= size()), valid until
  // the next call on this source. Throws Error on I/O failure or when a copy would exceed the
  // source's limit.
  virtual const uint8_t* window(uint64_t offset, uint64_t len) = 0;
  // Throws when the host wants the work to stop (cancellation, time limit).
  virtual void check_cancelled() {}

  // Exactly `len` bytes at `offset`, valid until the next call; ParseError naming `what` and the
  // offset when they lie beyond the end.
  Bytes bytes(uint64_t offset, uint64_t len, std::string_view what) {
    if (offset > size() || len > size() - offset)
      throw ParseError(offset, "the input ends inside " + std::string(what));
    return {window(offset, len), static_cast<size_t>(len)};
  }
  void read_exact(uint64_t offset, void* out, size_t len, std::string_view what) {
    if (len != 0) std::memcpy(out, bytes(offset, len, what).data(), len);
  }
  // Copies up to len bytes; short only at the end of the input.
  size_t read_at(uint64_t offset, void* out, size_t len) {
    if (offset >= size()) return 0;
    len = static_cast<size_t>(std::min<uint64_t>(len, size() - offset));
    std::memcpy(out, window(offset, len), len);
    return len;
  }
  uint64_t u64le(uint64_t offset, std::string_view what) {
    auto b = bytes(offset, 8, what);
    uint64_t v = 0;
    for (size_t i = 8; i-- > 0;) v = (v << 8) | b[i];
    return v;
  }
};

// Bytes owned by someone else (tests, fuzzers, probes, a mapped image).
class MemorySource final : public Source {
 public:
  MemorySource(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  explicit MemorySource(Bytes bytes) : data_(bytes.data()), size_(bytes.size()) {}
  [[nodiscard]] uint64_t size() const override { return size_; }
  const uint8_t* window(uint64_t offset, uint64_t) override { return data_ + offset; }

 private:
  const uint8_t* data_;
  uint64_t size_;
};

// A source that can only copy bytes out: each window is copied into a buffer of at most
// `max_copy` bytes (a larger window is refused with SECMLOPS_ERR_LIMIT rather than allocated).
class ReadSource : public Source {
 public:
  explicit ReadSource(uint64_t max_copy = kDefaultMaxCopy) : max_copy_(max_copy) {}
  static constexpr uint64_t kDefaultMaxCopy = 64ull << 20;

  const uint8_t* window(uint64_t offset, uint64_t len) override {
    len = std::min(len, size() - offset);
    if (len == 0) return reinterpret_cast<const uint8_t*>("");
    if (len > max_copy_)
      throw Error(SECMLOPS_ERR_LIMIT, "the input cannot be mapped and a window of " +
                                          std::to_string(len) + " bytes at offset " +
                                          std::to_string(offset) + " exceeds the " +
                                          std::to_string(max_copy_) + "-byte copy limit");
    buffer_.resize(static_cast<size_t>(len));
    size_t done = 0;
    while (done < len) {
      size_t n = read_into(offset + done, buffer_.data() + done, static_cast<size_t>(len) - done);
      if (n == 0)
        throw Error(SECMLOPS_ERR_IO,
                    "the input ended early at offset " + std::to_string(offset + done));
      done += n;
    }
    return buffer_.data();
  }

 protected:
  // Copies up to len bytes at offset; 0 only at the end. Throws on I/O failure.
  virtual size_t read_into(uint64_t offset, uint8_t* out, size_t len) = 0;

 private:
  uint64_t max_copy_;
  std::vector<uint8_t> buffer_;
};

// The scan job's input: the host's zero-copy view when it offers one (mmap'ed files, ABI >= 1.1),
// seek + read into a bounded buffer otherwise.
class JobSource final : public ReadSource {
 public:
  explicit JobSource(const ScanJob& job, uint64_t max_copy = kDefaultMaxCopy)
      : ReadSource(max_copy), job_(job), size_(job.size()) {}
  [[nodiscard]] uint64_t size() const override { return size_; }
  const uint8_t* window(uint64_t offset, uint64_t len) override {
    len = std::min(len, size_ - offset);
    if (len != 0)
      if (auto v = job_.view(offset, len); !v.empty()) return v.data();
    return ReadSource::window(offset, len);
  }
  void check_cancelled() override { job_.check_cancelled(); }

 private:
  size_t read_into(uint64_t offset, uint8_t* out, size_t len) override {
    job_.seek(offset);
    return job_.read(out, len);
  }
  const ScanJob& job_;
  uint64_t size_;
};

// Small reads over a Source: keeps the last window (at least `chunk` bytes, fewer at the end)
// and serves reads inside it without calling the source. Only the bytes looked at are fetched,
// so skipping a payload costs nothing.
class WindowReader {
 public:
  explicit WindowReader(Source& source, uint64_t chunk = 64 * 1024)
      : source_(source), size_(source.size()), chunk_(std::max<uint64_t>(chunk, 16)) {}
  [[nodiscard]] uint64_t size() const { return size_; }
  [[nodiscard]] Source& source() const { return source_; }
  // Bytes fetched from the source so far (benchmarks check that payloads are not read).
  [[nodiscard]] uint64_t bytes_fetched() const { return fetched_; }

  // A pointer to n bytes at offset, valid until the next call; ParseError when they lie
  // beyond the end.
  const uint8_t* at(uint64_t offset, uint64_t n, std::string_view what = "data") {
    const uint8_t* p = try_at(offset, n);
    if (p == nullptr && (offset > size_ || n > size_ - offset))
      throw ParseError(offset, "the input ends inside " + std::string(what));
    return p;
  }
  // The same, nullptr when the bytes lie beyond the end: for readers to which the end of the
  // input is data (a pickle stream ends where its last STOP is), not an error.
  const uint8_t* try_at(uint64_t offset, uint64_t n) {
    const uint64_t d = offset - start_;  // wraps for offset < start_
    if (d <= len_ && n <= len_ - d) [[likely]]
      return base_ + d;
    return refill(offset, n);
  }
  // Forgets the window: call after using the source directly.
  void invalidate() { len_ = 0; }

 private:
  // Out of line, so the inlined fast path of every read stays a compare and an add.
  [[gnu::noinline]] const uint8_t* refill(uint64_t offset, uint64_t n) {
    if (offset > size_ || n > size_ - offset) return nullptr;
    const uint64_t len = std::max(n, std::min(chunk_, size_ - offset));
    base_ = source_.window(offset, len);
    start_ = offset;
    len_ = len;
    fetched_ += len;
    return base_;
  }
  Source& source_;
  uint64_t size_;
  uint64_t chunk_;
  const uint8_t* base_ = nullptr;
  uint64_t start_ = 0, len_ = 0;
  uint64_t fetched_ = 0;
};

}  // namespace secmlops::sdk
