#include "onnx_walker.hpp"

#include "op_policy.hpp"
#include "text_signals.hpp"

#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace secmlops::plugins::onnx {
namespace {

using protowire::Field;
using protowire::MessageReader;
using protowire::ParseError;
using protowire::WireType;

// Field numbers of Debian's /usr/include/onnx/onnx.proto.
namespace model_f {
constexpr uint32_t kIrVersion = 1, kProducerName = 2, kProducerVersion = 3, kDomain = 4,
                   kDocString = 6, kGraph = 7, kOpsetImport = 8, kMetadataProps = 14,
                   kTrainingInfo = 20, kFunctions = 25;
}
namespace graph_f {
constexpr uint32_t kNode = 1, kInitializer = 5, kDocString = 10, kSparseInitializer = 15;
}
namespace node_f {
constexpr uint32_t kName = 3, kOpType = 4, kAttribute = 5, kDocString = 6, kDomain = 7;
}
namespace attr_f {
constexpr uint32_t kName = 1, kS = 4, kT = 5, kG = 6, kStrings = 9, kTensors = 10, kGraphs = 11,
                   kSparseTensor = 22, kSparseTensors = 23;
}
namespace tensor_f {
constexpr uint32_t kDims = 1, kDataType = 2, kSegment = 3, kFloatData = 4, kName = 8, kRawData = 9,
                   kDoubleData = 10, kExternalData = 13, kDataLocation = 14;
}
namespace sparse_f {
constexpr uint32_t kValues = 1, kIndices = 2;
}
namespace function_f {
constexpr uint32_t kName = 1, kNode = 7, kDocString = 8, kDomain = 10;
}
namespace training_f {
constexpr uint32_t kInitialization = 1, kAlgorithm = 2;
}
constexpr uint32_t kKvKey = 1, kKvValue = 2;             // StringStringEntryProto
constexpr uint32_t kOpsetDomain = 1, kOpsetVersion = 2;  // OperatorSetIdProto

constexpr size_t kNameCap = 256;

// Element size in bits of TensorProto.DataType; 0 when unknown or variable (STRING).
uint32_t element_bits(int64_t data_type) {
  switch (data_type) {
    case 1:
      return 32;  // FLOAT
    case 2:
    case 3:
      return 8;  // UINT8, INT8
    case 4:
    case 5:
      return 16;  // UINT16, INT16
    case 6:
      return 32;  // INT32
    case 7:
      return 64;  // INT64
    case 9:
      return 8;  // BOOL
    case 10:
      return 16;  // FLOAT16
    case 11:
      return 64;  // DOUBLE
    case 12:
      return 32;  // UINT32
    // NOLINTNEXTLINE(bugprone-branch-clone): one line per ONNX data type, in the standard's order
    case 13:
      return 64;  // UINT64
    case 14:
      return 64;  // COMPLEX64
    case 15:
      return 128;  // COMPLEX128
    case 16:
      return 16;  // BFLOAT16
    case 17:
    case 18:
    case 19:
    case 20:
      return 8;  // FLOAT8 variants
    case 21:
    case 22:
    case 23:
      return 4;  // UINT4, INT4, FLOAT4E2M1
    default:
      return 0;
  }
}

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

struct OpKey {
  std::string domain, op_type;
  auto operator<=>(const OpKey&) const = default;
};

struct OpUse {
  secmlops_severity severity;
  std::string rule;
  uint64_t count = 0;
  uint64_t first_offset = 0;
  std::string first_where;
};

class Walker : public protowire::Walk {
 public:
  Walker(sdk::Source& source, const WalkContext& ctx, const WalkOptions& opt)
      : Walk(source, ctx), ctx_(ctx), opt_(opt) {}

  void run() {
    MessageReader model = root();
    // Pass 1: metadata and the names of model-local functions (a node calling one runs the
    // function's body, not native code). Graphs and functions are only located here.
    std::vector<Field> graphs, functions, training;
    std::optional<uint64_t> ir_version;
    std::string producer, producer_version, model_domain;
    std::vector<std::string> opsets;
    Field f;
    while (model.next(f)) {
      poll();
      switch (f.number) {
        case model_f::kIrVersion:
          if (f.type == WireType::kVarint) ir_version = f.value;
          break;
        case model_f::kProducerName:
          producer = model.string(f, kNameCap);
          break;
        case model_f::kProducerVersion:
          producer_version = model.string(f, kNameCap);
          break;
        case model_f::kDomain:
          model_domain = model.string(f, kNameCap);
          break;
        case model_f::kDocString:
          check_doc(model, f, "model.doc_string");
          break;
        case model_f::kGraph:
          graphs.push_back(f);
          break;
        case model_f::kOpsetImport:
          opsets.push_back(read_opset(model.sub(f)));
          break;
        case model_f::kMetadataProps:
          read_metadata_prop(model.sub(f), f.tag_offset);
          break;
        case model_f::kTrainingInfo:
          training.push_back(f);
          break;
        case model_f::kFunctions:
          functions.push_back(f);
          record_function_name(model.sub(f));
          break;
        default:
          break;
      }
    }
    if (!ir_version && graphs.empty())
      throw ParseError(0, "not an ONNX ModelProto (no ir_version and no graph)");

    sdk::Finding meta{SECMLOPS_SEVERITY_INFO,
                      "ONNX-METADATA",
                      "ONNX model metadata: producer '" + excerpt(producer, 80) + "' " +
                          excerpt(producer_version, 40) + ", IR version " +
                          (ir_version ? std::to_string(*ir_version) : std::string("?")),
                      0,
                      "model",
                      {}};
    meta.evidence.emplace_back("producer_name", excerpt(producer));
    meta.evidence.emplace_back("producer_version", excerpt(producer_version));
    if (ir_version) meta.evidence.emplace_back("ir_version", std::to_string(*ir_version));
    if (!model_domain.empty()) meta.evidence.emplace_back("domain", excerpt(model_domain));
    for (size_t i = 0; i < opsets.size() && i < 32; ++i)
      meta.evidence.emplace_back("opset_import", opsets[i]);
    emit(meta);

    for (const auto& g : graphs) walk_graph(model.sub(g), 0, "graph");
    for (size_t i = 0; i < functions.size(); ++i) walk_function(model.sub(functions[i]), i);
    for (size_t i = 0; i < training.size(); ++i) {
      MessageReader t = model.sub(training[i]);
      Field tf;
      while (t.next(tf)) {
        if (tf.number == training_f::kInitialization || tf.number == training_f::kAlgorithm)
          walk_graph(
              t.sub(tf), 1,
              "training_info[" + std::to_string(i) + "]." +
                  (tf.number == training_f::kInitialization ? "initialization" : "algorithm"));
      }
    }
  }

  // Reports what is aggregated over the whole model; also called when parsing stops early so
  // that operators seen before a malformed byte are still reported.
  void flush() {
    report_ops();
    stats_.bytes_fetched = bytes_fetched();
  }
  [[nodiscard]] const WalkStats& stats() const { return stats_; }

 private:
  void emit(sdk::Finding f) {
    // Paths through deeply nested subgraphs grow long: keep their start and their end.
    if (f.detail.size() > 320)
      f.detail = f.detail.substr(0, 100) + "…" + f.detail.substr(f.detail.size() - 200);
    Walk::emit(f);
  }

  std::string read_opset(MessageReader r) {
    std::string domain;
    uint64_t version = 0;
    Field f;
    while (r.next(f)) {
      if (f.number == kOpsetDomain) domain = r.string(f, kNameCap);
      if (f.number == kOpsetVersion && f.type == WireType::kVarint) version = f.value;
    }
    return (domain.empty() ? std::string("ai.onnx") : excerpt(domain, 80)) + ":" +
           std::to_string(version);
  }

  void read_metadata_prop(MessageReader r, uint64_t offset) {
    std::string key, value;
    Field f;
    while (r.next(f)) {
      if (f.number == kKvKey) key = r.string(f, kNameCap);
      if (f.number == kKvValue) value = r.string(f, 4096);
    }
    emit({SECMLOPS_SEVERITY_INFO,
          "ONNX-METADATA-PROP",
          "model metadata property '" + excerpt(key, 80) + "'",
          offset,
          "model.metadata_props",
          {{"key", excerpt(key)}, {"value", excerpt(value)}}});
    check_text(value, offset, "model.metadata_props[" + excerpt(key, 80) + "]");
  }

  void check_doc(const MessageReader& r, const Field& f, const std::string& where) {
    check_text(r.string(f, 16384), f.tag_offset, where);
  }

  void check_text(const std::string& text, uint64_t offset, const std::string& where) {
    if (text.empty()) return;
    if (auto url = find_url(text); !url.empty())
      emit({SECMLOPS_SEVERITY_INFO,
            "ONNX-DOC-URL",
            "free text in the model contains a URL",
            offset,
            where,
            {{"url", url}}});
    if (auto code = find_code_marker(text); !code.empty())
      emit({SECMLOPS_SEVERITY_INFO,
            "ONNX-DOC-CODE",
            "free text in the model looks like code",
            offset,
            where,
            {{"marker", code}, {"text", excerpt(text)}}});
  }

  void record_function_name(MessageReader r) {
    std::string name, domain;
    Field f;
    while (r.next(f)) {
      if (f.number == function_f::kName) name = r.string(f, kNameCap);
      if (f.number == function_f::kDomain) domain = r.string(f, kNameCap);
    }
    if (local_functions_.size() < 10000) local_functions_.insert({domain, name});
  }

  bool depth_ok(uint32_t depth, uint64_t offset, const std::string& where) {
    if (depth <= opt_.max_graph_depth) return true;
    if (nesting_reported_) return false;
    nesting_reported_ = true;
    emit({SECMLOPS_SEVERITY_MEDIUM,
          "ONNX-NESTING-LIMIT",
          "subgraphs nest deeper than " + std::to_string(opt_.max_graph_depth) +
              " levels; deeper levels are not scanned (and strain runtimes that recurse)",
          offset,
          where,
          {{"limit", std::to_string(opt_.max_graph_depth)}}});
    return false;
  }

  void walk_graph(MessageReader g, uint32_t depth, const std::string& where) {
    if (!depth_ok(depth, g.begin(), where)) return;
    ++stats_.graphs;
    Field f;
    uint64_t node_index = 0, init_index = 0;
    while (g.next(f)) {
      poll();
      switch (f.number) {
        case graph_f::kNode:
          walk_node(g.sub(f), f.tag_offset, depth,
                    where + ".node[" + std::to_string(node_index++) + "]");
          break;
        case graph_f::kInitializer:
          check_tensor(g.sub(f), f.tag_offset,
                       where + ".initializer[" + std::to_string(init_index++) + "]");
          break;
        case graph_f::kSparseInitializer:
          check_sparse(g.sub(f), where + ".sparse_initializer");
          break;
        case graph_f::kDocString:
          check_doc(g, f, where + ".doc_string");
          break;
        default:
          break;
      }
    }
  }

  void walk_function(MessageReader fn, size_t index) {
    ++stats_.functions;
    std::string where = "functions[" + std::to_string(index) + "]";
    Field f;
    uint64_t node_index = 0;
    while (fn.next(f)) {
      poll();
      if (f.number == function_f::kName)
        where = "functions[" + excerpt(fn.string(f, kNameCap), 80) + "]";
      if (f.number == function_f::kNode)
        walk_node(fn.sub(f), f.tag_offset, 1,
                  where + ".node[" + std::to_string(node_index++) + "]");
      if (f.number == function_f::kDocString) check_doc(fn, f, where + ".doc_string");
    }
  }

  void walk_node(MessageReader n, uint64_t offset, uint32_t depth, std::string where) {
    ++stats_.nodes;
    std::string name, op_type, domain;
    std::vector<Field> attributes;
    Field f;
    while (n.next(f)) {
      switch (f.number) {
        case node_f::kName:
          name = n.string(f, kNameCap);
          break;
        case node_f::kOpType:
          op_type = n.string(f, kNameCap);
          break;
        case node_f::kDomain:
          domain = n.string(f, kNameCap);
          break;
        case node_f::kAttribute:
          if (attributes.size() < 4096) attributes.push_back(f);
          break;
        case node_f::kDocString:
          check_doc(n, f, where + ".doc_string");
          break;
        default:
          break;
      }
    }
    if (!name.empty()) where += "(" + excerpt(name, 80) + ")";
    classify_op(domain, op_type, offset, where);
    const bool custom = classify_domain(domain) != DomainClass::kStandard;
    for (const auto& a : attributes)
      walk_attribute(n.sub(a), a.tag_offset, depth, where, domain, op_type, custom);
  }

  void classify_op(const std::string& domain, const std::string& op_type, uint64_t offset,
                   const std::string& where) {
    if (is_python_op(domain, op_type)) {
      note_op(domain, op_type, SECMLOPS_SEVERITY_CRITICAL, "ONNX-PYTHON-OP", offset, where);
      return;
    }
    switch (classify_domain(domain)) {
      case DomainClass::kStandard:
        return;
      case DomainClass::kRuntimeContrib:
        note_op(domain, op_type, SECMLOPS_SEVERITY_INFO, "ONNX-RUNTIME-DOMAIN-OP", offset, where);
        return;
      case DomainClass::kCustom:
        if (local_functions_.count({domain, op_type}) != 0)
          return;  // expands to the local function
        note_op(domain, op_type, SECMLOPS_SEVERITY_HIGH, "ONNX-CUSTOM-DOMAIN-OP", offset, where);
        return;
    }
  }

  void note_op(const std::string& domain, const std::string& op_type, secmlops_severity sev,
               const std::string& rule, uint64_t offset, const std::string& where) {
    OpKey key{domain, op_type};
    auto it = ops_.find(key);
    if (it == ops_.end()) {
      if (ops_.size() >= 10000) return;
      it = ops_.emplace(key, OpUse{sev, rule, 0, offset, where}).first;
    }
    ++it->second.count;
  }

  void report_ops() {
    for (const auto& [key, use] : ops_) {
      std::string op = (key.domain.empty() ? std::string("ai.onnx") : excerpt(key.domain, 80)) +
                       "::" + excerpt(key.op_type, 80);
      std::string message;
      if (use.rule == "ONNX-PYTHON-OP")
        message = "operator " + op + " runs Python code when the model is executed";
      else if (use.rule == "ONNX-CUSTOM-DOMAIN-OP")
        message = "operator " + op +
                  " is from a custom domain: running the model loads a native custom-op library";
      else
        message = "operator " + op +
                  " is from an allowlisted runtime domain (kernels built into the runtime)";
      emit({use.severity,
            use.rule,
            message,
            use.first_offset,
            use.first_where,
            {{"domain", excerpt(key.domain)},
             {"op_type", excerpt(key.op_type)},
             {"count", std::to_string(use.count)}}});
    }
  }

  void walk_attribute(MessageReader a, uint64_t offset, uint32_t depth,
                      const std::string& node_where, const std::string& domain,
                      const std::string& op_type, bool custom_node) {
    std::string name;
    std::optional<Field> s;
    std::vector<Field> nested;  // graphs and tensors, handled once the name is known
    Field f;
    while (a.next(f)) {
      switch (f.number) {
        case attr_f::kName:
          name = a.string(f, kNameCap);
          break;
        case attr_f::kS:
          s = f;
          break;
        case attr_f::kStrings:
          if (!s) s = f;
          break;
        case attr_f::kT:
        case attr_f::kG:
        case attr_f::kTensors:
        case attr_f::kGraphs:
        case attr_f::kSparseTensor:
        case attr_f::kSparseTensors:
          if (nested.size() < 4096) nested.push_back(f);
          break;
        default:
          break;
      }
    }
    std::string where = node_where + ".attribute[" + excerpt(name, 80) + "]";
    if (s && s->type == WireType::kLen) {
      std::string text = a.string(*s, 4096);
      if (custom_node && is_code_attribute(name)) {
        emit({SECMLOPS_SEVERITY_CRITICAL,
              "ONNX-CODE-ATTRIBUTE",
              "non-standard operator " + excerpt(domain, 80) + "::" + excerpt(op_type, 80) +
                  " carries code in its '" + excerpt(name, 80) + "' attribute",
              offset,
              where,
              {{"attribute", excerpt(name)}, {"value", excerpt(text)}}});
      } else {
        check_text(text, offset, where);
      }
    }
    uint32_t graph_index = 0;
    for (const auto& n : nested) {
      switch (n.number) {
        case attr_f::kG:
          walk_graph(a.sub(n), depth + 1, where + ".g");
          break;
        case attr_f::kGraphs:
          walk_graph(a.sub(n), depth + 1, where + ".graphs[" + std::to_string(graph_index++) + "]");
          break;
        case attr_f::kT:
        case attr_f::kTensors:
          check_tensor(a.sub(n), n.tag_offset, where + ".t");
          break;
        case attr_f::kSparseTensor:
        case attr_f::kSparseTensors:
          check_sparse(a.sub(n), where + ".sparse_tensor");
          break;
        default:
          break;
      }
    }
  }

  void check_sparse(MessageReader s, const std::string& where) {
    Field f;
    while (s.next(f)) {
      if (f.number == sparse_f::kValues) check_tensor(s.sub(f), f.tag_offset, where + ".values");
      if (f.number == sparse_f::kIndices) check_tensor(s.sub(f), f.tag_offset, where + ".indices");
    }
  }

  void check_tensor(MessageReader t, uint64_t offset, std::string where) {
    ++stats_.tensors;
    std::vector<int64_t> dims;
    bool too_many_dims = false;
    int64_t data_type = 0;
    bool segmented = false, external = false;
    std::optional<Field> raw;
    uint64_t float_bytes = 0, double_bytes = 0;
    bool has_float = false, has_double = false;
    std::string name;
    std::vector<std::pair<std::string, std::string>> ext;
    uint64_t ext_offset = offset;
    Field f;
    while (t.next(f)) {
      switch (f.number) {
        case tensor_f::kDims: {
          size_t room = dims.size() > opt_.max_rank ? 0 : opt_.max_rank + 1 - dims.size();
          if (!t.varints(
                  f, [&](uint64_t v) { dims.push_back(static_cast<int64_t>(v)); }, room))
            too_many_dims = true;
          break;
        }
        case tensor_f::kDataType:
          if (f.type == WireType::kVarint) data_type = static_cast<int64_t>(f.value);
          break;
        case tensor_f::kSegment:
          segmented = true;
          break;
        case tensor_f::kFloatData:
          has_float = true;
          float_bytes += f.type == WireType::kLen ? f.length : 4;
          break;
        case tensor_f::kDoubleData:
          has_double = true;
          double_bytes += f.type == WireType::kLen ? f.length : 8;
          break;
        case tensor_f::kName:
          name = t.string(f, kNameCap);
          break;
        case tensor_f::kRawData:
          raw = f;
          break;  // payload is skipped, never read
        case tensor_f::kExternalData: {
          if (ext.size() >= 16) break;
          MessageReader kv = t.sub(f);
          std::string k, v;
          Field e;
          while (kv.next(e)) {
            if (e.number == kKvKey) k = kv.string(e, kNameCap);
            if (e.number == kKvValue) v = kv.string(e, 4096 + 1);
          }
          if (ext.empty()) ext_offset = f.tag_offset;
          ext.emplace_back(std::move(k), std::move(v));
          break;
        }
        case tensor_f::kDataLocation:
          if (f.type == WireType::kVarint && f.value == 1) external = true;
          break;
        default:
          break;
      }
    }
    if (!name.empty()) where += "(" + excerpt(name, 80) + ")";
    if (too_many_dims || dims.size() > opt_.max_rank) {
      emit({SECMLOPS_SEVERITY_MEDIUM,
            "ONNX-ABSURD-SHAPE",
            "tensor declares more than " + std::to_string(opt_.max_rank) + " dimensions",
            offset,
            where,
            {{"rank", ">" + std::to_string(opt_.max_rank)}}});
      return;
    }
    // Element count with overflow and sign checks.
    bool negative = false, overflow = false;
    uint64_t count = 1;
    std::string shape;
    for (auto d : dims) {
      if (!shape.empty()) shape += "x";
      shape += std::to_string(d);
      if (d < 0)
        negative = true;
      else if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count))
        overflow = true;
    }
    if (negative) {
      emit({SECMLOPS_SEVERITY_MEDIUM,
            "ONNX-INVALID-SHAPE",
            "tensor declares a negative dimension",
            offset,
            where,
            {{"dims", shape}}});
      return;
    }
    uint32_t bits = element_bits(data_type);
    uint64_t declared_bytes = 0;
    if (bits != 0 && !overflow) {
      uint64_t total_bits = 0;
      if (__builtin_mul_overflow(count, static_cast<uint64_t>(bits), &total_bits) ||
          total_bits > UINT64_MAX - 7)
        overflow = true;
      else
        declared_bytes = (total_bits + 7) / 8;
    }
    if (overflow || declared_bytes > opt_.max_tensor_bytes ||
        (bits == 0 && count > opt_.max_tensor_bytes)) {
      emit({SECMLOPS_SEVERITY_MEDIUM,
            "ONNX-ABSURD-SHAPE",
            "tensor declares an absurd size (resource-exhaustion risk for runtimes that allocate "
            "it)",
            offset,
            where,
            {{"dims", shape},
             {"data_type", std::to_string(data_type)},
             {"declared_bytes",
              overflow ? std::string("overflows 64 bits") : std::to_string(declared_bytes)}}});
      return;
    }
    if (external || !ext.empty()) {
      ++stats_.external_tensors;
      check_external(
          ext, ext_offset, where,
          bits != 0 && !segmented ? std::optional<uint64_t>(declared_bytes) : std::nullopt);
      return;
    }
    if (segmented || bits == 0) return;
    auto mismatch = [&](const char* field, uint64_t present, uint64_t expected) {
      emit({SECMLOPS_SEVERITY_MEDIUM,
            "ONNX-TENSOR-SIZE-MISMATCH",
            "tensor's declared shape and type need " + std::to_string(expected) + " bytes but " +
                field + " holds " + std::to_string(present),
            offset,
            where,
            {{"dims", shape},
             {"data_type", std::to_string(data_type)},
             {"field", field},
             {"expected_bytes", std::to_string(expected)},
             {"present_bytes", std::to_string(present)}}});
    };
    if (raw) {
      if (raw->length != declared_bytes) mismatch("raw_data", raw->length, declared_bytes);
    } else if (has_float && (data_type == 1 || data_type == 14)) {
      if (float_bytes != declared_bytes) mismatch("float_data", float_bytes, declared_bytes);
    } else if (has_double && (data_type == 11 || data_type == 15)) {
      if (double_bytes != declared_bytes) mismatch("double_data", double_bytes, declared_bytes);
    }
  }

  // Location checks come first and need no file system: a hostile location is reported even
  // when the scanned stream has no directory (an upload, an archive member).
  void check_external(const std::vector<std::pair<std::string, std::string>>& ext, uint64_t offset,
                      const std::string& where, std::optional<uint64_t> declared_bytes) {
    std::optional<std::string> location;
    std::optional<std::string> off_s, len_s;
    for (const auto& [k, v] : ext) {
      if (k == "location")
        location = v;
      else if (k == "offset")
        off_s = v;
      else if (k == "length")
        len_s = v;
    }
    if (!location || location->empty()) {
      emit({SECMLOPS_SEVERITY_MEDIUM,
            "ONNX-EXTERNAL-BAD-ENTRY",
            "external tensor has no location",
            offset,
            where,
            {}});
      return;
    }
    const std::string& loc = *location;
    uint64_t off = 0, len = 0;
    bool off_ok = !off_s || parse_u64(*off_s, off);
    bool len_ok = !len_s || parse_u64(*len_s, len);
    if (!off_ok || !len_ok) {
      emit({SECMLOPS_SEVERITY_MEDIUM,
            "ONNX-EXTERNAL-BAD-ENTRY",
            "external tensor's offset or length is not a non-negative integer",
            offset,
            where,
            {{"offset", excerpt(off_s.value_or(""))}, {"length", excerpt(len_s.value_or(""))}}});
      return;
    }
    std::string reason = lexical_escape(loc);
    if (!reason.empty()) {
      emit({SECMLOPS_SEVERITY_CRITICAL,
            "ONNX-EXTERNAL-PATH-TRAVERSAL",
            "external data location " + reason +
                ": loading the model reads a file outside its directory",
            offset,
            where,
            {{"location", excerpt(loc, 300)}, {"reason", reason}}});
      return;
    }
    if (len_s && declared_bytes && len != *declared_bytes)
      emit({SECMLOPS_SEVERITY_MEDIUM,
            "ONNX-TENSOR-SIZE-MISMATCH",
            "external tensor's length disagrees with its declared shape and type",
            offset,
            where,
            {{"location", excerpt(loc)},
             {"expected_bytes", std::to_string(*declared_bytes)},
             {"length", std::to_string(len)}}});
    secmlops_sibling_info info = stat(loc);
    std::vector<std::pair<std::string, std::string>> ev{{"location", excerpt(loc, 300)}};
    if (info.flags & SECMLOPS_SIBLING_NO_CONTEXT) {
      if (!unverified_reported_) {
        unverified_reported_ = true;
        emit({SECMLOPS_SEVERITY_INFO, "ONNX-EXTERNAL-UNVERIFIED",
              "model uses external data, but the stream is not a file on disk: its files were not "
              "checked",
              offset, where, ev});
      }
      return;
    }
    if (info.flags & (SECMLOPS_SIBLING_OUTSIDE | SECMLOPS_SIBLING_ABSOLUTE)) {
      const bool symlink = info.flags & SECMLOPS_SIBLING_SYMLINK;
      ev.emplace_back("reason", symlink ? "symlink escapes the model directory"
                                        : "resolves outside the model directory");
      emit({SECMLOPS_SEVERITY_CRITICAL, "ONNX-EXTERNAL-PATH-TRAVERSAL",
            std::string("external data location ") +
                (symlink ? "goes through a symbolic link that leads" : "resolves") +
                " outside the model's directory",
            offset, where, ev});
      return;
    }
    if (!(info.flags & SECMLOPS_SIBLING_EXISTS)) {
      emit({SECMLOPS_SEVERITY_MEDIUM, "ONNX-EXTERNAL-MISSING", "external data file does not exist",
            offset, where, ev});
      return;
    }
    if (info.flags & SECMLOPS_SIBLING_SYMLINK)
      emit({SECMLOPS_SEVERITY_LOW, "ONNX-EXTERNAL-SYMLINK",
            "external data is reached through a symbolic link (it stays inside the model's "
            "directory)",
            offset, where, ev});
    if (info.flags & SECMLOPS_SIBLING_NOT_REGULAR) {
      emit({SECMLOPS_SEVERITY_HIGH, "ONNX-EXTERNAL-NOT-REGULAR",
            "external data location is not a regular file (directory, device or pipe)", offset,
            where, ev});
      return;
    }
    uint64_t end = 0;
    bool over = __builtin_add_overflow(off, len, &end);
    if (over || off > info.size || (len_s && end > info.size)) {
      ev.emplace_back("offset", std::to_string(off));
      if (len_s) ev.emplace_back("length", std::to_string(len));
      ev.emplace_back("file_size", std::to_string(info.size));
      emit({SECMLOPS_SEVERITY_MEDIUM, "ONNX-EXTERNAL-OUT-OF-RANGE",
            "external tensor's offset/length reach beyond the end of its data file", offset, where,
            ev});
      return;
    }
    if (!len_s && declared_bytes && info.size - off < *declared_bytes) {
      ev.emplace_back("expected_bytes", std::to_string(*declared_bytes));
      ev.emplace_back("available_bytes", std::to_string(info.size - off));
      emit({SECMLOPS_SEVERITY_MEDIUM, "ONNX-EXTERNAL-OUT-OF-RANGE",
            "external data file is shorter than the tensor it should hold", offset, where, ev});
    }
  }

  // Returns why a location escapes by its text alone, or "" when it does not.
  static std::string lexical_escape(const std::string& loc) {
    if (loc.size() > 4096) return "is unreasonably long";
    for (char c : loc)
      if (static_cast<unsigned char>(c) < 0x20) return "contains control characters";
    if (loc[0] == '~') return "starts with a home-directory reference";
    return protowire::path_escape(loc);
  }

  secmlops_sibling_info stat(const std::string& loc) {
    if (auto it = stat_cache_.find(loc); it != stat_cache_.end()) return it->second;
    secmlops_sibling_info info{};
    info.struct_size = sizeof(info);
    info.flags = SECMLOPS_SIBLING_NO_CONTEXT;
    if (ctx_.stat_sibling) info = ctx_.stat_sibling(loc);
    if (stat_cache_.size() < 4096) stat_cache_.emplace(loc, info);
    return info;
  }

  const WalkContext& ctx_;
  const WalkOptions& opt_;
  WalkStats stats_;
  std::set<std::pair<std::string, std::string>> local_functions_;
  std::map<OpKey, OpUse> ops_;
  std::map<std::string, secmlops_sibling_info> stat_cache_;
  bool unverified_reported_ = false;
  bool nesting_reported_ = false;
};

}  // namespace

WalkStats walk_model(sdk::Source& source, const WalkContext& ctx, const WalkOptions& options) {
  Walker w(source, ctx, options);
  return protowire::walk(w);
}

}  // namespace secmlops::plugins::onnx
