// Content sniffing for ONNX ModelProto: strict enough not to claim other protobufs (a TF
// SavedModel also starts with field 1 as a varint) or random bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace secmlops::plugins::onnx {

// 0 when the bytes are not the start of a ModelProto, else a confidence up to 100.
uint32_t probe_model(const uint8_t* head, size_t len);

}  // namespace secmlops::plugins::onnx
