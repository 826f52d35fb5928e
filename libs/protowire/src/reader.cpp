#include "secmlops/protowire/reader.hpp"

#include <algorithm>

namespace secmlops::protowire {

namespace {

// The byte at `offset`, which must lie before `limit` (the end of the enclosing message).
uint8_t byte_at(sdk::WindowReader& src, uint64_t offset, uint64_t limit) {
  if (offset >= limit) throw ParseError(offset, "truncated input");
  return *src.at(offset, 1, "a field");
}

}  // namespace

const char* wire_type_name(WireType t) {
  switch (t) {
    case WireType::kVarint:
      return "varint";
    case WireType::kFixed64:
      return "fixed64";
    case WireType::kLen:
      return "length-delimited";
    case WireType::kStartGroup:
      return "start-group";
    case WireType::kEndGroup:
      return "end-group";
    case WireType::kFixed32:
      return "fixed32";
  }
  return "invalid";
}

size_t decode_varint(const uint8_t* p, size_t len, uint64_t& out) {
  out = 0;
  for (size_t i = 0; i < len && i < 10; ++i) {
    uint64_t b = p[i];
    if (i == 9 && b > 1) return 0;  // more than 64 bits
    out |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return i + 1;
  }
  return 0;
}

MessageReader::MessageReader(sdk::WindowReader& src, uint64_t begin, uint64_t end, uint32_t depth,
                             Limits limits)
    : src_(src), begin_(begin), pos_(begin), end_(end), depth_(depth), limits_(limits) {
  if (end < begin || end > src.size()) throw ParseError(begin, "message extends beyond the input");
  if (depth > limits_.max_depth)
    throw ParseError(
        begin, "messages nested deeper than " + std::to_string(limits_.max_depth) + " levels");
}

uint64_t MessageReader::read_varint(uint64_t& pos, uint64_t limit) const {
  uint64_t start = pos, out = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos >= limit) throw ParseError(start, "truncated varint");
    uint64_t b = byte_at(src_, pos++, limit);
    if (i == 9 && b > 1) throw ParseError(start, "varint longer than 64 bits");
    out |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return out;
  }
  throw ParseError(start, "varint longer than 10 bytes");
}

void MessageReader::skip_group(uint32_t number, uint64_t& pos, uint64_t group_start) const {
  // Iterative with an explicit depth counter: a group of groups must not recurse unbounded.
  std::vector<uint32_t> open{number};
  while (!open.empty()) {
    if (open.size() + depth_ > limits_.max_depth)
      throw ParseError(group_start, "groups nested too deeply");
    uint64_t tag_at = pos;
    uint64_t tag = read_varint(pos, end_);
    uint32_t n = static_cast<uint32_t>(tag >> 3);
    auto wt = static_cast<WireType>(tag & 7);
    if (n == 0 || tag >> 3 > 0x1fffffff) throw ParseError(tag_at, "invalid field number");
    switch (wt) {
      case WireType::kVarint:
        read_varint(pos, end_);
        break;
      case WireType::kFixed64:
        if (end_ - pos < 8) throw ParseError(tag_at, "truncated fixed64");
        pos += 8;
        break;
      case WireType::kFixed32:
        if (end_ - pos < 4) throw ParseError(tag_at, "truncated fixed32");
        pos += 4;
        break;
      case WireType::kLen: {
        uint64_t len = read_varint(pos, end_);
        if (len > end_ - pos)
          throw ParseError(tag_at, "length-delimited field overruns its message");
        pos += len;
        break;
      }
      case WireType::kStartGroup:
        open.push_back(n);
        break;
      case WireType::kEndGroup:
        if (open.back() != n) throw ParseError(tag_at, "mismatched end-group");
        open.pop_back();
        break;
      default:
        throw ParseError(tag_at, "invalid wire type " + std::to_string(tag & 7));
    }
  }
}

bool MessageReader::next(Field& f) {
  for (;;) {
    if (pos_ >= end_) return false;
    f = Field{};
    f.tag_offset = pos_;
    uint64_t tag = read_varint(pos_, end_);
    uint64_t number = tag >> 3;
    if (number == 0 || number > 0x1fffffff)
      throw ParseError(f.tag_offset, "invalid field number " + std::to_string(number));
    f.number = static_cast<uint32_t>(number);
    uint64_t wt = tag & 7;
    switch (wt) {
      case 0:
        f.type = WireType::kVarint;
        f.value = read_varint(pos_, end_);
        return true;
      case 1: {
        f.type = WireType::kFixed64;
        if (end_ - pos_ < 8)
          throw ParseError(f.tag_offset, "truncated fixed64 field " + std::to_string(f.number));
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
          v |= static_cast<uint64_t>(byte_at(src_, pos_ + i, end_)) << (8 * i);
        f.value = v;
        pos_ += 8;
        return true;
      }
      case 5: {
        f.type = WireType::kFixed32;
        if (end_ - pos_ < 4)
          throw ParseError(f.tag_offset, "truncated fixed32 field " + std::to_string(f.number));
        uint64_t v = 0;
        for (int i = 0; i < 4; ++i)
          v |= static_cast<uint64_t>(byte_at(src_, pos_ + i, end_)) << (8 * i);
        f.value = v;
        pos_ += 4;
        return true;
      }
      case 2: {
        f.type = WireType::kLen;
        f.length = read_varint(pos_, end_);
        f.data_offset = pos_;
        if (f.length > end_ - pos_)
          throw ParseError(f.tag_offset, "field " + std::to_string(f.number) + " declares " +
                                             std::to_string(f.length) + " bytes but only " +
                                             std::to_string(end_ - pos_) +
                                             " remain in its message");
        pos_ += f.length;
        return true;
      }
      case 3:
        skip_group(f.number, pos_, f.tag_offset);
        continue;  // groups carry nothing our schemas use
      case 4:
        throw ParseError(f.tag_offset, "unexpected end-group tag");
      default:
        throw ParseError(f.tag_offset, "invalid wire type " + std::to_string(wt));
    }
  }
}

MessageReader MessageReader::sub(const Field& f) const {
  if (f.type != WireType::kLen)
    throw ParseError(f.tag_offset, "field " + std::to_string(f.number) +
                                       " should be a message but is " + wire_type_name(f.type));
  return MessageReader(src_, f.data_offset, f.end(), depth_ + 1, limits_);
}

std::string MessageReader::string(const Field& f, size_t max_len) const {
  if (f.type != WireType::kLen)
    throw ParseError(f.tag_offset, "field " + std::to_string(f.number) +
                                       " should be a string but is " + wire_type_name(f.type));
  const uint64_t len = std::min<uint64_t>(f.length, max_len);
  return {reinterpret_cast<const char*>(src_.at(f.data_offset, len, "a string")),
          static_cast<size_t>(len)};
}

bool MessageReader::varints(const Field& f, const std::function<void(uint64_t)>& fn,
                            size_t max_count) const {
  if (f.type == WireType::kVarint) {
    if (max_count == 0) return false;
    fn(f.value);
    return true;
  }
  if (f.type != WireType::kLen)
    throw ParseError(f.tag_offset, "field " + std::to_string(f.number) +
                                       " should hold varints but is " + wire_type_name(f.type));
  uint64_t pos = f.data_offset;
  size_t count = 0;
  while (pos < f.end()) {
    if (count == max_count) return false;
    fn(read_varint(pos, f.end()));
    ++count;
  }
  return true;
}

}  // namespace secmlops::protowire
