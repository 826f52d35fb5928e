// Reading and writing ONNX ModelProto on the lite schema target, with the bounds a parser of
// untrusted files needs (size, node count, tensor element count, no external data).
#pragma once

#include <onnx/onnx.pb.h>
#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::models {

inline constexpr uint64_t kMaxOnnxBytes = 1ull << 30;  // 1 GiB
inline constexpr int kMaxOnnxNodes = 100000;
inline constexpr uint64_t kMaxTensorElements = 1ull << 28;  // 2 GiB of float64

// Metadata key under which secmlops plugins record which plugin wrote a file; an importer uses
// it to decline files another secmlops model family wrote in an ambiguous operator pattern.
inline constexpr const char* kMetaModel = "secmlops.model";

struct Tensor {
  std::vector<int64_t> dims;
  std::vector<double> values;  // converted from float, double, int32 or int64
};

// A parsed model with lookup tables. Throws sdk::Error(PARSE) on malformed bytes and
// sdk::Error(UNSUPPORTED) on valid ONNX that is not a single-input graph.
class OnnxModel {
 public:
  static OnnxModel parse(sdk::Bytes bytes);

  [[nodiscard]] const onnx::ModelProto& proto() const { return model_; }
  [[nodiscard]] const onnx::GraphProto& graph() const { return model_.graph(); }
  [[nodiscard]] std::optional<std::string> metadata(const std::string& key) const;
  // Version of an operator set imported by the model ("" is the default domain), or -1.
  [[nodiscard]] int64_t opset(const std::string& domain) const;

  [[nodiscard]] bool is_initializer(const std::string& name) const {
    return inits_.count(name) != 0;
  }
  // Decodes an initializer; throws PARSE when missing, external or inconsistent.
  [[nodiscard]] Tensor tensor(const std::string& name) const;
  // Nodes that read `name`, in graph order.
  [[nodiscard]] std::vector<const onnx::NodeProto*> consumers(const std::string& name) const;
  // The single graph input that is not an initializer, and its feature count when the shape
  // says it (-1 when symbolic or absent).
  [[nodiscard]] const std::string& input_name() const { return input_; }
  [[nodiscard]] int64_t input_features() const { return input_features_; }

 private:
  onnx::ModelProto model_;
  std::map<std::string, const onnx::TensorProto*> inits_;
  std::multimap<std::string, int> consumers_;
  std::string input_;
  int64_t input_features_ = -1;
};

Tensor decode_tensor(const onnx::TensorProto& t);

// Attribute access on a node; the typed getters throw PARSE on a wrong attribute type.
const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name);
int64_t attr_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback);
double attr_float(const onnx::NodeProto& node, const std::string& name, double fallback);
std::string attr_string(const onnx::NodeProto& node, const std::string& name,
                        const std::string& fallback);
std::vector<double> attr_floats(const onnx::NodeProto& node, const std::string& name);
std::vector<int64_t> attr_ints(const onnx::NodeProto& node, const std::string& name);
std::vector<std::string> attr_strings(const onnx::NodeProto& node, const std::string& name);

// The first output of a node; throws PARSE when the node has none.
const std::string& first_output(const onnx::NodeProto& node);

[[noreturn]] void unsupported(const std::string& why);
[[noreturn]] void malformed(const std::string& why);

// Writes a ModelProto: IR version 8, opsets ai.onnx 13 and (optionally) ai.onnx.ml 1, the
// versions python3-onnx 1.12's checker validates.
class OnnxBuilder {
 public:
  OnnxBuilder(const std::string& graph_name, bool uses_ml_domain);

  // dims: -1 becomes the symbolic batch dimension "N".
  void input(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims);
  void output(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims);
  void initializer(const std::string& name, const std::vector<int64_t>& dims,
                   const std::vector<float>& values);
  void initializer_int64(const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& values);
  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& domain = "");
  void metadata(const std::string& key, const std::string& value);
  [[nodiscard]] std::vector<uint8_t> serialize() const;

  static void set(onnx::NodeProto& n, const std::string& name, int64_t v);
  static void set(onnx::NodeProto& n, const std::string& name, const std::string& v);
  static void set(onnx::NodeProto& n, const std::string& name, const std::vector<float>& v);
  static void set(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);

 private:
  onnx::ModelProto model_;
  int node_counter_ = 0;
};

}  // namespace secmlops::models
