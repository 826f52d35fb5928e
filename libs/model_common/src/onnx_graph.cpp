#include "secmlops/models/onnx_graph.hpp"

#include <cstring>
#include <limits>

namespace secmlops::models {

void unsupported(const std::string& why) { throw sdk::Error(SECMLOPS_ERR_UNSUPPORTED, why); }
void malformed(const std::string& why) { throw sdk::Error(SECMLOPS_ERR_PARSE, why); }

const std::string& first_output(const onnx::NodeProto& node) {
  if (node.output_size() < 1 || node.output(0).empty())
    malformed(node.op_type() + " node without an output");
  return node.output(0);
}

OnnxModel OnnxModel::parse(sdk::Bytes bytes) {
  if (bytes.size() > kMaxOnnxBytes)
    throw sdk::Error(SECMLOPS_ERR_LIMIT, "ONNX model of " + std::to_string(bytes.size()) +
                                             " bytes exceeds the 1 GiB limit");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    malformed("ONNX model too large");
  OnnxModel m;
  if (!m.model_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    unsupported("not an ONNX ModelProto (protobuf parse failed)");
  if (!m.model_.has_graph()) unsupported("ONNX model has no graph");
  const auto& g = m.model_.graph();
  if (g.node_size() > kMaxOnnxNodes)
    throw sdk::Error(SECMLOPS_ERR_LIMIT,
                     "ONNX graph has " + std::to_string(g.node_size()) + " nodes");
  for (const auto& t : g.initializer()) m.inits_[t.name()] = &t;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& in : g.node(i).input())
      if (!in.empty()) m.consumers_.emplace(in, i);
  int inputs = 0;
  for (const auto& in : g.input()) {
    if (m.inits_.count(in.name())) continue;
    ++inputs;
    m.input_ = in.name();
    if (in.type().has_tensor_type() && in.type().tensor_type().has_shape()) {
      const auto& shape = in.type().tensor_type().shape();
      if (shape.dim_size() == 2 && shape.dim(1).has_dim_value())
        m.input_features_ = shape.dim(1).dim_value();
    }
  }
  if (inputs != 1)
    unsupported("ONNX graph has " + std::to_string(inputs) +
                " inputs; expected one feature matrix");
  return m;
}

std::optional<std::string> OnnxModel::metadata(const std::string& key) const {
  for (const auto& p : model_.metadata_props())
    if (p.key() == key) return p.value();
  return std::nullopt;
}

int64_t OnnxModel::opset(const std::string& domain) const {
  for (const auto& o : model_.opset_import())
    if (o.domain() == domain || (domain.empty() && o.domain() == "ai.onnx")) return o.version();
  return -1;
}

Tensor OnnxModel::tensor(const std::string& name) const {
  auto it = inits_.find(name);
  if (it == inits_.end()) unsupported("'" + name + "' is not a constant initializer");
  return decode_tensor(*it->second);
}

std::vector<const onnx::NodeProto*> OnnxModel::consumers(const std::string& name) const {
  std::vector<const onnx::NodeProto*> out;
  auto [lo, hi] = consumers_.equal_range(name);
  for (auto it = lo; it != hi; ++it) out.push_back(&model_.graph().node(it->second));
  return out;
}

namespace {
template <class T>
void from_raw(const std::string& raw, uint64_t count, std::vector<double>& out,
              const std::string& name) {
  if (raw.size() != count * sizeof(T))
    malformed("tensor '" + name + "' raw_data has " + std::to_string(raw.size()) +
              " bytes, expected " + std::to_string(count * sizeof(T)));
  out.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));  // ONNX raw_data is little-endian
    out[i] = static_cast<double>(v);
  }
}
template <class R>
void from_field(const R& field, uint64_t count, std::vector<double>& out, const std::string& name) {
  if (static_cast<uint64_t>(field.size()) != count)
    malformed("tensor '" + name + "' holds " + std::to_string(field.size()) +
              " values, its shape needs " + std::to_string(count));
  out.assign(field.begin(), field.end());
}
}  // namespace

Tensor decode_tensor(const onnx::TensorProto& t) {
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    unsupported("tensor '" + t.name() + "' uses external data, which model import does not follow");
  Tensor out;
  uint64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) malformed("tensor '" + t.name() + "' has a negative dimension");
    if (d > 0 && count > kMaxTensorElements / static_cast<uint64_t>(d))
      throw sdk::Error(SECMLOPS_ERR_LIMIT, "tensor '" + t.name() + "' is too large");
    count *= static_cast<uint64_t>(d);
    out.dims.push_back(d);
  }
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      raw ? from_raw<float>(t.raw_data(), count, out.values, t.name())
          : from_field(t.float_data(), count, out.values, t.name());
      break;
    case onnx::TensorProto_DataType_DOUBLE:
      raw ? from_raw<double>(t.raw_data(), count, out.values, t.name())
          : from_field(t.double_data(), count, out.values, t.name());
      break;
    case onnx::TensorProto_DataType_INT64:
      raw ? from_raw<int64_t>(t.raw_data(), count, out.values, t.name())
          : from_field(t.int64_data(), count, out.values, t.name());
      break;
    case onnx::TensorProto_DataType_INT32:
      raw ? from_raw<int32_t>(t.raw_data(), count, out.values, t.name())
          : from_field(t.int32_data(), count, out.values, t.name());
      break;
    default:
      unsupported("tensor '" + t.name() + "' has element type " + std::to_string(t.data_type()) +
                  ", expected float, double or integer");
  }
  return out;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

namespace {
const onnx::AttributeProto* typed(const onnx::NodeProto& node, const std::string& name,
                                  onnx::AttributeProto_AttributeType type) {
  const auto* a = find_attr(node, name);
  // Old writers leave `type` unset (0); accept them when the matching field is filled.
  if (a != nullptr && a->type() != type &&
      a->type() != onnx::AttributeProto_AttributeType_UNDEFINED)
    malformed("attribute '" + name + "' of " + node.op_type() + " has the wrong type");
  return a;
}
}  // namespace

int64_t attr_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const auto* a = typed(node, name, onnx::AttributeProto_AttributeType_INT);
  return a ? a->i() : fallback;
}
double attr_float(const onnx::NodeProto& node, const std::string& name, double fallback) {
  const auto* a = typed(node, name, onnx::AttributeProto_AttributeType_FLOAT);
  return a ? a->f() : fallback;
}
std::string attr_string(const onnx::NodeProto& node, const std::string& name,
                        const std::string& fallback) {
  const auto* a = typed(node, name, onnx::AttributeProto_AttributeType_STRING);
  return a ? a->s() : fallback;
}
std::vector<double> attr_floats(const onnx::NodeProto& node, const std::string& name) {
  const auto* a = typed(node, name, onnx::AttributeProto_AttributeType_FLOATS);
  return a ? std::vector<double>(a->floats().begin(), a->floats().end()) : std::vector<double>{};
}
std::vector<int64_t> attr_ints(const onnx::NodeProto& node, const std::string& name) {
  const auto* a = typed(node, name, onnx::AttributeProto_AttributeType_INTS);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
}
std::vector<std::string> attr_strings(const onnx::NodeProto& node, const std::string& name) {
  const auto* a = typed(node, name, onnx::AttributeProto_AttributeType_STRINGS);
  return a ? std::vector<std::string>(a->strings().begin(), a->strings().end())
           : std::vector<std::string>{};
}

// ---- writing ----

OnnxBuilder::OnnxBuilder(const std::string& graph_name, bool uses_ml_domain) {
  model_.set_ir_version(8);
  model_.set_producer_name("secmlops");
  model_.set_producer_version("0.1.0");
  auto* core = model_.add_opset_import();
  core->set_domain("");
  core->set_version(13);
  if (uses_ml_domain) {
    auto* ml = model_.add_opset_import();
    ml->set_domain("ai.onnx.ml");
    ml->set_version(1);
  }
  model_.mutable_graph()->set_name(graph_name);
}

namespace {
void value_info(onnx::ValueInfoProto* v, const std::string& name, int32_t elem_type,
                const std::vector<int64_t>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  auto* shape = t->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d < 0)
      dim->set_dim_param("N");
    else
      dim->set_dim_value(d);
  }
}
}  // namespace

void OnnxBuilder::input(const std::string& name, int32_t elem_type,
                        const std::vector<int64_t>& dims) {
  value_info(model_.mutable_graph()->add_input(), name, elem_type, dims);
}
void OnnxBuilder::output(const std::string& name, int32_t elem_type,
                         const std::vector<int64_t>& dims) {
  value_info(model_.mutable_graph()->add_output(), name, elem_type, dims);
}
void OnnxBuilder::initializer(const std::string& name, const std::vector<int64_t>& dims,
                              const std::vector<float>& values) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}
void OnnxBuilder::initializer_int64(const std::string& name, const std::vector<int64_t>& dims,
                                    const std::vector<int64_t>& values) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
}
onnx::NodeProto& OnnxBuilder::node(const std::string& op_type,
                                   const std::vector<std::string>& inputs,
                                   const std::vector<std::string>& outputs,
                                   const std::string& domain) {
  auto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op_type);
  n->set_name(op_type + "_" + std::to_string(node_counter_++));
  if (!domain.empty()) n->set_domain(domain);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *n;
}
void OnnxBuilder::metadata(const std::string& key, const std::string& value) {
  auto* p = model_.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}
std::vector<uint8_t> OnnxBuilder::serialize() const {
  std::string s = model_.SerializeAsString();
  return std::vector<uint8_t>(s.begin(), s.end());
}

void OnnxBuilder::set(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}
void OnnxBuilder::set(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_STRING);
  a->set_s(v);
}
void OnnxBuilder::set(onnx::NodeProto& n, const std::string& name, const std::vector<float>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_FLOATS);
  for (float f : v) a->add_floats(f);
}
void OnnxBuilder::set(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t i : v) a->add_ints(i);
}

}  // namespace secmlops::models
