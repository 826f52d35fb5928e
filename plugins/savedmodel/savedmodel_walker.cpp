#include "savedmodel_walker.hpp"

#include "tf_op_policy.hpp"

#include "secmlops/protowire/walk.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace secmlops::plugins::savedmodel {
namespace {

using protowire::Field;
using protowire::MessageReader;
using protowire::ParseError;
using protowire::WireType;

// Field numbers of TensorFlow's saved_model.proto, meta_graph.proto, graph.proto,
// node_def.proto, function.proto, attr_value.proto and tensor.proto.
constexpr uint32_t kSavedModelSchemaVersion = 1, kSavedModelMetaGraphs = 2;
constexpr uint32_t kMetaInfoDef = 1, kMetaGraphDef = 2, kMetaAssetFileDef = 6;
constexpr uint32_t kInfoTags = 4, kInfoTfVersion = 5, kInfoTfGitVersion = 6;
constexpr uint32_t kAssetFilename = 2;
constexpr uint32_t kGraphNode = 1, kGraphLibrary = 2;
constexpr uint32_t kLibraryFunction = 1;
constexpr uint32_t kFunctionSignature = 1, kFunctionNodeDef = 3;
constexpr uint32_t kOpDefName = 1;
constexpr uint32_t kNodeName = 1, kNodeOp = 2, kNodeInput = 3, kNodeAttr = 5;
constexpr uint32_t kMapKey = 1, kMapValue = 2;
constexpr uint32_t kAttrS = 2, kAttrTensor = 8;
constexpr uint32_t kTensorStringVal = 8;

constexpr size_t kNameCap = 256;

// Evidence of SavedModel findings keeps up to 200 characters.
std::string excerpt(std::string_view text, size_t max_len = 200) {
  return protowire::excerpt(text, max_len);
}

// "^ctrl", "node:0", "node:out:0" → "node".
std::string input_node(const std::string& input) {
  std::string s = input.size() > 0 && input[0] == '^' ? input.substr(1) : input;
  return s.substr(0, s.find(':'));
}

std::string path_problem(const std::string& p) {
  if (p.find("://") != std::string::npos) return "is a remote URL";
  return protowire::path_escape(p);
}

struct Node {
  std::string name, op;
  std::vector<std::string> inputs;  // the first one: the path operand of file and checkpoint ops
  std::optional<std::string> const_string;
  std::vector<std::pair<std::string, std::string>> string_attrs;  // for evidence
  uint64_t offset = 0;
};

class Walker : public protowire::Walk {
 public:
  Walker(sdk::Source& source, const WalkContext& ctx, const WalkOptions& opt)
      : Walk(source, ctx), opt_(opt) {}

  void run() {
    MessageReader top = root();
    Field f;
    bool any = false;
    while (top.next(f)) {
      if (f.is(kSavedModelSchemaVersion, WireType::kVarint)) any = true;
      if (f.is(kSavedModelMetaGraphs, WireType::kLen)) {
        any = true;
        walk_meta_graph(top.sub(f), stats_.meta_graphs++);
      }
    }
    if (!any) throw ParseError(0, "not a SavedModel (no schema version and no meta graph)");
  }
  void flush() {}  // every finding is reported where it is seen
  [[nodiscard]] const WalkStats& stats() const { return stats_; }

 private:
  void walk_meta_graph(MessageReader mg, uint64_t index) {
    const std::string where = "meta_graphs[" + std::to_string(index) + "]";
    std::vector<std::string> tags;
    std::string tf_version, tf_git;
    uint64_t nodes_before = stats_.nodes, functions_before = stats_.functions;
    Field f;
    while (mg.next(f)) {
      poll();
      if (f.is(kMetaInfoDef, WireType::kLen)) {
        MessageReader info = mg.sub(f);
        Field i;
        while (info.next(i)) {
          if (i.number == kInfoTags && tags.size() < 16) tags.push_back(info.string(i, kNameCap));
          if (i.number == kInfoTfVersion) tf_version = info.string(i, kNameCap);
          if (i.number == kInfoTfGitVersion) tf_git = info.string(i, kNameCap);
        }
      } else if (f.is(kMetaGraphDef, WireType::kLen)) {
        walk_graph_def(mg.sub(f), where + ".graph_def");
      } else if (f.is(kMetaAssetFileDef, WireType::kLen)) {
        MessageReader asset = mg.sub(f);
        Field a;
        while (asset.next(a)) {
          if (a.number != kAssetFilename) continue;
          std::string name = asset.string(a, 4096);
          if (auto why = path_problem(name); !why.empty())
            emit({SECMLOPS_SEVERITY_HIGH,
                  "SAVEDMODEL-ASSET-PATH",
                  "asset file name " + why +
                      ": loading the model reads a file outside its assets directory",
                  a.tag_offset,
                  where + ".asset_file_def",
                  {{"filename", excerpt(name)}, {"reason", why}}});
        }
      }
    }
    std::string joined;
    for (const auto& t : tags) joined += (joined.empty() ? "" : ",") + excerpt(t, 64);
    emit({SECMLOPS_SEVERITY_INFO,
          "SAVEDMODEL-METADATA",
          "SavedModel meta graph [" + joined + "] written by TensorFlow " + excerpt(tf_version, 40),
          mg.begin(),
          where,
          {{"tags", joined},
           {"tensorflow_version", excerpt(tf_version)},
           {"tensorflow_git_version", excerpt(tf_git)},
           {"nodes", std::to_string(stats_.nodes - nodes_before)},
           {"functions", std::to_string(stats_.functions - functions_before)}}});
  }

  void walk_graph_def(MessageReader g, const std::string& where) {
    std::vector<Node> nodes;
    std::vector<Field> library;
    Field f;
    while (g.next(f)) {
      poll();
      if (f.is(kGraphNode, WireType::kLen)) {
        keep(read_node(g.sub(f), f.tag_offset), nodes, where + ".node");
      } else if (f.is(kGraphLibrary, WireType::kLen)) {
        library.push_back(f);
      }
    }
    check_scope(nodes, where + ".node");
    for (const auto& l : library) walk_library(g.sub(l), where + ".library");
  }

  void walk_library(MessageReader lib, const std::string& where) {
    Field f;
    while (lib.next(f)) {
      if (!f.is(kLibraryFunction, WireType::kLen)) continue;
      ++stats_.functions;
      MessageReader fn = lib.sub(f);
      std::string name;
      std::vector<Node> nodes;
      Field x;
      while (fn.next(x)) {
        poll();
        if (x.is(kFunctionSignature, WireType::kLen)) {
          MessageReader sig = fn.sub(x);
          Field s;
          while (sig.next(s))
            if (s.number == kOpDefName) name = sig.string(s, kNameCap);
        } else if (x.is(kFunctionNodeDef, WireType::kLen)) {
          keep(read_node(fn.sub(x), x.tag_offset), nodes,
               where + ".function[" + excerpt(name, 120) + "].node_def");
        }
      }
      check_scope(nodes, where + ".function[" + excerpt(name, 120) + "].node_def");
    }
  }

  // Only nodes that matter for a check or for resolving a constant path are kept, within a
  // node-count budget; past it a node is still checked, without path resolution.
  void keep(Node n, std::vector<Node>& nodes, const std::string& where) {
    static constexpr std::string_view kPassThrough[] = {"Identity", "PlaceholderWithDefault",
                                                        "ShardedFilename", "StringJoin"};
    bool relevant =
        n.const_string || classify_op(n.op).rule_id != nullptr || is_checkpoint_op(n.op) ||
        std::find(std::begin(kPassThrough), std::end(kPassThrough), n.op) != std::end(kPassThrough);
    if (!relevant) return;
    if (nodes.size() < opt_.max_tracked_nodes)
      nodes.push_back(std::move(n));
    else
      check_node(n, {}, where);
  }

  Node read_node(MessageReader r, uint64_t offset) {
    ++stats_.nodes;
    Node n;
    n.offset = offset;
    std::vector<Field> attrs;
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case kNodeName:
          n.name = r.string(f, kNameCap);
          break;
        case kNodeOp:
          n.op = r.string(f, kNameCap);
          break;
        case kNodeInput:
          if (n.inputs.empty()) n.inputs.push_back(r.string(f, kNameCap));
          break;
        case kNodeAttr:
          if (attrs.size() < 256) attrs.push_back(f);
          break;
        default:
          break;
      }
    }
    const bool is_const = n.op == "Const";
    const bool risky = classify_op(n.op).rule_id != nullptr;
    if (!is_const && !risky) return n;
    for (const auto& a : attrs) {
      MessageReader entry = r.sub(a);
      std::string key;
      std::optional<Field> value;
      Field e;
      while (entry.next(e)) {
        if (e.number == kMapKey) key = entry.string(e, kNameCap);
        if (e.is(kMapValue, WireType::kLen)) value = e;
      }
      if (!value) continue;
      MessageReader av = entry.sub(*value);
      Field v;
      while (av.next(v)) {
        if (risky && v.is(kAttrS, WireType::kLen) && n.string_attrs.size() < 8)
          n.string_attrs.emplace_back(key, excerpt(av.string(v, 1024)));
        if (is_const && key == "value" && v.is(kAttrTensor, WireType::kLen)) {
          MessageReader t = av.sub(v);
          Field tv;
          while (t.next(tv))
            if (tv.is(kTensorStringVal, WireType::kLen) && !n.const_string)
              n.const_string = t.string(tv, 1024);
        }
      }
    }
    return n;
  }

  // Follows pass-through nodes from `input` to a string constant, if there is one.
  static std::optional<std::string> resolve(
      const std::unordered_map<std::string, const Node*>& by_name, std::string input) {
    for (int hop = 0; hop < 8; ++hop) {
      auto it = by_name.find(input_node(input));
      if (it == by_name.end()) return std::nullopt;
      const Node& n = *it->second;
      if (n.const_string) return n.const_string;
      if ((n.op == "Identity" || n.op == "PlaceholderWithDefault" || n.op == "ShardedFilename" ||
           n.op == "StringJoin") &&
          !n.inputs.empty()) {
        input = n.inputs[0];
        continue;
      }
      return std::nullopt;
    }
    return std::nullopt;
  }

  void check_scope(const std::vector<Node>& nodes, const std::string& where) {
    std::unordered_map<std::string, const Node*> by_name;
    by_name.reserve(nodes.size());
    for (const auto& n : nodes) by_name.emplace(n.name, &n);
    for (const auto& n : nodes) check_node(n, by_name, where);
  }

  void check_node(const Node& n, const std::unordered_map<std::string, const Node*>& by_name,
                  const std::string& where) {
    const std::string at = where + "[" + excerpt(n.name, 120) + "]";
    OpRisk risk = classify_op(n.op);
    if (risk.rule_id != nullptr) {
      sdk::Finding f{
          risk.severity, risk.rule_id, "operation " + excerpt(n.op, 80) + " " + risk.why,
          n.offset,      at,           {{"op", excerpt(n.op)}, {"node", excerpt(n.name)}}};
      if (!n.inputs.empty())
        if (auto path = resolve(by_name, n.inputs[0]))
          f.evidence.emplace_back("input0_constant", excerpt(*path));
      for (const auto& [k, v] : n.string_attrs)
        f.evidence.emplace_back("attr." + excerpt(k, 64), v);
      emit(f);
      return;
    }
    if (is_checkpoint_op(n.op) && !n.inputs.empty()) {
      auto path = resolve(by_name, n.inputs[0]);
      if (!path) return;
      if (auto why = path_problem(*path); !why.empty())
        emit({SECMLOPS_SEVERITY_HIGH,
              "SAVEDMODEL-CHECKPOINT-PATH",
              "checkpoint operation " + excerpt(n.op, 40) + " uses a fixed path that " + why +
                  " instead of the loader's path",
              n.offset,
              at,
              {{"op", excerpt(n.op)}, {"path", excerpt(*path)}, {"reason", why}}});
    }
  }

  const WalkOptions& opt_;
  WalkStats stats_;
};

}  // namespace

WalkStats walk_saved_model(sdk::Source& source, const WalkContext& ctx,
                           const WalkOptions& options) {
  Walker w(source, ctx, options);
  return protowire::walk(w);
}

}  // namespace secmlops::plugins::savedmodel
