// The wire reader on hand-made bytes: every malformed shape is a ParseError with an offset.
#include "secmlops/protowire/reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace secmlops::protowire;

std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out += static_cast<char>(v ? (b | 0x80) : b);
  } while (v);
  return out;
}
std::string tag(uint32_t n, int wt) { return varint((uint64_t{n} << 3) | wt); }
std::string len_field(uint32_t n, const std::string& body) {
  return tag(n, 2) + varint(body.size()) + body;
}

struct Parsed {
  std::vector<Field> fields;
};

std::vector<Field> fields_of(const std::string& bytes) {
  secmlops::sdk::MemorySource src(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  secmlops::sdk::WindowReader buf(src, 16);
  MessageReader r(buf, 0, bytes.size());
  std::vector<Field> out;
  Field f;
  while (r.next(f)) out.push_back(f);
  return out;
}

uint64_t error_offset(const std::string& bytes) {
  try {
    fields_of(bytes);
  } catch (const ParseError& e) {
    return e.offset();
  }
  ADD_FAILURE() << "no ParseError";
  return 0;
}

TEST(ProtoWire, ReadsEveryWireType) {
  std::string bytes = tag(1, 0) + varint(300) + tag(2, 1) + std::string("\x01\0\0\0\0\0\0\x80", 8) +
                      len_field(3, "hello") + tag(4, 5) + std::string("\x2a\0\0\0", 4);
  auto f = fields_of(bytes);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_TRUE(f[0].is(1, WireType::kVarint));
  EXPECT_EQ(f[0].value, 300u);
  EXPECT_EQ(f[1].value, 0x8000000000000001ull);
  EXPECT_TRUE(f[2].is(3, WireType::kLen));
  EXPECT_EQ(f[2].length, 5u);
  EXPECT_EQ(f[2].tag_offset, 12u);
  EXPECT_EQ(f[3].value, 42u);
}

TEST(ProtoWire, LargestVarintAndTooLongVarint) {
  auto f = fields_of(tag(1, 0) + varint(UINT64_MAX));
  EXPECT_EQ(f[0].value, UINT64_MAX);
  EXPECT_EQ(error_offset(tag(1, 0) + std::string(10, '\xff') + "\x01"), 1u);
  EXPECT_EQ(error_offset(tag(1, 0) + std::string(9, '\xff') + "\x02"), 1u);  // 65th bit
}

TEST(ProtoWire, TruncationsCarryTheirOffset) {
  EXPECT_EQ(error_offset(tag(1, 0) + "\x80"), 1u);                            // varint cut
  EXPECT_EQ(error_offset("\x08\x01" + tag(2, 1) + "abc"), 2u);                // fixed64 cut
  EXPECT_EQ(error_offset("\x08\x01" + tag(2, 5) + "ab"), 2u);                 // fixed32 cut
  EXPECT_EQ(error_offset("\x08\x01" + tag(3, 2) + varint(100) + "abc"), 2u);  // payload cut
  EXPECT_EQ(error_offset(tag(3, 2) + varint(UINT64_MAX)), 0u);                // absurd length
}

TEST(ProtoWire, RejectsBadTagsAndWireTypes) {
  EXPECT_EQ(error_offset(std::string("\x00", 1)), 0u);  // field number 0
  EXPECT_EQ(error_offset("\x08\x01\x0e"), 2u);          // wire type 6
  EXPECT_EQ(error_offset("\x0c"), 0u);                  // stray end-group
}

TEST(ProtoWire, SkipsGroupsAndChecksTheirNesting) {
  auto f = fields_of(tag(5, 3) + tag(1, 0) + varint(7) + tag(5, 4) + tag(2, 0) + varint(1));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].number, 2u);
  EXPECT_THROW(fields_of(tag(5, 3) + tag(6, 4)), ParseError);  // mismatched end
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += tag(5, 3);
  EXPECT_THROW(fields_of(deep), ParseError);
}

TEST(ProtoWire, SubMessagesAreBoundedByDepth) {
  std::string msg = tag(1, 0) + varint(1);
  for (int i = 0; i < 150; ++i) msg = len_field(1, msg);
  secmlops::sdk::MemorySource src(reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
  secmlops::sdk::WindowReader buf(src);
  auto descend = [&](auto& self, MessageReader r) -> void {
    Field f;
    while (r.next(f))
      if (f.type == WireType::kLen) self(self, r.sub(f));
  };
  EXPECT_THROW(descend(descend, MessageReader(buf, 0, msg.size())), ParseError);
}

TEST(ProtoWire, StringsAreCappedAndPackedVarintsCounted) {
  std::string bytes =
      len_field(1, std::string(100, 'a')) + len_field(2, varint(1) + varint(300) + varint(5));
  secmlops::sdk::MemorySource src(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  secmlops::sdk::WindowReader buf(src, 16);
  MessageReader r(buf, 0, bytes.size());
  Field f;
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(r.string(f, 10), std::string(10, 'a'));
  EXPECT_EQ(r.string(f).size(), 100u);
  ASSERT_TRUE(r.next(f));
  std::vector<uint64_t> v;
  EXPECT_TRUE(r.varints(
      f, [&](uint64_t x) { v.push_back(x); }, 10));
  EXPECT_EQ(v, (std::vector<uint64_t>{1, 300, 5}));
  v.clear();
  EXPECT_FALSE(r.varints(
      f, [&](uint64_t x) { v.push_back(x); }, 2));
  EXPECT_EQ(v.size(), 2u);
}

TEST(ProtoWire, SkippedPayloadsAreNeverFetched) {
  // A 1 GiB length-delimited field in a 1 GiB + 16 byte source of which only the head exists.
  class Sparse final : public secmlops::sdk::ReadSource {
   public:
    uint64_t size() const override { return (1ull << 30) + 16; }
    size_t read_into(uint64_t offset, uint8_t* buf, size_t len) override {
      std::string head = "\x08\x01" + tag(9, 2) + varint(1ull << 30);
      size_t n = std::min<uint64_t>(len, size() - offset);
      for (size_t i = 0; i < n; ++i) buf[i] = offset + i < head.size() ? head[offset + i] : 0;
      return n;
    }
  } sparse;
  secmlops::sdk::WindowReader buf(sparse, 4096);
  MessageReader r(buf, 0, sparse.size());
  Field f;
  ASSERT_TRUE(r.next(f));
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.length, 1ull << 30);
  // What follows the payload is zero bytes: field number 0 is invalid.
  EXPECT_THROW(r.next(f), ParseError);
  EXPECT_LT(buf.bytes_fetched(), 16u * 1024);
}

TEST(ProtoWire, DecodeVarintForProbes) {
  uint64_t v = 0;
  std::string b = varint(624485);
  EXPECT_EQ(decode_varint(reinterpret_cast<const uint8_t*>(b.data()), b.size(), v), 3u);
  EXPECT_EQ(v, 624485u);
  EXPECT_EQ(decode_varint(reinterpret_cast<const uint8_t*>(b.data()), 2, v), 0u);
}

}  // namespace

// The window reader under both parsers: at() refuses bytes past the end, try_at() answers
// nullptr for them; inside the input both give the same bytes, fetched once per window.
TEST(WindowReader, PastTheEndIsAnErrorOrNothing) {
  const std::string bytes = "0123456789abcdefghij";
  secmlops::sdk::MemorySource src(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  secmlops::sdk::WindowReader r(src, 16);
  EXPECT_EQ(*r.try_at(3, 2), '3');
  EXPECT_EQ(*r.at(10, 4), 'a');
  EXPECT_EQ(r.bytes_fetched(), 16u);  // one window served both
  EXPECT_EQ(r.try_at(18, 3), nullptr);
  EXPECT_EQ(r.try_at(21, 0), nullptr);
  EXPECT_EQ(r.try_at(UINT64_MAX, 2), nullptr);
  EXPECT_THROW(r.at(18, 3), ParseError);
  EXPECT_EQ(*r.try_at(18, 2), 'i');
  EXPECT_NO_THROW(r.at(20, 0));  // the empty range at the end is inside the input
}
