// The SDK's Source: bounds-checked reads that name the offset, copies bounded by a limit, and a
// window reader that fetches only what is looked at.
#include <secmlops/sdk/source.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace secmlops::sdk;

Bytes bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Copies out of a string, counting the calls (a host stream without views).
class CountingReads final : public ReadSource {
 public:
  explicit CountingReads(std::string data, uint64_t max_copy = kDefaultMaxCopy)
      : ReadSource(max_copy), data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  int calls = 0;

 private:
  size_t read_into(uint64_t offset, uint8_t* out, size_t len) override {
    ++calls;
    len = std::min<size_t>(len, 3);  // short reads must be completed by the source
    std::memcpy(out, data_.data() + offset, len);
    return len;
  }
  std::string data_;
};

TEST(SdkSource, ReadsAreBoundsCheckedAndNameTheOffset) {
  std::string data = "\x01\x02\x03\x04\x05\x06\x07\x08tail";
  MemorySource src(bytes_of(data));
  EXPECT_EQ(src.u64le(0, "the prefix"), 0x0807060504030201ull);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(src.bytes(8, 4, "the tail").data()), 4),
            "tail");
  try {
    (void)src.bytes(10, 3, "the header");
    FAIL() << "no error";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.offset(), 10u);
    EXPECT_EQ(e.status(), SECMLOPS_ERR_PARSE);
    EXPECT_EQ(std::string(e.what()), "the input ends inside the header at byte offset 10");
  }
  EXPECT_THROW((void)src.bytes(UINT64_MAX, 2, "x"), ParseError);  // no wrap-around
  char buf[8];
  EXPECT_EQ(src.read_at(10, buf, 8), 2u);
  EXPECT_EQ(src.read_at(12, buf, 8), 0u);
}

TEST(SdkSource, CopiesAreCompletedAndBounded) {
  CountingReads src("0123456789", 8);
  auto b = src.bytes(1, 7, "data");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()), "1234567");
  EXPECT_EQ(src.calls, 3);  // 3 + 3 + 1 bytes
  try {
    (void)src.bytes(0, 10, "data");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_LIMIT);
  }
}

TEST(SdkSource, WindowReaderFetchesOnlyWhatIsLookedAt) {
  std::string data(1 << 20, 'x');
  data[(1 << 19) + 1] = 'y';
  CountingReads src(data);
  WindowReader r(src, 64);
  EXPECT_EQ(*r.at(0, 1), 'x');
  EXPECT_EQ(*r.at(63, 1), 'x');  // same window
  EXPECT_EQ(*r.at((1 << 19) + 1, 1), 'y');
  EXPECT_EQ(r.bytes_fetched(), 128u);
  EXPECT_THROW((void)r.at(data.size() - 1, 2, "a value"), ParseError);
}

}  // namespace
