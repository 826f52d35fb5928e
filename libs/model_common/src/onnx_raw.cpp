#include <secmlops/models/onnx_raw.hpp>

#include <algorithm>
#include <limits>
#include <string>

namespace secmlops::models::onnx_io {
namespace {

// Field numbers in onnx.proto along the path ModelProto.graph → GraphProto.node →
// NodeProto.attribute → AttributeProto.t → TensorProto.raw_data.
constexpr uint32_t kModelGraph = 7, kGraphNode = 1, kNodeAttribute = 5, kAttributeTensor = 5,
                   kTensorRawData = 9;
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLength = 2, kFixed32 = 5;

// One field of a message: its whole bytes, and the payload of a length-delimited one.
struct Field {
  uint32_t number = 0, wire = 0;
  const uint8_t *begin = nullptr, *payload = nullptr, *end = nullptr;
};

bool varint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70 && p < end; shift += 7) {
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return shift < 63 || b <= 1;
  }
  return false;
}

// The next field at p (before end); false when the bytes are not a field this walker knows
// (groups, a truncated field): the caller gives up and the protobuf parse decides.
bool next_field(const uint8_t*& p, const uint8_t* end, Field& f) {
  f.begin = p;
  uint64_t tag = 0;
  if (!varint(p, end, tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return false;
  f.number = static_cast<uint32_t>(tag >> 3);
  f.wire = static_cast<uint32_t>(tag & 7);
  uint64_t skip = 0;
  switch (f.wire) {
    case kVarint: {
      uint64_t v = 0;
      if (!varint(p, end, v)) return false;
      break;
    }
    case kFixed64:
      skip = 8;
      break;
    case kFixed32:
      skip = 4;
      break;
    case kLength:
      if (!varint(p, end, skip)) return false;
      break;
    default:
      return false;
  }
  if (skip > static_cast<uint64_t>(end - p)) return false;
  f.payload = p;
  p += skip;
  f.end = p;
  return true;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put(std::string& out, const uint8_t* begin, const uint8_t* end) {
  out.append(reinterpret_cast<const char*>(begin), static_cast<size_t>(end - begin));
}

// A length-delimited field with a new payload.
void put_message(std::string& out, uint32_t number, const std::string& payload) {
  put_varint(out, (uint64_t{number} << 3) | kLength);
  put_varint(out, payload.size());
  out += payload;
}

// Copies a message's fields, except the length-delimited ones numbered `number`: those are
// rewritten by rewrite(payload, end, index among them, out). `once`: a second one would merge
// into the first (a singular field), which the walk does not follow: false, as for bytes that
// are not a plain message.
template <class Rewrite>
bool rewrite_fields(const uint8_t* p, const uint8_t* end, uint32_t number, bool once,
                    std::string& out, Rewrite rewrite) {
  size_t index = 0;
  for (Field f; p < end;) {
    if (!next_field(p, end, f)) return false;
    if (f.number != number || f.wire != kLength) {
      put(out, f.begin, f.end);
      continue;
    }
    if (once && index > 0) return false;
    std::string inner;
    if (!rewrite(f.payload, f.end, index++, inner)) return false;
    put_message(out, number, inner);
  }
  return true;
}

// The levels of ModelProto → graph → node → attribute → t → raw_data; each raw_data is left
// empty and recorded.
using Raws = std::vector<LeanModel::Raw>;
using Bytes = const uint8_t*;

bool strip_tensor(Bytes p, Bytes end, size_t node, size_t attribute, Raws& raws, std::string& out) {
  return rewrite_fields(
      p, end, kTensorRawData, true, out, [&](Bytes raw, Bytes raw_end, size_t, std::string&) {
        raws.push_back({node,
                        attribute,
                        {reinterpret_cast<const char*>(raw), static_cast<size_t>(raw_end - raw)}});
        return true;
      });
}

bool strip_attribute(Bytes p, Bytes end, size_t node, size_t attribute, Raws& raws,
                     std::string& out) {
  return rewrite_fields(p, end, kAttributeTensor, true, out,
                        [&](Bytes t, Bytes t_end, size_t, std::string& t_out) {
                          return strip_tensor(t, t_end, node, attribute, raws, t_out);
                        });
}

bool strip_node(Bytes p, Bytes end, size_t node, Raws& raws, std::string& out) {
  return rewrite_fields(p, end, kNodeAttribute, false, out,
                        [&](Bytes a, Bytes a_end, size_t attribute, std::string& a_out) {
                          return strip_attribute(a, a_end, node, attribute, raws, a_out);
                        });
}

bool strip_model(Bytes p, Bytes end, Raws& raws, std::string& out) {
  return rewrite_fields(
      p, end, kModelGraph, true, out, [&](Bytes g, Bytes g_end, size_t, std::string& g_out) {
        return rewrite_fields(g, g_end, kGraphNode, false, g_out,
                              [&](Bytes n, Bytes n_end, size_t node, std::string& n_out) {
                                return strip_node(n, n_end, node, raws, n_out);
                              });
      });
}

}  // namespace

std::string_view LeanModel::raw(size_t node, size_t attribute) const {
  const auto it = std::lower_bound(raws.begin(), raws.end(), std::pair{node, attribute},
                                   [](const Raw& r, const std::pair<size_t, size_t>& key) {
                                     return std::pair{r.node, r.attribute} < key;
                                   });
  if (it == raws.end() || it->node != node || it->attribute != attribute) return {};
  return it->bytes;
}

std::optional<LeanModel> parse_lean(sdk::Bytes bytes) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return std::nullopt;
  LeanModel lean;
  std::string stripped;
  if (!strip_model(bytes.data(), bytes.data() + bytes.size(), lean.raws, stripped))
    return std::nullopt;
  if (!lean.model.ParseFromString(stripped) || !lean.model.has_graph()) return std::nullopt;
  return lean;
}

}  // namespace secmlops::models::onnx_io
