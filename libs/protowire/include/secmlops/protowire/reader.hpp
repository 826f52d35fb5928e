// A bounded reader of the protobuf wire format over a random-access byte source.
//
// Why not the protobuf runtime: a scanner must walk models larger than protobuf's 2 GB message
// limit, skip tensor payloads by offset instead of reading them, and report the byte offset of
// whatever is malformed. Every length is checked against the enclosing message and the source,
// nesting depth is bounded, and strings are read only up to a caller-given cap.
#pragma once

#include <secmlops/sdk/source.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace secmlops::protowire {

// Malformed input: `offset` is the absolute byte offset where the problem was seen.
using ParseError = sdk::ParseError;

// The window a walker reads tags and varints through: small enough that a tensor header costs
// one window, and payloads between headers are never fetched.
inline constexpr uint64_t kWindowBytes = 8 * 1024;

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5
};

const char* wire_type_name(WireType t);

// One field as it sits in the stream.
struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t tag_offset = 0;   // where the tag starts
  uint64_t value = 0;        // varint / fixed32 / fixed64 value
  uint64_t data_offset = 0;  // kLen: first byte of the payload
  uint64_t length = 0;       // kLen: payload length

  [[nodiscard]] bool is(uint32_t n, WireType t) const { return number == n && type == t; }
  [[nodiscard]] uint64_t end() const { return data_offset + length; }
};

struct Limits {
  uint32_t max_depth = 100;  // nested messages, like protobuf's default recursion limit
};

// Iterates the fields of one message occupying [begin, end) of the source.
class MessageReader {
 public:
  MessageReader(sdk::WindowReader& src, uint64_t begin, uint64_t end, uint32_t depth = 0,
                Limits limits = {});

  // Reads the next field; false at the end of the message. Groups are skipped (deprecated, and
  // absent from the schemas we read) but their nesting is still bounded.
  bool next(Field& f);
  // A reader over a length-delimited field's payload, one level deeper.
  [[nodiscard]] MessageReader sub(const Field& f) const;
  // The payload of a kLen field as text, truncated to at most max_len bytes.
  std::string string(const Field& f, size_t max_len = 4096) const;
  // The values of a repeated varint field that may be packed (kLen) or not (kVarint); calls
  // fn for each value, at most max_count values (returns false when more were present).
  bool varints(const Field& f, const std::function<void(uint64_t)>& fn, size_t max_count) const;

  [[nodiscard]] uint64_t begin() const { return begin_; }
  [[nodiscard]] uint64_t end() const { return end_; }
  [[nodiscard]] uint32_t depth() const { return depth_; }
  [[nodiscard]] sdk::WindowReader& source() const { return src_; }

 private:
  uint64_t read_varint(uint64_t& pos, uint64_t limit) const;
  void skip_group(uint32_t number, uint64_t& pos, uint64_t group_start) const;

  sdk::WindowReader& src_;
  uint64_t begin_;
  uint64_t pos_;
  uint64_t end_;
  uint32_t depth_;
  Limits limits_;
};

// Reads a varint from a plain buffer (probes): returns bytes consumed, 0 when truncated or
// longer than 10 bytes.
size_t decode_varint(const uint8_t* p, size_t len, uint64_t& out);

}  // namespace secmlops::protowire
