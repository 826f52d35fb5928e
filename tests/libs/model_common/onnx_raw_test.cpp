// parse_lean: the same model as the protobuf parse, raw tensor bytes left in place; bytes in any
// other form are left to the protobuf parse.
#include <secmlops/models/onnx_io.hpp>
#include <secmlops/models/onnx_raw.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace secmlops::models::onnx_io {
namespace {

// A model of two nodes: a tensor attribute with raw bytes on each, an INT attribute between.
onnx::ModelProto two_nodes() {
  auto model = skeleton("lean", 3);
  for (int n = 0; n < 2; ++n) {
    auto* node = model.mutable_graph()->add_node();
    node->set_op_type("Op" + std::to_string(n));
    auto* i = node->add_attribute();
    i->set_name("i");
    i->set_type(onnx::AttributeProto::INT);
    i->set_i(7);
    auto* t = node->add_attribute();
    t->set_name("t");
    t->set_type(onnx::AttributeProto::TENSOR);
    t->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    t->mutable_t()->add_dims(2);
    t->mutable_t()->set_raw_data(std::string("raw bytes of node ") + std::to_string(n));
  }
  return model;
}

TEST(OnnxLean, RawBytesStayInPlaceAndTheRestIsTheProtobufParse) {
  const auto bytes = serialize(two_nodes());
  const auto lean = parse_lean(sdk::Bytes(bytes.data(), bytes.size()));
  ASSERT_TRUE(lean.has_value());
  for (size_t n = 0; n < 2; ++n) {
    const std::string_view raw = lean->raw(n, 1);
    EXPECT_EQ(raw, "raw bytes of node " + std::to_string(n));
    // A view into the bytes, not a copy.
    EXPECT_GE(reinterpret_cast<const uint8_t*>(raw.data()), bytes.data());
    EXPECT_LE(reinterpret_cast<const uint8_t*>(raw.data() + raw.size()),
              bytes.data() + bytes.size());
    EXPECT_TRUE(lean->raw(n, 0).empty());
  }
  auto expected = two_nodes();
  for (auto& node : *expected.mutable_graph()->mutable_node())
    node.mutable_attribute(1)->mutable_t()->set_raw_data("");
  EXPECT_EQ(lean->model.SerializeAsString(), expected.SerializeAsString());
}

TEST(OnnxLean, OtherFormsAreLeftToTheProtobufParse) {
  const auto bytes = serialize(two_nodes());
  // Truncated: neither parses.
  for (size_t cut : {bytes.size() - 1, bytes.size() / 2, size_t{3}}) {
    EXPECT_FALSE(parse_lean(sdk::Bytes(bytes.data(), cut)).has_value()) << cut;
    EXPECT_THROW((void)parse(sdk::Bytes(bytes.data(), cut)), sdk::Error) << cut;
  }
  // A second graph field merges into the first: the protobuf parse alone decides.
  auto twice = bytes;
  auto graph_only = two_nodes();
  graph_only.clear_ir_version();
  graph_only.clear_opset_import();
  const auto g = graph_only.SerializeAsString();
  twice.insert(twice.end(), g.begin(), g.end());
  EXPECT_FALSE(parse_lean(sdk::Bytes(twice.data(), twice.size())).has_value());
  EXPECT_EQ(parse(sdk::Bytes(twice.data(), twice.size())).graph().node_size(), 4);
  // An empty group (wire types 3 and 4) in an unused field, which protobuf keeps as unknown.
  auto grouped = bytes;
  grouped.push_back((12 << 3) | 3);
  grouped.push_back((12 << 3) | 4);
  EXPECT_FALSE(parse_lean(sdk::Bytes(grouped.data(), grouped.size())).has_value());
  EXPECT_EQ(parse(sdk::Bytes(grouped.data(), grouped.size())).graph().node_size(), 2);
}

}  // namespace
}  // namespace secmlops::models::onnx_io
