// ONNX ModelProto reading/writing helpers of the tree and kernel models (lite protobuf runtime).
#pragma once

#include <onnx/onnx.pb.h>
#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace secmlops::models::onnx_io {

// Parses bytes into a ModelProto; INVALID_ARGUMENT when they are not one.
onnx::ModelProto parse(sdk::Bytes bytes);
// The single node of op_type in the ai.onnx.ml domain; UNSUPPORTED when absent or repeated, or
// when the graph holds a node outside `allowed_others` (which would change the semantics).
const onnx::NodeProto& find_ml_node(const onnx::GraphProto& g, const std::string& op_type,
                                    const std::vector<std::string>& allowed_others);
const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name);
std::vector<int64_t> ints(const onnx::NodeProto& n, const std::string& name, bool required = true);
std::vector<double> floats(const onnx::NodeProto& n, const std::string& name, bool required = true);
std::vector<std::string> strings(const onnx::NodeProto& n, const std::string& name,
                                 bool required = true);
std::string string_attr(const onnx::NodeProto& n, const std::string& name,
                        const std::string& fallback);
// Doubles from a tensor attribute (float or double data), e.g. nodes_values_as_tensor.
std::vector<double> tensor_values(const onnx::NodeProto& n, const std::string& name);
// Column count of the graph's first input when its second dimension is a known value, else 0.
uint64_t input_columns(const onnx::GraphProto& g);

// A model skeleton: ir_version, opsets (default 15, ai.onnx.ml 1), one float input X [N, cols].
onnx::ModelProto skeleton(const std::string& graph_name, uint64_t cols);
void add_output(onnx::GraphProto& g, const std::string& name, int32_t elem_type,
                const std::vector<int64_t>& dims);  // dims: -1 → symbolic "N"
void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);
void set_floats(onnx::NodeProto& n, const std::string& name, const std::vector<float>& v);
void set_strings(onnx::NodeProto& n, const std::string& name, const std::vector<std::string>& v);
void set_string(onnx::NodeProto& n, const std::string& name, const std::string& v);
std::vector<uint8_t> serialize(const onnx::ModelProto& m);

}  // namespace secmlops::models::onnx_io
