#include "probe.hpp"

#include "secmlops/protowire/reader.hpp"

namespace secmlops::plugins::savedmodel {

using protowire::decode_varint;

uint32_t probe_saved_model(const uint8_t* head, size_t len, std::string_view name) {
  size_t pos = 0;
  bool unusual = false;
  uint64_t tag = 0, v = 0;
  size_t n = decode_varint(head, len, tag);
  if (n == 0) return 0;
  if (tag == 0x08) {  // saved_model_schema_version (absent when 0)
    pos += n;
    n = decode_varint(head + pos, len - pos, v);
    if (n == 0) return 0;
    if (v > 16) unusual = true;  // loaders ignore it: still scanned, with less confidence
    pos += n;
    n = decode_varint(head + pos, len - pos, tag);
    if (n == 0) return 0;
  }
  if (tag != 0x12) return 0;  // meta_graphs
  pos += n;
  uint64_t length = 0;
  n = decode_varint(head + pos, len - pos, length);
  if (n == 0 || length == 0) return 0;
  pos += n;
  // MetaGraphDef's first field: meta_info_def(1) … object_graph_def(7), all messages.
  n = decode_varint(head + pos, len - pos, tag);
  if (n == 0) return 0;
  if ((tag & 7) != 2 || (tag >> 3) < 1 || (tag >> 3) > 7) return 0;
  pos += n;
  uint64_t inner = 0;
  n = decode_varint(head + pos, len - pos, inner);
  if (n == 0 || inner > length) return 0;
  pos += n;
  if (tag == 0x0a && inner > 0) {
    // MetaInfoDef: meta_graph_version(1) stripped_op_list(2) any_info(3) tags(4) versions(5,6)
    // stripped_default_attrs(7) function_aliases(8).
    n = decode_varint(head + pos, len - pos, tag);
    if (n == 0) return 0;
    uint64_t f = tag >> 3, wt = tag & 7;
    if (f < 1 || f > 8 || (f == 7 ? wt != 0 : wt != 2)) return 0;
  }
  uint32_t confidence = unusual ? 60 : 80;
  if (name.size() >= 14 && name.substr(name.size() - 14) == "saved_model.pb") confidence = 95;
  return confidence;
}

}  // namespace secmlops::plugins::savedmodel
