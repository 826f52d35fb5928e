#include "sklearn/estimators.hpp"

#include "sklearn/pickle_vm.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx.pb.h>
#include <nlohmann/json.hpp>
#include <secmlops/models/parallel.hpp>
#include <secmlops/models/tree_arrays.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <thread>
#include <type_traits>

namespace secmlops::host::sklearn {

namespace {

using K = Value::Kind;

[[noreturn]] void bad(const std::string& why) { throw ImportError(why, 0, true); }

std::string short_name(const std::string& cls) {
  auto dot = cls.rfind('.');
  return dot == std::string::npos ? cls : cls.substr(dot + 1);
}

// An estimator's state, with lookups whose errors name the class and field.
class State {
 public:
  explicit State(const Value& v) {
    if (v.kind != K::Object || v.object->state == nullptr)
      bad(std::string("expected a fitted estimator, found ") + value_kind_name(v.kind));
    cls_ = v.object->cls;
    name_ = short_name(cls_);
    state_ = v.object->state;
  }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& cls() const { return cls_; }
  [[nodiscard]] const Value* find(const std::string& key) const { return state_->get(key); }
  [[nodiscard]] const Value& at(const std::string& key) const {
    const Value* v = find(key);
    if (v == nullptr)
      bad("`" + name_ + "` state has no `" + key +
          "` (not fitted, or a layout of another version)");
    return *v;
  }
  // The first of several names a field has had across versions.
  [[nodiscard]] const Value& any_of(std::initializer_list<const char*> keys) const {
    for (const char* k : keys)
      if (const Value* v = find(k)) return *v;
    bad("`" + name_ + "` state has none of the fields `" + *keys.begin() + "`…");
  }
  [[nodiscard]] std::string str(const std::string& key) const {
    const Value& v = at(key);
    if (v.kind != K::Str) wrong(key, v, "a string");
    return v.s;
  }
  [[nodiscard]] double num(const Value& v, const std::string& key) const {
    if (v.kind == K::Float) return v.f;
    if (v.kind == K::Int || v.kind == K::Bool) return static_cast<double>(v.i);
    wrong(key, v, "a number");
  }
  [[nodiscard]] double num(const std::string& key) const { return num(at(key), key); }
  [[noreturn]] void wrong(const std::string& key, const Value& v, const char* expected) const {
    bad("`" + name_ + "." + key + "` is " + value_kind_name(v.kind) + ", expected " + expected);
  }

 private:
  std::string cls_, name_;
  const Value* state_ = nullptr;
};

// ---- arrays ----

double element(const char* p, char kind, uint32_t size, bool big) {
  // Record fields may be declared with any type: only numbers of at most 8 bytes are read.
  if (size == 0 || size > 8 || (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b'))
    throw ImportError(std::string("a field of kind '") + kind + "' and " + std::to_string(size) +
                          " bytes is not a number",
                      0, true);
  uint8_t b[8];
  std::memcpy(b, p, size);
  if (big) std::reverse(b, b + size);
  switch (kind) {
    case 'f':
      if (size == 8) {
        double d;
        std::memcpy(&d, b, 8);
        return d;
      }
      if (size == 4) {
        float f;
        std::memcpy(&f, b, 4);
        return f;
      }
      break;
    case 'i':
    case 'u':
    case 'b': {
      uint64_t u = 0;
      for (uint32_t k = size; k-- > 0;) u = (u << 8) | b[k];
      if (kind == 'i' && size < 8 && (b[size - 1] & 0x80)) u |= ~uint64_t{0} << (8 * size);
      return kind == 'i' ? static_cast<double>(static_cast<int64_t>(u)) : static_cast<double>(u);
    }
    default:
      break;
  }
  throw ImportError(std::string("array elements of kind '") + kind + "' are not numbers", 0, true);
}

// Arrays the mapping converts to float64: at most 2^27 elements (1 GiB), so that a file of
// one-byte elements cannot make the conversion eight times its size.
constexpr uint64_t kMaxNumbers = uint64_t{1} << 27;

// Element offsets (in elements) of a C-order walk over an array stored in Fortran order.
std::vector<uint64_t> c_order(const Array& a) {
  const uint64_t n = a.count();
  std::vector<uint64_t> out(n);
  std::vector<uint64_t> stride(a.shape.size());
  uint64_t s = 1;
  for (size_t d = 0; d < a.shape.size(); ++d) {
    stride[d] = s;
    s *= a.shape[d];
  }
  std::vector<uint64_t> idx(a.shape.size(), 0);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * stride[d];
    out[i] = off;
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < a.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const Array& array_of(const Value& v, const std::string& what) {
  if (v.kind != K::Array || !v.array->built)
    bad("`" + what + "` is " + value_kind_name(v.kind) + ", expected an array");
  return *v.array;
}

// A numeric array as doubles in C order, with its shape.
struct Numbers {
  std::vector<uint64_t> shape;
  std::vector<double> v;
  [[nodiscard]] uint64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  [[nodiscard]] uint64_t cols() const {
    return shape.size() < 2 ? (shape.empty() ? 1 : shape[0]) : shape[1];
  }
};

Numbers numbers(const Value& v, const std::string& what) {
  const Array& a = array_of(v, what);
  const DType& d = a.dtype;
  if (d.kind != 'f' && d.kind != 'i' && d.kind != 'u' && d.kind != 'b')
    bad("`" + what + "` is not a numeric array");
  if (a.count() > kMaxNumbers)
    bad("`" + what + "` holds " + std::to_string(a.count()) +
        " elements (at most 2^27 are imported)");
  Numbers out;
  out.shape = a.shape;
  if (d.kind == 'f' && d.itemsize == 8 &&
      d.big_endian == (std::endian::native == std::endian::big) &&
      (!a.fortran || a.shape.size() < 2)) {
    // Native float64 in C order (what scikit-learn writes): one copy.
    out.v.resize(a.count());
    if (!out.v.empty()) std::memcpy(out.v.data(), a.data.data(), a.count() * sizeof(double));
  } else if (a.fortran && a.shape.size() >= 2) {
    out.v.reserve(a.count());
    for (uint64_t off : c_order(a))
      out.v.push_back(element(a.data.data() + off * d.itemsize, d.kind, d.itemsize, d.big_endian));
  } else {
    out.v.reserve(a.count());
    for (uint64_t off = 0; off < a.count(); ++off)
      out.v.push_back(element(a.data.data() + off * d.itemsize, d.kind, d.itemsize, d.big_endian));
  }
  for (double x : out.v)
    if (!std::isfinite(x)) bad("`" + what + "` holds a value that is not finite");
  return out;
}

Numbers vector_of(const Value& v, const std::string& what) {
  Numbers n = numbers(v, what);
  if (n.shape.size() != 1) bad("`" + what + "` is not a vector");
  return n;
}

Numbers matrix_of(const Value& v, const std::string& what) {
  Numbers n = numbers(v, what);
  if (n.shape.size() != 2) bad("`" + what + "` is not a matrix");
  return n;
}

std::string utf8_of(uint32_t cp) {
  std::string s;
  if (cp < 0x80)
    s += static_cast<char>(cp);
  else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x110000) {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else
    throw ImportError("class label holds an invalid code point", 0, true);
  return s;
}

std::string number_text(double x) {
  if (x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(static_cast<int64_t>(x));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::vector<std::string> class_labels(const State& s) {
  const Array& a = array_of(s.at("classes_"), s.name() + ".classes_");
  if (a.shape.size() != 1)
    bad("`" + s.name() + ".classes_` is not a vector (multi-output models are not imported)");
  std::vector<std::string> out;
  const DType& d = a.dtype;
  if (d.kind == 'O') {
    for (const Value* v : a.objects) {
      if (v->kind == K::Str)
        out.push_back(v->s);
      else if (v->kind == K::Int)
        out.push_back(std::to_string(v->i));
      else if (v->kind == K::Float)
        out.push_back(number_text(v->f));
      else if (v->kind == K::Bool)
        out.emplace_back(v->i ? "True" : "False");
      else
        bad("`" + s.name() + ".classes_` holds " + value_kind_name(v->kind));
    }
  } else if (d.kind == 'U' || d.kind == 'S') {
    for (uint64_t i = 0; i < a.count(); ++i) {
      std::string label;
      const char* p = a.data.data() + i * d.itemsize;
      if (d.kind == 'S') {
        label.assign(p, strnlen(p, d.itemsize));
      } else {
        for (uint32_t k = 0; k + 4 <= d.itemsize; k += 4) {
          uint32_t cp = 0;
          for (int j = 0; j < 4; ++j)
            cp |= static_cast<uint32_t>(static_cast<uint8_t>(p[k + (d.big_endian ? 3 - j : j)]))
                  << (8 * j);
          if (cp == 0) break;
          label += utf8_of(cp);
        }
      }
      out.push_back(std::move(label));
    }
  } else if (d.kind == 'b') {
    for (double x : numbers(s.at("classes_"), "classes_").v)
      out.emplace_back(x != 0 ? "True" : "False");
  } else {
    for (double x : numbers(s.at("classes_"), "classes_").v) out.push_back(number_text(x));
  }
  if (out.size() < 2)
    bad("`" + s.name() + "` has " + std::to_string(out.size()) +
        " class(es); a classifier needs two or more");
  return out;
}

// ---- ONNX ----

class Graph {
 public:
  Graph(const std::string& name, uint64_t n_features, bool double_input, bool ml) {
    model_.set_ir_version(8);
    model_.set_producer_name("secmlops-sklearn-import");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(13);
    if (ml) {
      auto* ml_op = model_.add_opset_import();
      ml_op->set_domain("ai.onnx.ml");
      ml_op->set_version(1);
    }
    auto* g = model_.mutable_graph();
    g->set_name(name);
    auto* in = g->add_input();
    in->set_name("X");
    auto* t = in->mutable_type()->mutable_tensor_type();
    t->set_elem_type(double_input ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("N");
    t->mutable_shape()->add_dim()->set_dim_value(static_cast<int64_t>(n_features));
  }
  void opset(const std::string& domain, int64_t version) {
    auto* op = model_.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  void output(const std::string& name, int32_t type) {
    auto* o = model_.mutable_graph()->add_output();
    o->set_name(name);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(type);
  }
  void initializer(const std::string& name, const std::vector<int64_t>& dims,
                   const std::vector<double>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::DOUBLE);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double)));
  }
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& in,
                        const std::vector<std::string>& out, const std::string& domain = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + std::to_string(model_.graph().node_size()));
    if (!domain.empty()) n->set_domain(domain);
    for (const auto& i : in) n->add_input(i);
    for (const auto& o : out) n->add_output(o);
    return *n;
  }
  static onnx::AttributeProto& attr(onnx::NodeProto& n, const std::string& name,
                                    onnx::AttributeProto::AttributeType t) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(t);
    return *a;
  }
  static void ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto& a = attr(n, name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
  }
  static void integer(onnx::NodeProto& n, const std::string& name, int64_t v) {
    attr(n, name, onnx::AttributeProto::INT).set_i(v);
  }
  static void floats(onnx::NodeProto& n, const std::string& name, const std::vector<double>& v) {
    auto& a = attr(n, name, onnx::AttributeProto::FLOATS);
    for (double x : v) a.add_floats(static_cast<float>(x));
  }
  static void text(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    attr(n, name, onnx::AttributeProto::STRING).set_s(v);
  }
  static void texts(onnx::NodeProto& n, const std::string& name,
                    const std::vector<std::string>& v) {
    auto& a = attr(n, name, onnx::AttributeProto::STRINGS);
    for (const auto& x : v) a.add_strings(x);
  }
  static void tensor(onnx::NodeProto& n, const std::string& name, const std::vector<double>& v) {
    auto& a = attr(n, name, onnx::AttributeProto::TENSOR);
    auto* t = a.mutable_t();
    t->set_data_type(onnx::TensorProto::DOUBLE);
    t->add_dims(static_cast<int64_t>(v.size()));
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double)));
  }
  // A tensor attribute of raw little-endian elements (a vector's bytes on this host).
  template <class T>
  static void raw_tensor(onnx::NodeProto& n, const std::string& name, int32_t type,
                         const std::vector<T>& v) {
    static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");
    auto& a = attr(n, name, onnx::AttributeProto::TENSOR);
    auto* t = a.mutable_t();
    t->set_data_type(type);
    t->add_dims(static_cast<int64_t>(v.size()));
    t->set_raw_data(v.data(), v.size() * sizeof(T));
  }
  // The graph's last node, whose large tensor attributes (late_tensor) are not built as protobuf
  // messages but laid out by bytes() straight into the serialised model and filled there: a
  // forest's arrays are written once, in their final place.
  onnx::NodeProto& late_node(const std::string& op, const std::vector<std::string>& in,
                             const std::vector<std::string>& out, const std::string& domain) {
    late_.emplace(node(op, in, out, domain));
    model_.mutable_graph()->mutable_node()->RemoveLast();
    return *late_;
  }
  // A TENSOR attribute of the late node: `count` raw elements of `size` bytes. Returns its place
  // in the regions handed to the filler.
  size_t late_tensor(const std::string& name, int32_t type, uint64_t count, size_t size) {
    late_tensors_.push_back({name, type, count, count * size});
    return late_tensors_.size() - 1;
  }
  // Writes the late tensors' bytes, given where each starts in the serialised model.
  void fill_late(std::function<void(const std::vector<char*>&)> fill) { fill_ = std::move(fill); }
  void metadata(const std::string& k, const std::string& v) {
    auto* p = model_.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  std::vector<uint8_t> bytes() const {
    if (!late_) {
      const size_t n = model_.ByteSizeLong();
      if (n > kMaxModelBytes) bad("the mapped model would exceed the 1 GiB a model plugin imports");
      std::vector<uint8_t> out(n);
      model_.SerializeToArray(out.data(), static_cast<int>(n));
      return out;
    }
    // Field by field, as a protobuf writer would: the model without its graph, then the graph
    // (its fields, then the late node: its small fields, then each late tensor attribute).
    onnx::ModelProto head = model_;
    const std::string graph = head.graph().SerializeAsString();
    head.clear_graph();
    const std::string model = head.SerializeAsString();
    const std::string node = late_->SerializeAsString();
    std::vector<uint64_t> tensor_sizes, attr_sizes;
    uint64_t node_size = node.size();
    for (const auto& t : late_tensors_) {
      tensor_sizes.push_back(varint_field(kTensorDims, t.count) +
                             varint_field(kTensorDataType, static_cast<uint64_t>(t.type)) +
                             length_field(kTensorRawData, t.bytes));
      attr_sizes.push_back(length_field(kAttrName, t.name.size()) +
                           length_field(kAttrTensor, tensor_sizes.back()) +
                           varint_field(kAttrType, onnx::AttributeProto::TENSOR));
      node_size += length_field(kNodeAttribute, attr_sizes.back());
    }
    const uint64_t graph_size = graph.size() + length_field(kGraphNode, node_size);
    const uint64_t total = model.size() + length_field(kModelGraph, graph_size);
    if (total > kMaxModelBytes)
      bad("the mapped model would exceed the 1 GiB a model plugin imports");
    std::vector<uint8_t> out(total);
    uint8_t* p = out.data();
    auto put = [&p](const std::string& s) { p = std::copy(s.begin(), s.end(), p); };
    auto varint = [&p](uint32_t field, uint64_t v) {
      p = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray((uint64_t{field} << 3) | 0,
                                                                        p);
      p = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(v, p);
    };
    auto length = [&p](uint32_t field, uint64_t n) {
      p = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray((uint64_t{field} << 3) | 2,
                                                                        p);
      p = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(n, p);
    };
    put(model);
    length(kModelGraph, graph_size);
    put(graph);
    length(kGraphNode, node_size);
    put(node);
    std::vector<char*> regions;
    for (size_t k = 0; k < late_tensors_.size(); ++k) {
      const auto& t = late_tensors_[k];
      length(kNodeAttribute, attr_sizes[k]);
      length(kAttrName, t.name.size());
      put(t.name);
      length(kAttrTensor, tensor_sizes[k]);
      varint(kTensorDims, t.count);
      varint(kTensorDataType, static_cast<uint64_t>(t.type));
      length(kTensorRawData, t.bytes);
      regions.push_back(reinterpret_cast<char*>(p));
      p += t.bytes;
      varint(kAttrType, onnx::AttributeProto::TENSOR);
    }
    if (p != out.data() + out.size()) throw std::logic_error("ONNX layout size mismatch");
    if (fill_) fill_(regions);
    return out;
  }

 private:
  static constexpr uint64_t kMaxModelBytes = uint64_t{1} << 30;
  // Field numbers of onnx.proto used by the late node's layout.
  static constexpr uint32_t kModelGraph = 7, kGraphNode = 1, kNodeAttribute = 5, kAttrName = 1,
                            kAttrTensor = 5, kAttrType = 20, kTensorDims = 1, kTensorDataType = 2,
                            kTensorRawData = 9;
  static uint64_t varint_field(uint32_t field, uint64_t v) {
    return google::protobuf::io::CodedOutputStream::VarintSize64(uint64_t{field} << 3) +
           google::protobuf::io::CodedOutputStream::VarintSize64(v);
  }
  static uint64_t length_field(uint32_t field, uint64_t n) { return varint_field(field, n) + n; }

  struct LateTensor {
    std::string name;
    int32_t type;
    uint64_t count, bytes;
  };
  onnx::ModelProto model_;
  std::optional<onnx::NodeProto> late_;
  std::vector<LateTensor> late_tensors_;
  std::function<void(const std::vector<char*>&)> fill_;
};

// ---- scalers, folded as x' = x ∘ a + c ----

struct Affine {
  std::vector<double> a, c;
  std::string name;
};

std::optional<Affine> scaler_of(const Value& v, uint64_t n_features) {
  State s(v);
  Affine f;
  f.name = s.name();
  f.a.assign(n_features, 1.0);
  f.c.assign(n_features, 0.0);
  auto vec = [&](const char* key) -> std::optional<std::vector<double>> {
    const Value* x = s.find(key);
    if (x == nullptr || x->kind == K::None) return std::nullopt;
    Numbers n = vector_of(*x, s.name() + "." + key);
    if (n.v.size() != n_features)
      bad("`" + s.name() + "." + key + "` has " + std::to_string(n.v.size()) + " values for " +
          std::to_string(n_features) + " features");
    return n.v;
  };
  if (s.cls() == "sklearn.preprocessing._data.StandardScaler") {
    auto mean = vec("mean_");
    auto scale = vec("scale_");
    for (uint64_t i = 0; i < n_features; ++i) {
      const double sc = scale ? (*scale)[i] : 1.0;
      if (sc == 0) bad("`StandardScaler.scale_` holds a zero");
      f.a[i] = 1.0 / sc;
      f.c[i] = mean ? -(*mean)[i] / sc : 0.0;
    }
  } else if (s.cls() == "sklearn.preprocessing._data.MinMaxScaler") {
    auto scale = vec("scale_");
    auto min = vec("min_");
    if (!scale || !min) bad("`MinMaxScaler` state has no `scale_` and `min_`");
    const Value* clip = s.find("clip");
    if (clip != nullptr && clip->kind == K::Bool && clip->i != 0)
      bad("`MinMaxScaler(clip=True)` clips its output, which no model plugin represents");
    f.a = *scale;
    f.c = *min;
  } else {
    return std::nullopt;
  }
  return f;
}

uint64_t n_features_of(const State& s, uint64_t fallback) {
  const Value* v = s.find("n_features_in_");
  if (v != nullptr && v->kind == K::Int && v->i > 0) return static_cast<uint64_t>(v->i);
  return fallback;
}

// Folds the scaler into a first layer written as x·W + b (W: d × h, row-major).
void fold(const Affine& f, std::vector<double>& w, std::vector<double>& b, uint64_t d, uint64_t h) {
  if (f.a.size() != d)
    bad("`" + f.name + "` scales " + std::to_string(f.a.size()) + " features, the model reads " +
        std::to_string(d));
  for (uint64_t i = 0; i < d; ++i)
    for (uint64_t j = 0; j < h; ++j) {
      b[j] += f.c[i] * w[i * h + j];
      w[i * h + j] *= f.a[i];
    }
}

std::vector<double> transpose(const Numbers& m) {  // rows × cols → cols × rows
  std::vector<double> t(m.v.size());
  for (uint64_t r = 0; r < m.rows(); ++r)
    for (uint64_t c = 0; c < m.cols(); ++c) t[c * m.rows() + r] = m.v[r * m.cols() + c];
  return t;
}

// ---- linear models: MatMul + Add, then Sigmoid/Softmax(/Normalizer) for logistic regression ----

Graph linear(const State& s, const std::optional<Affine>& scaler, size_t n_classes) {
  Numbers coef = matrix_of(s.at("coef_"), s.name() + ".coef_");
  Numbers icpt = numbers(s.at("intercept_"), s.name() + ".intercept_");
  const uint64_t rows = coef.rows(), d = coef.cols();
  if (icpt.v.size() != rows)
    bad("`" + s.name() + ".intercept_` has " + std::to_string(icpt.v.size()) + " values for " +
        std::to_string(rows) + " rows of coef_");
  if (rows != (n_classes == 2 ? 1 : n_classes))
    bad("`" + s.name() + ".coef_` has " + std::to_string(rows) + " rows for " +
        std::to_string(n_classes) + " classes");
  std::vector<double> w = transpose(coef), b = icpt.v;  // d × rows
  if (scaler) fold(*scaler, w, b, d, rows);
  const bool logistic = s.name() == "LogisticRegression";
  Graph g(s.name(), d, true, logistic && n_classes > 2);
  g.initializer("coef", {static_cast<int64_t>(d), static_cast<int64_t>(rows)}, w);
  g.initializer("intercept", {static_cast<int64_t>(rows)}, b);
  g.node("MatMul", {"X", "coef"}, {"mul"});
  g.node("Add", {"mul", "intercept"}, {"scores"});
  if (!logistic) {
    g.output("scores", onnx::TensorProto::DOUBLE);
  } else {
    // One-vs-rest unless the fit was multinomial (what predict_proba does for each setting).
    std::string mc =
        s.find("multi_class") && s.at("multi_class").kind == K::Str ? s.str("multi_class") : "auto";
    std::string solver =
        s.find("solver") && s.at("solver").kind == K::Str ? s.str("solver") : "lbfgs";
    const bool ovr = n_classes > 2 && (mc == "ovr" || (mc == "auto" && solver == "liblinear"));
    if (n_classes == 2 || ovr) {
      g.node("Sigmoid", {"scores"}, {ovr ? "sig" : "probabilities"});
      if (ovr) g.text(g.node("Normalizer", {"sig"}, {"probabilities"}, "ai.onnx.ml"), "norm", "L1");
    } else {
      g.integer(g.node("Softmax", {"scores"}, {"probabilities"}), "axis", 1);
    }
    g.output("probabilities", onnx::TensorProto::DOUBLE);
  }
  return g;
}

// ---- MLPClassifier ----

Graph mlp(const State& s, const std::optional<Affine>& scaler, size_t n_classes) {
  const std::string act = s.str("activation");
  if (act != "relu")
    bad("`MLPClassifier(activation='" + act + "')`: the mlp plugin represents ReLU networks only");
  const std::string out_act = s.str("out_activation_");
  const Value& coefs = s.at("coefs_");
  const Value& icpts = s.at("intercepts_");
  if (coefs.kind != K::List || icpts.kind != K::List || coefs.items.size() != icpts.items.size() ||
      coefs.items.size() < 2)
    bad("`MLPClassifier.coefs_`/`intercepts_` are not matching lists of two or more layers");
  if (out_act == "logistic" ? n_classes != 2 : (out_act != "softmax"))
    bad("`MLPClassifier` with output activation '" + out_act + "' for " +
        std::to_string(n_classes) + " classes (multi-label) is not imported");
  Numbers first = matrix_of(*coefs.items[0], "MLPClassifier.coefs_[0]");
  Graph g("MLPClassifier", first.rows(), true, false);
  std::string cur = "X";
  uint64_t prev = first.rows();
  for (size_t l = 0; l < coefs.items.size(); ++l) {
    const std::string ls = std::to_string(l);
    Numbers w = matrix_of(*coefs.items[l], "MLPClassifier.coefs_[" + ls + "]");
    Numbers b = vector_of(*icpts.items[l], "MLPClassifier.intercepts_[" + ls + "]");
    if (w.rows() != prev || b.v.size() != w.cols())
      bad("`MLPClassifier` layer " + ls + " shapes do not chain");
    if (l == 0 && scaler) fold(*scaler, w.v, b.v, w.rows(), w.cols());
    g.initializer("W" + ls, {static_cast<int64_t>(w.rows()), static_cast<int64_t>(w.cols())}, w.v);
    g.initializer("B" + ls, {static_cast<int64_t>(w.cols())}, b.v);
    g.node("MatMul", {cur, "W" + ls}, {"mul" + ls});
    g.node("Add", {"mul" + ls, "B" + ls}, {"add" + ls});
    cur = "add" + ls;
    if (l + 1 < coefs.items.size()) {
      g.node("Relu", {cur}, {"relu" + ls});
      cur = "relu" + ls;
    }
    prev = w.cols();
  }
  if (out_act == "logistic") {
    if (prev != 1) bad("`MLPClassifier` logistic output over " + std::to_string(prev) + " units");
    g.node("Sigmoid", {cur}, {"probabilities"});
  } else {
    if (prev != n_classes)
      bad("`MLPClassifier` softmax over " + std::to_string(prev) + " units for " +
          std::to_string(n_classes) + " classes");
    g.integer(g.node("Softmax", {cur}, {"probabilities"}), "axis", 1);
  }
  g.output("probabilities", onnx::TensorProto::DOUBLE);
  return g;
}

// ---- trees ----

// The largest float32 not above t: sklearn compares float32 inputs with float64 thresholds,
// so x ≤ t and x ≤ down(t) agree for every float32 x.
float float_below(double t) {
  auto f = static_cast<float>(t);
  if (static_cast<double>(f) <= t) return f;
  // The float below f, without a call per threshold (t is finite, so f is finite or +inf).
  if (f == 0.0f) return -std::numeric_limits<float>::denorm_min();
  const auto bits = std::bit_cast<uint32_t>(f);
  return std::bit_cast<float>(f > 0 ? bits - 1 : bits + 1);
}

// One tree's arrays, read in place: the node records' fields and the values, element by element
// (scikit-learn's native int64/float64 fields with a plain load).
class TreeView {
 public:
  TreeView(const Value& tree_value, const std::string& where) {
    if (tree_value.kind != K::Object || tree_value.object->cls != "sklearn.tree._tree.Tree" ||
        tree_value.object->state == nullptr)
      bad("`" + where + ".tree_` is not a built sklearn.tree._tree.Tree");
    const Value& st = *tree_value.object->state;
    const Value* args = tree_value.object->args;
    if (args == nullptr || args->items.size() != 3 || args->items[2]->kind != K::Int ||
        args->items[2]->i != 1)
      bad("`" + where +
          ".tree_` is not a single-output tree (multi-output models are not imported)");
    const Value* nodes = st.get("nodes");
    const Value* values = st.get("values");
    const Value* count = st.get("node_count");
    if (nodes == nullptr || values == nullptr || count == nullptr || count->kind != K::Int)
      bad("`" + where + ".tree_` state lacks nodes, values or node_count");
    nodes_ = &array_of(*nodes, where + ".tree_.nodes");
    if (nodes_->dtype.kind != 'V' || nodes_->shape.size() != 1 ||
        static_cast<int64_t>(nodes_->shape[0]) != count->i)
      bad("`" + where + ".tree_.nodes` is not a vector of node_count records");
    n_ = nodes_->shape[0];
    if (n_ > kMaxNumbers) bad("`" + where + ".tree_` has " + std::to_string(n_) + " nodes");
    auto field = [&](const char* name) -> const DType::Field& {
      for (const auto& f : nodes_->dtype.fields) {
        if (f.name != name) continue;
        if (f.itemsize > 8 || (f.kind != 'f' && f.kind != 'i' && f.kind != 'u'))
          bad("`" + where + ".tree_.nodes` field `" + name + "` is of kind '" + f.kind + "' (" +
              std::to_string(f.itemsize) + " bytes), not a number");
        return f;
      }
      bad("`" + where + ".tree_.nodes` records have no `" + name + "` field");
    };
    left_ = &field("left_child");
    right_ = &field("right_child");
    feature_ = &field("feature");
    threshold_ = &field("threshold");
    values_ = &array_of(*values, where + ".tree_.values");
    const DType& d = values_->dtype;
    if (d.kind != 'f' && d.kind != 'i' && d.kind != 'u' && d.kind != 'b')
      bad("`" + where + ".tree_.values` is not a numeric array");
    if (values_->shape.size() != 3 || values_->shape[0] != n_ || values_->shape[1] != 1 ||
        values_->fortran)
      bad("`" + where + ".tree_.values` is not node_count × 1 × classes (C order)");
    classes_ = values_->shape[2];
    if (values_->count() > kMaxNumbers) bad("`" + where + ".tree_.values` holds too many elements");
    constexpr bool big = std::endian::native == std::endian::big;
    auto native = [&](const DType::Field& f, char kind) {
      return f.itemsize == 8 && f.kind == kind && f.big_endian == big;
    };
    native_ = native(*left_, 'i') && native(*right_, 'i') && native(*feature_, 'i') &&
              native(*threshold_, 'f') && d.kind == 'f' && d.itemsize == 8 && d.big_endian == big;
  }
  // scikit-learn's own layout on this host: int64 and float64 fields and values in native order.
  [[nodiscard]] bool native() const { return native_; }
  // Plain loads from scikit-learn's own layout (only when native() is true), held by value so
  // that the copy loop keeps them in registers.
  struct Native {
    const char* records;
    uint64_t stride, left_at, right_at, feature_at, threshold_at, classes;
    const char* values;
    template <class T>
    [[nodiscard]] T load(const char* p) const {
      T v;
      std::memcpy(&v, p, sizeof(T));
      return v;
    }
    [[nodiscard]] int64_t left(uint64_t i) const {
      return load<int64_t>(records + i * stride + left_at);
    }
    [[nodiscard]] int64_t right(uint64_t i) const {
      return load<int64_t>(records + i * stride + right_at);
    }
    [[nodiscard]] int64_t feature(uint64_t i) const {
      return load<int64_t>(records + i * stride + feature_at);
    }
    [[nodiscard]] double threshold(uint64_t i) const {
      return load<double>(records + i * stride + threshold_at);
    }
    [[nodiscard]] double value(uint64_t i, uint64_t c) const {
      return load<double>(values + (i * classes + c) * 8);
    }
  };
  [[nodiscard]] Native native_reader() const {
    return {nodes_->data.data(), nodes_->dtype.itemsize, left_->offset, right_->offset,
            feature_->offset,    threshold_->offset,     classes_,      values_->data.data()};
  }
  // The same reads for any other layout, element by element.
  struct Generic {
    const TreeView* t;
    [[nodiscard]] int64_t left(uint64_t i) const { return t->left(i); }
    [[nodiscard]] int64_t right(uint64_t i) const { return t->right(i); }
    [[nodiscard]] int64_t feature(uint64_t i) const { return t->feature(i); }
    [[nodiscard]] double threshold(uint64_t i) const { return t->threshold(i); }
    [[nodiscard]] double value(uint64_t i, uint64_t c) const { return t->value(i, c); }
  };
  [[nodiscard]] uint64_t nodes() const { return n_; }
  [[nodiscard]] uint64_t classes() const { return classes_; }
  // Element readers for any layout.
  [[nodiscard]] int64_t left(uint64_t i) const { return read<int64_t>(*left_, i); }
  [[nodiscard]] int64_t right(uint64_t i) const { return read<int64_t>(*right_, i); }
  [[nodiscard]] int64_t feature(uint64_t i) const { return read<int64_t>(*feature_, i); }
  [[nodiscard]] double threshold(uint64_t i) const { return read<double>(*threshold_, i); }
  [[nodiscard]] double value(uint64_t i, uint64_t c) const {
    const DType& d = values_->dtype;
    return element(values_->data.data() + (i * classes_ + c) * d.itemsize, d.kind, d.itemsize,
                   d.big_endian);
  }

 private:
  template <class T>
  [[nodiscard]] T read(const DType::Field& f, uint64_t i) const {
    const char* p = nodes_->data.data() + i * nodes_->dtype.itemsize + f.offset;
    return static_cast<T>(element(p, f.kind, f.itemsize, f.big_endian));
  }

  const Array* nodes_ = nullptr;
  const Array* values_ = nullptr;
  const DType::Field *left_ = nullptr, *right_ = nullptr, *feature_ = nullptr,
                     *threshold_ = nullptr;
  uint64_t n_ = 0, classes_ = 0;
  bool native_ = false;
};

// Where copy_tree writes: the TreeArrays tensors.
struct TreeArrayOut {
  char *left, *right, *feature, *threshold, *weights;
};

// One tree in the plugin's layout, built before it is copied into the tensors; reused from tree
// to tree.
struct TreeScratch {
  std::vector<int32_t>
      place;  // scikit-learn node → its place in the layout, -1 until its parent is seen
  std::vector<int32_t> row;   // scikit-learn node → its leaf's weight row, -1 at a split
  std::vector<uint8_t> leaf;  // scikit-learn node → 1 at a leaf
  std::vector<int32_t> left, right, feature;  // by place
  std::vector<float> threshold;
};

// One tree's nodes into the tensors from node `base` and leaf `leaf_base` on, checked as they are
// copied, in the layout the plugin predicts with, so that it need not relay them out: the two
// children of a split next to each other (right = left + 1), after their parent, leaves' weight
// rows in place order. scikit-learn's arrays are read once, front to back (depth-first, a parent
// before its children); each split gives its children the next two places, and the next rows
// when they are leaves, so every leaf knows its row when its record comes. Which nodes are leaves
// is read first, in a pass that also brings the tree's records into the cache.
template <class Reader>
void copy_tree(const TreeView& t, const Reader rd, const std::string& where, uint64_t base,
               uint64_t leaf_base, double share, uint64_t n_features,
               const std::optional<Affine>& scaler, const TreeArrayOut& out, TreeScratch& w) {
  const auto n = static_cast<int64_t>(t.nodes());
  const auto size = static_cast<size_t>(n);
  const uint64_t classes = t.classes();
  w.leaf.resize(size);
  for (size_t i = 0; i < size; ++i) w.leaf[i] = rd.left(i) == -1;
  w.place.assign(size, -1);
  w.row.resize(size);
  w.left.resize(size);
  w.right.resize(size);
  w.feature.resize(size);
  w.threshold.resize(size);
  w.place[0] = 0;
  int32_t leaves = w.leaf[0];  // rows given so far
  w.row[0] = leaves - 1;
  int32_t next = 1;  // places 0 … next - 1 are given
  char* rows = out.weights + leaf_base * classes * sizeof(float);
  for (int64_t i = 0; i < n; ++i) {
    const auto u = static_cast<uint64_t>(i);
    const int32_t o = w.place[u];
    // Children come after their parent (checked below): a node no earlier split named is
    // unreachable.
    if (o < 0)
      bad("`" + where + ".tree_` node " + std::to_string(i) +
          " is not reached from the root: not a binary tree");
    const auto p = static_cast<size_t>(o);
    const int64_t l = rd.left(u);
    if (l == -1) {
      w.left[p] = w.right[p] = -1;
      w.feature[p] = 0;
      w.threshold[p] = 0.0f;
      double v[64], sum = 0;
      for (uint64_t c = 0; c < classes; ++c) {
        const double x = c < 64 ? (v[c] = rd.value(u, c)) : rd.value(u, c);
        if (!std::isfinite(x)) bad("`" + where + ".tree_.values` holds a value that is not finite");
        sum += x;
      }
      char* row = rows + static_cast<size_t>(w.row[u]) * classes * sizeof(float);
      if (classes <= 64 && sum > 0) {
        // A loop the compiler turns into packed divisions (the same IEEE result per element).
        float f[64];
        for (uint64_t c = 0; c < classes; ++c) f[c] = static_cast<float>(v[c] / sum * share);
        std::memcpy(row, f, classes * sizeof(float));
        continue;
      }
      for (uint64_t c = 0; c < classes; ++c) {
        const double x = c < 64 ? v[c] : rd.value(u, c);
        const auto f = static_cast<float>(sum > 0 ? x / sum * share : 0.0);
        std::memcpy(row + c * sizeof(float), &f, sizeof f);
      }
      continue;
    }
    const int64_t r = rd.right(u), f = rd.feature(u);
    if (l <= i || r <= i || l >= n || r >= n)
      bad("`" + where + ".tree_` node " + std::to_string(i) + " has children outside the tree");
    const auto ul = static_cast<size_t>(l), ur = static_cast<size_t>(r);
    if (w.place[ul] >= 0 || w.place[ur] >= 0 || l == r)
      bad("`" + where + ".tree_` node " + std::to_string(i) +
          " has a child that another node has too: not a tree");
    if (f < 0 || static_cast<uint64_t>(f) >= n_features)
      bad("`" + where + ".tree_` node " + std::to_string(i) + " splits on feature " +
          std::to_string(f));
    double thr = rd.threshold(u);
    if (!std::isfinite(thr))
      bad("`" + where + ".tree_` node " + std::to_string(i) +
          " has a threshold that is not finite");
    if (scaler) {
      const double a = scaler->a[static_cast<size_t>(f)], c = scaler->c[static_cast<size_t>(f)];
      if (!(a > 0))
        bad("`" + scaler->name + "` has a non-positive scale on feature " + std::to_string(f) +
            ", which a threshold cannot absorb");
      thr = (thr - c) / a;
    }
    // Distinct children not placed yet: the places given never exceed the nodes, nor the rows
    // the leaves.
    w.place[ul] = next;
    w.place[ur] = next + 1;
    const int32_t l_leaf = w.leaf[ul], r_leaf = w.leaf[ur];
    w.row[ul] = l_leaf ? leaves : -1;
    w.row[ur] = r_leaf ? leaves + l_leaf : -1;
    leaves += l_leaf + r_leaf;
    w.left[p] = next;
    w.right[p] = next + 1;
    w.feature[p] = static_cast<int32_t>(f);
    w.threshold[p] = float_below(thr);
    next += 2;
  }
  // Every node placed once: a binary tree with (n + 1) / 2 leaves, each row written once.
  std::memcpy(out.left + base * 4, w.left.data(), size * 4);
  std::memcpy(out.right + base * 4, w.right.data(), size * 4);
  std::memcpy(out.feature + base * 4, w.feature.data(), size * 4);
  std::memcpy(out.threshold + base * 4, w.threshold.data(), size * 4);
}

// Threads for copying a forest of `nodes` nodes: `jobs` when positive, else one per 64k nodes
// (fewer cost more to start than they save) up to one per core, at most four.
size_t tree_runs(size_t trees, uint64_t nodes, int jobs) {
  if (jobs > 0) return std::clamp<size_t>(static_cast<size_t>(jobs), 1, trees);
  constexpr uint64_t kNodesPerRun = 1 << 16;
  const size_t cores = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  return std::clamp<size_t>(std::min<uint64_t>(nodes / kNodesPerRun, trees), 1, cores);
}

// The forest as scikit-learn's own arrays in the random forest plugin's TreeArrays node
// (secmlops/models/tree_arrays.hpp), written straight into the node's tensors: no node-by-node
// ONNX graph, no intermediate copy.
Graph trees(const State& s, const std::optional<Affine>& scaler, size_t n_classes,
            uint64_t n_features, int jobs) {
  namespace ta = secmlops::models::tree_arrays;
  std::vector<const Value*> estimators;
  if (s.name() == "DecisionTreeClassifier") {
    estimators.push_back(nullptr);
  } else {
    const Value& list = s.at("estimators_");
    if (list.kind != K::List || list.items.empty())
      bad("`" + s.name() + ".estimators_` is not a list of trees");
    estimators = list.items;
  }
  if (scaler && scaler->a.size() != n_features)
    bad("`" + scaler->name + "` scales " + std::to_string(scaler->a.size()) +
        " features, the model reads " + std::to_string(n_features));
  std::vector<TreeView> views;
  std::vector<std::string> wheres;
  std::vector<int64_t> starts{0};
  uint64_t total = 0;
  for (size_t ti = 0; ti < estimators.size(); ++ti) {
    std::string where = estimators[ti] == nullptr
                            ? s.name()
                            : s.name() + ".estimators_[" + std::to_string(ti) + "]";
    const Value* tree_value = nullptr;
    if (estimators[ti] == nullptr) {
      tree_value = &s.at("tree_");
    } else {
      State e(*estimators[ti]);
      if (e.name() != "DecisionTreeClassifier" && e.name() != "ExtraTreeClassifier")
        bad("`" + where + "` is a " + e.name());
      tree_value = &e.at("tree_");
    }
    views.emplace_back(*tree_value, where);
    if (views.back().classes() != n_classes)
      bad("`" + where + ".tree_` has " + std::to_string(views.back().classes()) +
          " classes, the model " + std::to_string(n_classes));
    total += views.back().nodes();
    // The forest plugin's own bound (50 million nodes); leaf weights within kMaxNumbers.
    if (total > 50'000'000 || total * n_classes > kMaxNumbers)
      bad("`" + s.name() +
          "` has more nodes than the random forest plugin represents (50 million)");
    starts.push_back(static_cast<int64_t>(total));
    wheres.push_back(std::move(where));
  }
  Graph g(s.name(), n_features, false, false);
  g.opset(ta::kDomain, 1);
  auto& node = g.late_node(ta::kOpType, {"X"}, {"label", "probabilities"}, ta::kDomain);
  Graph::raw_tensor(node, ta::kTreeStarts, onnx::TensorProto::INT64, starts);
  Graph::integer(node, ta::kClasses, static_cast<int64_t>(n_classes));
  uint64_t total_leaves = 0;
  for (const TreeView& t : views) total_leaves += (t.nodes() + 1) / 2;
  for (const char* name : {ta::kLeft, ta::kRight, ta::kFeatures})
    g.late_tensor(name, onnx::TensorProto::INT32, total, 4);
  g.late_tensor(ta::kThresholds, onnx::TensorProto::FLOAT, total, 4);
  g.late_tensor(ta::kLeafWeights, onnx::TensorProto::FLOAT, total_leaves * n_classes, 4);
  // The trees are checked and copied when the model's bytes are laid out (Graph::bytes). Every
  // tree has its own place in the tensors (its nodes from starts[ti], its (n + 1) / 2 leaves'
  // rows after the earlier trees'), so the trees are split over the cores in contiguous runs
  // of about equal node counts: the bytes do not depend on the split, and the fault reported is
  // the first tree's, as in a single pass.
  g.fill_late([views = std::move(views), wheres = std::move(wheres), starts, scaler, n_features,
               jobs,
               share = 1.0 / static_cast<double>(estimators.size())](const std::vector<char*>& r) {
    const TreeArrayOut out{r[0], r[1], r[2], r[3], r[4]};
    std::vector<uint64_t> leaf_bases(views.size() + 1, 0);
    for (size_t ti = 0; ti < views.size(); ++ti)
      leaf_bases[ti + 1] = leaf_bases[ti] + (views[ti].nodes() + 1) / 2;
    const auto copy_run = [&](size_t first, size_t last) {
      TreeScratch scratch;
      for (size_t ti = first; ti < last; ++ti) {
        const auto base = static_cast<uint64_t>(starts[ti]);
        if (views[ti].native())
          copy_tree(views[ti], views[ti].native_reader(), wheres[ti], base, leaf_bases[ti], share,
                    n_features, scaler, out, scratch);
        else
          copy_tree(views[ti], TreeView::Generic{&views[ti]}, wheres[ti], base, leaf_bases[ti],
                    share, n_features, scaler, out, scratch);
      }
    };
    const auto total = static_cast<uint64_t>(starts.back());
    const size_t runs = tree_runs(views.size(), total, jobs);
    if (runs <= 1) {
      copy_run(0, views.size());
      return;
    }
    // Run k takes the trees whose first node falls in its share of the nodes.
    std::vector<size_t> bounds{0};
    for (size_t k = 1; k < runs; ++k) {
      const auto cut = static_cast<int64_t>(total * k / runs);
      bounds.push_back(
          std::max(bounds.back(),
                   static_cast<size_t>(std::lower_bound(starts.begin(), starts.end() - 1, cut) -
                                       starts.begin())));
    }
    bounds.push_back(views.size());
    std::vector<std::exception_ptr> errors(runs);
    // Kept threads: on a busy machine this thread takes every run instead of waiting for one.
    secmlops::models::shared_pool().run(runs, [&](size_t k) {
      try {
        copy_run(bounds[k], bounds[k + 1]);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
  });
  g.output("label", onnx::TensorProto::INT64);
  g.output("probabilities", onnx::TensorProto::FLOAT);
  return g;
}

// ---- SVC ----

// SVMClassifier stores float32. A linear-kernel decision sums products <x, s> that grow with
// the inputs' scale, so rounding each support vector and coefficient once moves it by more
// than scikit-learn's margin on some rows. The kernel is linear in each support vector and in
// each coefficient: every support vector s with coefficients c is sent as three, (s↑, c↑),
// (s↓, c↑) and (s↑, c↓), where s = s↑ + s↓ and c = c↑ + c↓ split a float64 into the float32
// nearest it and the float32 nearest the rest. Their sum is the decision to about 2^-48, and any
// expression linear in the coefficients and support vectors of each class (ART's loss gradient
// among them) is unchanged.
void split_linear_kernel(Numbers& sv, Numbers& dual, std::vector<int64_t>& per_class) {
  const uint64_t n = sv.rows(), d = sv.cols(), rows = dual.rows();
  auto hi = [](double x) { return static_cast<double>(static_cast<float>(x)); };
  Numbers sv3, dual3;
  sv3.shape = {3 * n, d};
  dual3.shape = {rows, 3 * n};
  sv3.v.resize(3 * n * d);
  dual3.v.resize(rows * 3 * n);
  for (uint64_t j = 0; j < n; ++j) {
    for (uint64_t c = 0; c < d; ++c) {
      const double x = sv.v[j * d + c];
      sv3.v[(3 * j) * d + c] = hi(x);
      sv3.v[(3 * j + 1) * d + c] = x - hi(x);
      sv3.v[(3 * j + 2) * d + c] = hi(x);
    }
    for (uint64_t r = 0; r < rows; ++r) {
      const double x = dual.v[r * n + j];
      dual3.v[r * 3 * n + 3 * j] = hi(x);
      dual3.v[r * 3 * n + 3 * j + 1] = hi(x);
      dual3.v[r * 3 * n + 3 * j + 2] = x - hi(x);
    }
  }
  sv = std::move(sv3);
  dual = std::move(dual3);
  for (auto& k : per_class) k *= 3;
}

Graph svc(const State& s, size_t n_classes) {
  const std::string kernel =
      s.find("kernel") && s.at("kernel").kind == K::Str ? s.str("kernel") : "?";
  static const std::map<std::string, std::string> kOnnxKernel = {
      {"rbf", "RBF"}, {"linear", "LINEAR"}, {"poly", "POLY"}, {"sigmoid", "SIGMOID"}};
  auto onnx_kernel = kOnnxKernel.find(kernel);
  if (onnx_kernel == kOnnxKernel.end())
    bad("`SVC(kernel='" + kernel +
        "')`: the SVM plugin represents the rbf, linear, poly and sigmoid kernels (a callable or "
        "precomputed kernel is not imported)");
  if (const Value* sp = s.find("_sparse"); sp != nullptr && sp->kind == K::Bool && sp->i != 0)
    bad("`SVC` fitted on sparse data is not imported");
  Numbers sv = matrix_of(s.at("support_vectors_"), "SVC.support_vectors_");
  Numbers dual = matrix_of(s.any_of({"_dual_coef_", "dual_coef_"}), "SVC._dual_coef_");
  Numbers rho = vector_of(s.any_of({"_intercept_", "intercept_"}), "SVC._intercept_");
  Numbers nsup = vector_of(s.any_of({"_n_support", "n_support_"}), "SVC._n_support");
  const double gamma = s.num("_gamma");
  if (kernel == "rbf" && !(gamma > 0)) bad("`SVC._gamma` is not positive");
  const double coef0 = kernel == "poly" || kernel == "sigmoid" ? s.num("coef0") : 0.0;
  const double degree = kernel == "poly" ? s.num("degree") : 3.0;
  if (kernel == "poly" && !(degree >= 0 && degree <= 100 && degree == std::floor(degree)))
    bad("`SVC.degree` is not a whole number from 0 to 100");
  if (nsup.v.size() != n_classes)
    bad("`SVC._n_support` has " + std::to_string(nsup.v.size()) + " entries for " +
        std::to_string(n_classes) + " classes");
  const size_t pairs = n_classes * (n_classes - 1) / 2;
  if (rho.v.size() != pairs)
    bad("`SVC._intercept_` has " + std::to_string(rho.v.size()) + " values for " +
        std::to_string(pairs) + " class pairs");
  if (dual.rows() != n_classes - 1 || dual.cols() != sv.rows())
    bad("`SVC._dual_coef_` shape does not match the support vectors");
  std::vector<int64_t> per_class;
  double total = 0;
  for (double x : nsup.v) {
    per_class.push_back(static_cast<int64_t>(x));
    total += x;
  }
  if (total != static_cast<double>(sv.rows()))
    bad("`SVC._n_support` does not add up to the support vectors");
  if (kernel == "linear") split_linear_kernel(sv, dual, per_class);
  Graph g("SVC", sv.cols(), false, true);
  auto& node = g.node("SVMClassifier", {"X"}, {"label", "probabilities"}, "ai.onnx.ml");
  std::vector<int64_t> labels(n_classes);
  for (size_t c = 0; c < n_classes; ++c) labels[c] = static_cast<int64_t>(c);
  Graph::ints(node, "classlabels_ints", labels);
  Graph::floats(node, "coefficients", dual.v);
  Graph::floats(node, "kernel_params", {gamma, coef0, degree});
  Graph::text(node, "kernel_type", onnx_kernel->second);
  Graph::text(node, "post_transform", "NONE");
  const Value* pa = s.find("_probA") ? s.find("_probA") : s.find("probA_");
  const Value* pb = s.find("_probB") ? s.find("_probB") : s.find("probB_");
  const Value* prob = s.find("probability");
  if (prob != nullptr && prob->kind == K::Bool && prob->i != 0) {
    if (pa == nullptr || pb == nullptr)
      bad("`SVC(probability=True)` state has no Platt parameters");
    Numbers a = vector_of(*pa, "SVC._probA"), b = vector_of(*pb, "SVC._probB");
    if (a.v.size() != pairs || b.v.size() != pairs)
      bad("`SVC` Platt parameters do not match the class pairs");
    Graph::floats(node, "prob_a", a.v);
    Graph::floats(node, "prob_b", b.v);
  }
  Graph::floats(node, "rho", rho.v);
  Graph::floats(node, "support_vectors", sv.v);
  Graph::ints(node, "vectors_per_class", per_class);
  g.output("label", onnx::TensorProto::INT64);
  g.output("probabilities", onnx::TensorProto::FLOAT);
  return g;
}

std::string version_of(const State& s) {
  const Value* v = s.find("_sklearn_version");
  if (v == nullptr || v->kind != K::Str)
    bad("`" + s.name() +
        "` declares no `_sklearn_version` (written before scikit-learn 0.18); supported versions: "
        "1.0 to 1.6");
  if (!supported_version(v->s))
    bad("`" + s.name() + "` was written by scikit-learn " + v->s +
        ", whose state layout is not imported; supported versions: 1.0 to 1.6");
  return v->s;
}

// Checks the version of every estimator the model holds (steps, trees).
void check_versions(const State& s) {
  version_of(s);
  if (const Value* est = s.find("estimators_"); est != nullptr && est->kind == K::List)
    for (const Value* e : est->items)
      if (e->kind == K::Object) version_of(State(*e));
}

}  // namespace

bool supported_version(const std::string& version) {
  // "1.N", "1.N.P", with optional suffixes (rc1, .post1, .dev0).
  if (version.size() < 3 || version[0] != '1' || version[1] != '.') return false;
  size_t i = 2;
  unsigned minor = 0;
  while (i < version.size() && std::isdigit(static_cast<unsigned char>(version[i])) && i < 6)
    minor = minor * 10 + static_cast<unsigned>(version[i++] - '0');
  if (i == 2) return false;
  if (i < version.size() && version[i] != '.' && version[i] != 'r' && version[i] != 'd' &&
      version[i] != 'a' && version[i] != 'b')
    return false;
  return minor <= 6;
}

Converted convert_estimator(const Value& root, int jobs) {
  if (root.kind != K::Object)
    bad(std::string("this file is a pickle of ") + value_kind_name(root.kind) +
        ", not a supported scikit-learn model; secmlops never unpickles; supported: " +
        supported_estimators());
  State top(root);
  std::optional<Affine> scaler;
  const Value* model = &root;
  std::string shape = top.name();
  if (top.cls() == "sklearn.pipeline.Pipeline") {
    version_of(top);
    const Value& steps = top.at("steps");
    if (steps.kind != K::List || steps.items.empty() || steps.items.size() > 2)
      bad("`Pipeline.steps` must hold a scaler and a model, or a model alone");
    std::vector<const Value*> est;
    for (const Value* st : steps.items) {
      if (st->kind != K::Tuple || st->items.size() != 2 || st->items[1]->kind != K::Object)
        bad("`Pipeline.steps` entries are not (name, estimator) pairs ('passthrough' and None "
            "steps are not imported)");
      est.push_back(st->items[1]);
    }
    model = est.back();
    State m(*model);
    if (m.cls() == "sklearn.pipeline.Pipeline") bad("nested Pipelines are not imported");
    shape = "Pipeline(";
    if (est.size() == 2) {
      State sc(*est[0]);
      version_of(sc);
      scaler = scaler_of(*est[0], n_features_of(sc, 0));
      if (!scaler) bad("`Pipeline` step `" + sc.name() + "` is not StandardScaler or MinMaxScaler");
      if (scaler->a.empty()) bad("`" + sc.name() + "` does not record n_features_in_");
      shape += sc.name() + ", ";
    }
    shape += m.name() + ")";
  }
  State s(*model);
  check_versions(s);
  const std::string version = version_of(s);
  const std::vector<std::string> labels = class_labels(s);
  const size_t k = labels.size();
  const std::string& n = s.name();
  std::optional<Graph> g;
  std::string plugin;
  if (n == "LogisticRegression" || n == "LinearSVC") {
    g.emplace(linear(s, scaler, k));
    plugin = n == "LinearSVC" ? "linear_svm" : "logreg";
  } else if (n == "MLPClassifier") {
    g.emplace(mlp(s, scaler, k));
    plugin = "mlp";
  } else if (n == "RandomForestClassifier" || n == "ExtraTreesClassifier" ||
             n == "DecisionTreeClassifier") {
    const Value* nf = s.find("n_features_in_");
    if (nf == nullptr || nf->kind != K::Int || nf->i <= 0)
      bad("`" + n + "` does not record n_features_in_");
    g.emplace(trees(s, scaler, k, static_cast<uint64_t>(nf->i), jobs));
    plugin = "random_forest";
  } else if (n == "SVC") {
    if (scaler)
      bad("`Pipeline` of a scaler and `SVC`: a kernel of scaled inputs is not the same kernel of "
          "the raw inputs, and the SVM plugin has no scaler in front");
    g.emplace(svc(s, k));
    plugin = "rbf_svm";
  } else {
    bad("`" + n +
        "` is not an estimator secmlops imports (at the top of a pickle or as a Pipeline's last "
        "step)");
  }
  Converted c;
  c.plugin = plugin;
  c.version = version;
  c.class_labels = labels;
  if (scaler && scaler->a.size() != n_features_of(s, scaler->a.size()))
    bad("the scaler and the model disagree on the number of features");
  c.estimator = shape;
  // The metadata load_model_onnx reads: class names, and where the model came from.
  g->metadata("secmlops.class_labels", nlohmann::json(c.class_labels).dump());
  g->metadata("secmlops.imported_from", "scikit-learn " + c.version + " " + c.estimator);
  c.onnx = g->bytes();
  return c;
}

}  // namespace secmlops::host::sklearn
