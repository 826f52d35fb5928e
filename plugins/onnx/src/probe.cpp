#include "probe.hpp"

#include "secmlops/protowire/reader.hpp"

namespace secmlops::plugins::onnx {
namespace {

using protowire::decode_varint;

// Text of a name-like field: no control bytes (doc strings may hold newlines and tabs).
bool printable(const uint8_t* p, size_t n, bool allow_whitespace) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = p[i];
    if (c == 0x7f) return false;
    if (c < 0x20 && !(allow_whitespace && (c == '\n' || c == '\r' || c == '\t'))) return false;
  }
  return true;
}

// The first tag of a nested message, when visible, must be one of `ok` (tag bytes).
bool first_tag_in(const uint8_t* p, size_t avail, uint64_t length, std::initializer_list<uint64_t> ok) {
  if (length == 0 || avail == 0) return true;  // empty or not visible: nothing to contradict
  uint64_t tag = 0;
  size_t n = decode_varint(p, avail, tag);
  if (n == 0) return avail < 10;  // cut by the head
  for (auto t : ok)
    if (t == tag) return true;
  return false;
}

}  // namespace

uint32_t probe_model(const uint8_t* head, size_t len) {
  size_t pos = 0;
  bool first = true, saw_graph_or_opset = false;
  while (pos < len) {
    uint64_t tag = 0;
    size_t n = decode_varint(head + pos, len - pos, tag);
    if (n == 0) break;  // cut by the head
    pos += n;
    uint64_t number = tag >> 3, wt = tag & 7;
    if (first && tag != 0x08) return 0;  // ir_version comes first in every serializer's order
    first = false;
    if (wt == 0) {
      uint64_t v = 0;
      n = decode_varint(head + pos, len - pos, v);
      if (n == 0) break;
      pos += n;
      if (number == 1) {
        if (v == 0 || v > 100) return 0;
      } else if (number != 5) {
        return 0;
      }
      continue;
    }
    if (wt != 2) return 0;
    uint64_t length = 0;
    n = decode_varint(head + pos, len - pos, length);
    if (n == 0) break;
    pos += n;
    const uint8_t* body = head + pos;
    size_t avail = length < len - pos ? static_cast<size_t>(length) : len - pos;
    switch (number) {
      case 2: case 3: case 4:  // producer_name, producer_version, domain
        if (length > 4096 || !printable(body, avail, false)) return 0;
        break;
      case 6:  // doc_string
        if (!printable(body, avail, true)) return 0;
        break;
      case 7:  // graph: node, name, initializer, doc, input, output, value_info, …
        if (!first_tag_in(body, avail, length, {0x0a, 0x12, 0x2a, 0x52, 0x5a, 0x62, 0x6a, 0x72, 0x7a}))
          return 0;
        saw_graph_or_opset = true;
        break;
      case 8:  // opset_import: domain, version
        if (!first_tag_in(body, avail, length, {0x0a, 0x10})) return 0;
        saw_graph_or_opset = true;
        break;
      case 14: case 20: case 25:
        break;
      default:
        // Unknown fields after the graph may be newer schema additions; before it they are not ONNX.
        return saw_graph_or_opset ? 90 : 0;
    }
    if (length > len - pos) break;  // the rest lies beyond the head
    pos += static_cast<size_t>(length);
  }
  return saw_graph_or_opset ? 90 : 0;
}

}  // namespace secmlops::plugins::onnx
