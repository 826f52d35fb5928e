#include "secmlops/models/onnx_io.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace secmlops::models::onnx_io {

using sdk::Error;

onnx::ModelProto parse(sdk::Bytes bytes) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "ONNX model is larger than 2 GiB");
  onnx::ModelProto m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "not a valid ONNX model (protobuf parse failed)");
  if (!m.has_graph()) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "ONNX model has no graph");
  return m;
}

const onnx::NodeProto& find_ml_node(const onnx::GraphProto& g, const std::string& op_type,
                                    const std::vector<std::string>& allowed_others) {
  const onnx::NodeProto* found = nullptr;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (n.op_type() == op_type && n.domain() == "ai.onnx.ml") {
      if (found != nullptr)
        throw Error(SECMLOPS_ERR_UNSUPPORTED, "graph has more than one " + op_type + " node");
      found = &n;
    } else if (std::find(allowed_others.begin(), allowed_others.end(), n.op_type()) ==
               allowed_others.end()) {
      throw Error(SECMLOPS_ERR_UNSUPPORTED, "graph node " + std::to_string(i) + " is " +
                                                n.op_type() +
                                                ", which this model does not represent");
    }
  }
  if (found == nullptr)
    throw Error(SECMLOPS_ERR_UNSUPPORTED, "graph has no ai.onnx.ml " + op_type + " node");
  return *found;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

namespace {
const onnx::AttributeProto* need(const onnx::NodeProto& n, const std::string& name, bool required) {
  const auto* a = attr(n, name);
  if (a == nullptr && required)
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, n.op_type() + " lacks attribute '" + name + "'");
  return a;
}
}  // namespace

std::vector<int64_t> ints(const onnx::NodeProto& n, const std::string& name, bool required) {
  const auto* a = need(n, name, required);
  if (a == nullptr) return {};
  return {a->ints().begin(), a->ints().end()};
}

std::vector<double> floats(const onnx::NodeProto& n, const std::string& name, bool required) {
  const auto* a = need(n, name, required);
  if (a == nullptr) return {};
  return {a->floats().begin(), a->floats().end()};
}

std::vector<std::string> strings(const onnx::NodeProto& n, const std::string& name, bool required) {
  const auto* a = need(n, name, required);
  if (a == nullptr) return {};
  return {a->strings().begin(), a->strings().end()};
}

std::string string_attr(const onnx::NodeProto& n, const std::string& name,
                        const std::string& fallback) {
  const auto* a = attr(n, name);
  return a == nullptr ? fallback : a->s();
}

std::vector<double> tensor_values(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = attr(n, name);
  if (a == nullptr || !a->has_t()) return {};
  const auto& t = a->t();
  std::vector<double> out;
  if (t.data_type() == onnx::TensorProto::DOUBLE) {
    if (!t.raw_data().empty()) {
      if (t.raw_data().size() % sizeof(double) != 0)
        throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                    "attribute '" + name + "' has truncated raw data");
      out.resize(t.raw_data().size() / sizeof(double));
      std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
    } else {
      out.assign(t.double_data().begin(), t.double_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto::FLOAT) {
    if (!t.raw_data().empty()) {
      if (t.raw_data().size() % sizeof(float) != 0)
        throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                    "attribute '" + name + "' has truncated raw data");
      std::vector<float> f(t.raw_data().size() / sizeof(float));
      std::memcpy(f.data(), t.raw_data().data(), t.raw_data().size());
      out.assign(f.begin(), f.end());
    } else {
      out.assign(t.float_data().begin(), t.float_data().end());
    }
  } else {
    throw Error(SECMLOPS_ERR_UNSUPPORTED,
                "attribute '" + name + "' has an unsupported tensor type");
  }
  return out;
}

uint64_t input_columns(const onnx::GraphProto& g) {
  if (g.input_size() == 0) return 0;
  const auto& type = g.input(0).type();
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return 0;
  const auto& shape = type.tensor_type().shape();
  if (shape.dim_size() != 2 || !shape.dim(1).has_dim_value() || shape.dim(1).dim_value() <= 0)
    return 0;
  return static_cast<uint64_t>(shape.dim(1).dim_value());
}

onnx::ModelProto skeleton(const std::string& graph_name, uint64_t cols) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("secmlops");
  m.set_producer_version("0.1.0");
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(15);
  o = m.add_opset_import();
  o->set_domain("ai.onnx.ml");
  o->set_version(1);
  auto* g = m.mutable_graph();
  g->set_name(graph_name);
  auto* in = g->add_input();
  in->set_name("X");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_value(static_cast<int64_t>(cols));
  return m;
}

void add_output(onnx::GraphProto& g, const std::string& name, int32_t elem_type,
                const std::vector<int64_t>& dims) {
  auto* out = g.add_output();
  out->set_name(name);
  auto* tt = out->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  for (int64_t d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d < 0)
      dim->set_dim_param("N");
    else
      dim->set_dim_value(d);
  }
}

namespace {
onnx::AttributeProto* add_attr(onnx::NodeProto& n, const std::string& name,
                               onnx::AttributeProto::AttributeType type) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}
}  // namespace

void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = add_attr(n, name, onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
void set_floats(onnx::NodeProto& n, const std::string& name, const std::vector<float>& v) {
  auto* a = add_attr(n, name, onnx::AttributeProto::FLOATS);
  for (float x : v) a->add_floats(x);
}
void set_strings(onnx::NodeProto& n, const std::string& name, const std::vector<std::string>& v) {
  auto* a = add_attr(n, name, onnx::AttributeProto::STRINGS);
  for (const auto& x : v) a->add_strings(x);
}
void set_string(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  add_attr(n, name, onnx::AttributeProto::STRING)->set_s(v);
}

std::vector<uint8_t> serialize(const onnx::ModelProto& m) {
  std::string s;
  if (!m.SerializeToString(&s)) throw Error(SECMLOPS_ERR_INTERNAL, "ONNX serialisation failed");
  return {s.begin(), s.end()};
}

}  // namespace secmlops::models::onnx_io
