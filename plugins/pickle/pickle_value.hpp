// The opcode machine's value model: what a pickle's stack and memo hold, 8 bytes per value.
// Strings and bytes are (offset, length) references into the input, read back only when their
// content matters (STACK_GLOBAL operands, dict keys, dtype strings), so that a memo of millions
// of entries stays small and payloads are never copied.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include <sys/mman.h>

namespace secmlops::plugins::pickle::vm {

enum Kind : uint8_t {
  kNone,
  kBool,
  kInt,
  kBigInt,
  kFloat,
  kStr,     // payload: offset (38 bits) | length (16 bits) | encoding (2 bits)
  kStrX,    // a string whose content is not kept (too long, or beyond 256 GiB)
  kBytes,   // payload like kStr
  kBytesX,  // payload: blob index + 1 (0: unknown)
  kTuple,
  kList,
  kDict,
  kSet,
  kFrozenSet,
  kByteArray,  // payload: node index + 1 (0: untracked)
  kGlobal,     // payload: global id
  kObj,        // payload: callable global id (24 bits, all ones: none) | call record + 1 (32 bits)
  kUnres,      // payload: offset where the unresolvable value came from
  kPers,
  kBuffer,
  kMissing,
};
// How a string reference's bytes are written: protocol 0 STRING is a quoted Python literal,
// UNICODE raw-unicode-escape text; every binary opcode writes the text itself.
enum Enc : uint8_t { kEncRaw = 0, kEncEscaped = 1, kEncRawUnicodeEscape = 2 };

constexpr uint64_t kPayloadMask = (uint64_t{1} << 56) - 1;
constexpr uint64_t kNoGlobal = 0xFFFFFF;

struct V {
  uint64_t bits;  // no initialiser: the stack buffer is allocated without touching its pages
  [[nodiscard]] Kind kind() const { return static_cast<Kind>(bits >> 56); }
  [[nodiscard]] uint64_t payload() const { return bits & kPayloadMask; }
  [[nodiscard]] int64_t as_int() const { return static_cast<int64_t>(bits << 8) >> 8; }
};
inline V mk(Kind k, uint64_t payload = 0) {
  return V{(uint64_t{k} << 56) | (payload & kPayloadMask)};
}
inline V mk_int(int64_t i) { return mk(kInt, static_cast<uint64_t>(i)); }
inline bool fits56(int64_t i) { return i >= -(int64_t{1} << 55) && i < (int64_t{1} << 55); }
inline V mk_ref(Kind k, uint64_t off, uint64_t len, Enc enc) {
  if (len > 0xFFFF || off >= (uint64_t{1} << 38)) return mk(k == kStr ? kStrX : kBytesX, 0);
  return mk(k, off | (len << 38) | (uint64_t{enc} << 54));
}
inline uint64_t ref_off(V v) { return v.payload() & ((uint64_t{1} << 38) - 1); }
inline uint64_t ref_len(V v) { return (v.payload() >> 38) & 0xFFFF; }
inline Enc ref_enc(V v) { return static_cast<Enc>((v.payload() >> 54) & 3); }
inline uint32_t obj_global(V v) { return static_cast<uint32_t>(v.payload() & 0xFFFFFF); }
inline uint32_t obj_call(V v) { return static_cast<uint32_t>(v.payload() >> 24); }

// "a tuple", "an imported global" …: what a value is, for finding messages.
const char* kind_name(Kind k);

// A tracked container: its items are heap[start, start + count) of TrackedContainers.
struct Node {
  uint32_t start = 0;
  uint32_t count = 0;
  bool partial = false;
};
// A call whose arguments and BUILD state a format hook reads later (numpy.dtype, joblib's
// NumpyArrayWrapper).
struct Call {
  uint32_t global = 0;
  V args{};
  V state{};
};

// A buffer of values that grows only by explicit reserves — each at most once to a known
// budget, never by doubling, so a large buffer is not copied at twice its size — and whose
// appends and reads are inlined into the opcode loop. Untouched capacity is never resident.
class Values {
 public:
  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] size_t capacity() const { return cap_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  V& operator[](size_t i) { return data_[i]; }
  const V& operator[](size_t i) const { return data_[i]; }
  [[gnu::always_inline]] V& back() { return data_[size_ - 1]; }
  [[gnu::always_inline]] void append(V v) { data_[size_++] = v; }  // only below capacity()
  // Appends items[0, n): callers reserve ahead, so the growth here (to exactly what is needed)
  // only guards the buffer.
  [[gnu::always_inline]] void append(const V* items, size_t n) {
    if (n > cap_ - size_) [[unlikely]]
      reserve(size_ + n);
    std::copy(items, items + n, data_.get() + size_);
    size_ += n;
  }
  void pop_back() { --size_; }
  void shrink(size_t n) { size_ = n; }
  V* begin() { return data_.get(); }
  [[gnu::noinline]] void reserve(size_t n) {
    if (n <= cap_) return;
    std::unique_ptr<V[], Free> bigger(allocate(n));
    std::copy(data_.get(), data_.get() + size_, bigger.get());
    data_ = std::move(bigger);
    cap_ = n;
  }
  void resize(size_t n, V fill) {  // only ever grows
    reserve(n);
    std::fill(data_.get() + size_, data_.get() + n, fill);
    size_ = n;
  }

 private:
  struct Free {
    void operator()(V* p) const { std::free(p); }
  };
  // A buffer of n values, not initialised. Budget-sized buffers (the memo, the stack, tracked
  // items: tens of MB when a pickle uses them) are asked for in huge pages: an opcode-dense
  // pickle fills them as fast as it parses, and with 4 KiB pages the kernel's page faults cost
  // about a quarter of the scan's CPU time. Pages are still only resident once touched, at most
  // one huge page past the last value written.
  static V* allocate(size_t n) {
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t bytes = n * sizeof(V);
    void* p = bytes >= 2 * kHuge ? std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge)
                                 : std::malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    if (bytes >= 2 * kHuge)
      ::madvise(p, bytes / kHuge * kHuge, MADV_HUGEPAGE);  // advice only: failure is harmless
    return static_cast<V*>(p);
  }

  std::unique_ptr<V[], Free> data_;
  size_t size_ = 0, cap_ = 0;
};

}  // namespace secmlops::plugins::pickle::vm
