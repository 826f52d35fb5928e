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

// The visible part of a NodeProto: input 1, output 2, name 3, op_type 4, attribute 5,
// doc_string 6, domain 7, overload 8, metadata_props 9 — all length-delimited.
bool node_chain_ok(const uint8_t* p, size_t avail) {
  size_t pos = 0;
  for (int checked = 0; pos < avail && checked < 64; ++checked) {
    uint64_t tag = 0, len = 0;
    size_t n = decode_varint(p + pos, avail - pos, tag);
    if (n == 0) return avail - pos < 10;
    if ((tag & 7) != 2 || (tag >> 3) < 1 || (tag >> 3) > 9) return false;
    pos += n;
    n = decode_varint(p + pos, avail - pos, len);
    if (n == 0) return avail - pos < 10;
    pos += n;
    if (len >= avail - pos) return true;
    pos += static_cast<size_t>(len);
  }
  return true;
}

// The visible part of a GraphProto must be a chain of GraphProto fields (all length-delimited:
// node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13,
// quantization_annotation 14, sparse_initializer 15, metadata_props 16). A field cut by the
// head ends the check. At least one whole tag must be visible unless the graph is empty.
bool graph_chain_ok(const uint8_t* p, size_t avail, uint64_t length) {
  if (length == 0) return true;
  if (avail == 0) return true;  // nothing visible to contradict
  size_t pos = 0;
  int checked = 0;
  while (pos < avail && checked < 64) {
    uint64_t tag = 0, len = 0;
    size_t n = decode_varint(p + pos, avail - pos, tag);
    if (n == 0) return avail - pos < 10;  // cut by the head
    uint64_t f = tag >> 3;
    if ((tag & 7) != 2) return false;
    if (!(f == 1 || f == 2 || f == 5 || (f >= 10 && f <= 16))) return false;
    pos += n;
    n = decode_varint(p + pos, avail - pos, len);
    if (n == 0) return avail - pos < 10;
    pos += n;
    if (len > length) return false;
    size_t visible = len < avail - pos ? static_cast<size_t>(len) : avail - pos;
    if (f == 1 && !node_chain_ok(p + pos, visible)) return false;
    if (len >= avail - pos) return true;  // continues beyond the head
    pos += static_cast<size_t>(len);
    ++checked;
  }
  return true;
}

// The visible part of a StringStringEntryProto list: key 1 and value 2, both strings.
bool entries_ok(const uint8_t* p, size_t avail) {
  size_t pos = 0;
  for (int checked = 0; pos < avail && checked < 64; ++checked) {
    uint64_t tag = 0, len = 0;
    size_t n = decode_varint(p + pos, avail - pos, tag);
    if (n == 0) return true;
    if (tag != 0x0a && tag != 0x12) return false;
    pos += n;
    n = decode_varint(p + pos, avail - pos, len);
    if (n == 0) return true;
    pos += n;
    if (len >= avail - pos) return true;
    if (!printable(p + pos, static_cast<size_t>(len), true)) return false;
    pos += static_cast<size_t>(len);
  }
  return pos > 0;
}

// The host offers the first 64 KiB; a shorter head is the whole stream.
constexpr size_t kProbeWindow = 64 * 1024;

}  // namespace

// Accepts ModelProto fields in any order (a protobuf parser does, so an attacker could reorder
// them to dodge a stricter probe), but requires a graph or an opset import and correct wire
// types throughout. Canonical files — ir_version first, printable names — get more confidence.
uint32_t probe_model(const uint8_t* head, size_t len) {
  size_t pos = 0;
  bool first = true, canonical = true, saw_graph_or_opset = false, saw_ir = false,
       continues = false;
  // A doc string or metadata longer than the head hides whether a graph follows:
  // a model padded that way is still claimed (lower confidence) and parsed whole, since the
  // scanner's walk has no window (an unclaimed model would pass unscanned).
  auto verdict = [&] {
    if (saw_graph_or_opset) return canonical && saw_ir ? 90u : 60u;
    return continues ? 40u : 0u;
  };
  while (pos < len) {
    uint64_t tag = 0;
    size_t n = decode_varint(head + pos, len - pos, tag);
    if (n == 0) break;  // cut by the head
    pos += n;
    uint64_t number = tag >> 3, wt = tag & 7;
    if (first && tag != 0x08) canonical = false;
    first = false;
    if (wt == 0) {
      uint64_t v = 0;
      n = decode_varint(head + pos, len - pos, v);
      if (n == 0) break;
      pos += n;
      if (number == 1) {
        if (v == 0 || v > 100) return 0;
        saw_ir = true;
      } else if (number != 5) {
        return saw_graph_or_opset ? verdict() : 0;
      }
      continue;
    }
    if (wt != 2) return saw_graph_or_opset ? verdict() : 0;
    uint64_t length = 0;
    n = decode_varint(head + pos, len - pos, length);
    if (n == 0) break;
    pos += n;
    const uint8_t* body = head + pos;
    size_t avail = length < len - pos ? static_cast<size_t>(length) : len - pos;
    switch (number) {
      case 2:
      case 3:
      case 4:  // producer_name, producer_version, domain
        if (length > 4096) return 0;
        if (!printable(body, avail, false)) canonical = false;
        break;
      case 6:  // doc_string
        if (!printable(body, avail, true)) canonical = false;
        break;
      case 7:
        if (!graph_chain_ok(body, avail, length)) return 0;
        saw_graph_or_opset = true;
        break;
      case 8: {  // opset_import: domain(1, string), version(2, varint)
        uint64_t inner = 0;
        if (avail > 0 && decode_varint(body, avail, inner) != 0 && inner != 0x0a && inner != 0x10)
          return 0;
        saw_graph_or_opset = true;
        break;
      }
      case 14:
      case 20:
      case 25:
        break;
      default:
        // Unknown fields after the graph may be newer schema additions; before it, not ONNX.
        return saw_graph_or_opset ? verdict() : 0;
    }
    if (length > len - pos) {  // the rest lies beyond the head
      // Only a head cut by the probe window (not a short stream whose field runs past its end,
      // as tensor bytes do) whose visible part is a doc string's text or metadata entries.
      continues = len >= kProbeWindow && length < (2ull << 30) &&
                  ((number == 6 && printable(body, avail, true)) ||
                   (number == 14 && entries_ok(body, avail)));
      break;
    }
    pos += static_cast<size_t>(length);
  }
  return verdict();
}

}  // namespace secmlops::plugins::onnx
