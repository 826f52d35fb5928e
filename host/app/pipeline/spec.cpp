#include "spec.hpp"

#include "secmlops/app/data.hpp"
#include "secmlops/app/shard.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>

namespace secmlops::app::pipeline {
namespace {

constexpr size_t kMaxSteps = 1000;
constexpr size_t kMaxSpecBytes = 1 << 20;

// Collects "file:line:column: message" errors.
struct Errors {
  std::string file;
  std::vector<std::string>& out;
  std::string at(const YAML::Node& n) const {
    auto m = n.Mark();
    if (m.is_null()) return file;
    return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }
  void add(const YAML::Node& n, const std::string& msg) const {
    if (out.size() < 100) out.push_back(at(n) + ": " + msg);
  }
};

// A map whose keys are checked: every key read is remembered; unknown ones are reported.
class MapReader {
 public:
  MapReader(const YAML::Node& node, const Errors& errors, std::string what)
      : node_(node), e_(errors), what_(std::move(what)) {
    if (!node.IsMap()) e_.add(node, what_ + " must be a map of keys");
  }
  // Reports the keys nobody asked for. Only allocation can throw here, and a destructor must
  // not: the report is then lost, the spec's other errors are not.
  ~MapReader() {
    try {
      if (!node_.IsMap()) return;
      for (const auto& kv : node_) {
        auto key = kv.first.as<std::string>("");
        if (!seen_.count(key)) {
          std::string known;
          for (const auto& k : seen_) known += (known.empty() ? "" : ", ") + k;
          e_.add(kv.first, "unknown key '" + key + "' in " + what_ +
                               (known.empty() ? "" : " (known: " + known + ")"));
        }
      }
    } catch (...) {
    }
  }
  YAML::Node get(const std::string& key) {
    seen_.insert(key);
    if (!node_.IsMap()) return YAML::Node();
    return node_[key];
  }
  bool has(const std::string& key) {
    seen_.insert(key);
    return node_.IsMap() && node_[key];
  }
  template <class T>
  void read(const std::string& key, T& out) {
    auto n = get(key);
    if (!n) return;
    try {
      out = n.as<T>();
    } catch (const YAML::Exception&) {
      e_.add(n, "'" + key + "' in " + what_ + " has the wrong type");
    }
  }
  void read_number(const std::string& key, double& out, double lo, double hi) {
    auto n = get(key);
    if (!n) return;
    try {
      double v = n.as<double>();
      if (!(v >= lo && v <= hi)) throw YAML::Exception(n.Mark(), "range");
      out = v;
    } catch (const YAML::Exception&) {
      e_.add(n, "'" + key + "' in " + what_ + " must be a number in [" + format_number(lo) + ", " +
                    format_number(hi) + "]");
    }
  }
  std::vector<std::string> strings(const std::string& key) {
    std::vector<std::string> out;
    auto n = get(key);
    if (!n) return out;
    if (n.IsScalar()) return {n.as<std::string>()};
    if (!n.IsSequence()) {
      e_.add(n, "'" + key + "' in " + what_ + " must be a name or a list of names");
      return out;
    }
    for (const auto& v : n) {
      if (!v.IsScalar()) {
        e_.add(v, "'" + key + "' entries must be names");
        continue;
      }
      out.push_back(v.as<std::string>());
    }
    return out;
  }
  std::vector<double> numbers(const std::string& key) {
    std::vector<double> out;
    auto n = get(key);
    if (!n) return out;
    auto one = [&](const YAML::Node& v) {
      try {
        double d = v.as<double>();
        if (!std::isfinite(d) || d < 0) throw YAML::Exception(v.Mark(), "range");
        out.push_back(d);
      } catch (const YAML::Exception&) {
        e_.add(v, "'" + key + "' values must be non-negative numbers");
      }
    };
    if (n.IsSequence())
      for (const auto& v : n) one(v);
    else
      one(n);
    return out;
  }
  host::KeyValues key_values(const std::string& key) {
    host::KeyValues out;
    auto n = get(key);
    if (!n) return out;
    if (!n.IsMap()) {
      e_.add(n, "'" + key + "' in " + what_ + " must be a map of parameter: value");
      return out;
    }
    for (const auto& kv : n) {
      if (!kv.second.IsScalar()) {
        e_.add(kv.second,
               "parameter '" + kv.first.as<std::string>("") + "' must be a single value");
        continue;
      }
      out.emplace_back(kv.first.as<std::string>(""), kv.second.as<std::string>(""));
    }
    return out;
  }
  const YAML::Node& node() const { return node_; }
  const Errors& errors() const { return e_; }

 private:
  YAML::Node node_;
  const Errors& e_;
  std::string what_;
  std::set<std::string> seen_;
};

std::optional<v1::Severity> severity(const YAML::Node& n, const Errors& e) {
  std::string s = n.as<std::string>("");
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  v1::Severity v;
  if (!v1::Severity_Parse(s, &v) || v == v1::SEVERITY_UNSPECIFIED) {
    e.add(n,
          "'" + n.as<std::string>("") + "' is not a severity (CRITICAL, HIGH, MEDIUM, LOW, INFO)");
    return std::nullopt;
  }
  return v;
}

// "${vars.name}" in scalars becomes the variable's value.
void substitute(YAML::Node node, const std::map<std::string, std::string>& vars, const Errors& e) {
  static const std::regex ref(R"(\$\{vars\.([A-Za-z0-9_]+)\})");
  if (node.IsScalar()) {
    std::string s = node.Scalar();
    if (s.find("${") == std::string::npos) return;
    std::string out;
    auto begin = std::sregex_iterator(s.begin(), s.end(), ref);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      out += s.substr(last, static_cast<size_t>(it->position()) - last);
      auto v = vars.find((*it)[1].str());
      if (v == vars.end()) {
        e.add(node, "unknown variable '" + (*it)[1].str() + "' (define it under vars:)");
      } else {
        out += v->second;
      }
      last = static_cast<size_t>(it->position() + it->length());
    }
    out += s.substr(last);
    node = out;
  } else if (node.IsSequence()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      substitute(static_cast<const YAML::Node&>(*it), vars, e);
  } else if (node.IsMap()) {
    for (auto kv : node) substitute(kv.second, vars, e);
  }
}

// --set a.b.c=value: a path of map keys; in a sequence a segment is a step id or an index.
void apply_setting(YAML::Node root, const std::string& key, const std::string& value,
                   const Errors& e, std::vector<std::string>& errors) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  YAML::Node node = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (p.empty()) {
      errors.push_back("--set " + key + ": empty path segment");
      return;
    }
    YAML::Node parsed;
    try {
      parsed = YAML::Load(value);
    } catch (const YAML::Exception& ex) {
      errors.push_back("--set " + key + ": value is not valid YAML: " + ex.msg);
      return;
    }
    const bool last = i + 1 == parts.size();
    if (node.IsSequence()) {
      // A step by its id (then its kind's map, unless the path names id/needs/the kind), or an
      // entry by index.
      std::optional<YAML::Node> found;
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node& item = *it;
        if (item.IsMap() && item["id"] && item["id"].as<std::string>("") == p) found = item;
      }
      if (!found) {
        char* end = nullptr;
        unsigned long idx = std::strtoul(p.c_str(), &end, 10);
        if (end != p.c_str() && *end == '\0' && idx < node.size()) found = node[idx];
      }
      if (!found) {
        errors.push_back("--set " + key + ": no step or index '" + p + "'");
        return;
      }
      if (last) {
        errors.push_back("--set " + key + ": cannot replace a whole list entry");
        return;
      }
      YAML::Node target = *found;
      static const char* kinds[] = {"dataset", "train",  "scan",   "attack",
                                    "sign",    "verify", "report", "gate"};
      const auto& next = parts[i + 1];
      if (target.IsMap() && next != "id" && next != "needs")
        for (const char* k : kinds)
          if (target[k] && next != k) {
            YAML::Node body = target[k];
            target.reset(body);
            break;
          }
      node.reset(target);
      continue;
    }
    if (!node.IsMap() && !node.IsNull()) {
      errors.push_back("--set " + key + ": '" + p + "' is below a value, not a map");
      return;
    }
    if (last) {
      node[p] = parsed;
      return;
    }
    if (!node[p]) node[p] = YAML::Node(YAML::NodeType::Map);
    YAML::Node next = node[p];
    node.reset(next);
  }
  (void)e;
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Which references a step's config makes (dataset refs become their step ids).
std::vector<std::string> references(const StepConfig& c) {
  std::vector<std::string> out;
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, TrainStep>) out.push_back(ref_step(s.data));
        if constexpr (std::is_same_v<T, ScanStep> || std::is_same_v<T, SignStep> ||
                      std::is_same_v<T, VerifyStep>)
          out.insert(out.end(), s.models.begin(), s.models.end());
        if constexpr (std::is_same_v<T, AttackStep>) {
          out.insert(out.end(), s.models.begin(), s.models.end());
          out.push_back(ref_step(s.data));
        }
      },
      c);
  return out;
}

void check_plugin(const Environment& env, secmlops_kind kind, const std::string& name,
                  const YAML::Node& at, const Errors& e) {
  if (env.registry.find(kind, name)) return;
  std::string known;
  for (const auto& p : env.registry.by_kind(kind)) known += (known.empty() ? "" : ", ") + p.name();
  e.add(at, std::string("no ") + host::kind_name(kind) + " plugin named '" + name +
                "' (available: " + (known.empty() ? "none" : known) + ")");
}

DatasetStep read_dataset(MapReader& r) {
  DatasetStep d;
  r.read("csv", d.csv);
  r.read("label", d.label);
  if (r.has("generate")) {
    MapReader g(r.get("generate"), r.errors(), "dataset.generate");
    GenerateSpec s;
    g.read("samples", s.samples);
    g.read("features", s.features);
    g.read("informative", s.informative);
    g.read("redundant", s.redundant);
    g.read("classes", s.classes);
    g.read_number("class_sep", s.class_sep, 0, 100);
    g.read_number("flip", s.flip, 0, 1);
    g.read("seed", s.seed);
    if (s.samples < 10 || s.samples > 10'000'000)
      r.errors().add(g.node(), "samples must be in [10, 10000000]");
    if (s.features < 1 || s.features > 10000)
      r.errors().add(g.node(), "features must be in [1, 10000]");
    if (s.informative < 1 || s.informative + s.redundant > s.features)
      r.errors().add(g.node(), "need 1 <= informative and informative + redundant <= features");
    if (s.classes < 2 || s.classes > 100 ||
        s.classes > (1ull << std::min<uint32_t>(s.informative, 20)))
      r.errors().add(g.node(), "classes must be in [2, 100] and at most 2^informative");
    d.generate = s;
  }
  if (d.csv.empty() == !d.generate)
    r.errors().add(r.node(), "a dataset step needs exactly one of csv: or generate:");
  if (r.has("split")) {
    MapReader s(r.get("split"), r.errors(), "dataset.split");
    SplitSpec sp;
    s.read_number("test_size", sp.test_size, 0.01, 0.99);
    s.read("seed", sp.seed);
    d.split = sp;
  }
  r.read("scale", d.scale);
  if (!d.scale.empty() && d.scale != "standard" && d.scale != "minmax")
    r.errors().add(r.get("scale"), "scale must be standard or minmax");
  return d;
}

TrainStep read_train(const Environment& env, MapReader& r) {
  TrainStep t;
  r.read("data", t.data);
  if (t.data.empty())
    r.errors().add(r.node(), "a train step needs data: (a dataset step, or <step>.train)");
  r.read_number("test_size", t.test_size, 0, 0.99);
  r.read("seed", t.seed);
  auto models = r.get("models");
  if (!models || !models.IsSequence() || models.size() == 0) {
    r.errors().add(models ? models : r.node(),
                   "a train step needs models: a list of {name, plugin, params}");
    return t;
  }
  std::set<std::string> names;
  for (const auto& m : models) {
    MapReader mr(m, r.errors(), "a model entry");
    ModelEntry e;
    mr.read("name", e.name);
    mr.read("plugin", e.plugin);
    e.params = mr.key_values("params");
    e.config = mr.key_values("config");
    if (e.plugin.empty()) {
      r.errors().add(m, "a model entry needs plugin:");
      continue;
    }
    if (e.name.empty()) e.name = e.plugin;
    if (!valid_id(e.name))
      r.errors().add(m, "model name '" + e.name + "' must be letters, digits, '_' or '-'");
    if (!names.insert(e.name).second) r.errors().add(m, "two models are named '" + e.name + "'");
    check_plugin(env, SECMLOPS_KIND_MODEL, e.plugin, mr.get("plugin"), r.errors());
    t.models.push_back(std::move(e));
  }
  return t;
}

ScanStep read_scan(MapReader& r) {
  ScanStep s;
  s.models = r.strings("models");
  s.paths = r.strings("paths");
  if (r.has("fail_on"))
    if (auto v = severity(r.get("fail_on"), r.errors())) s.fail_on = *v;
  r.read("allowlist", s.allowlist);
  s.options = r.key_values("options");
  r.read_number("timeout", s.timeout, 0, 86400);
  if (r.has("shard")) {
    std::string text;
    r.read("shard", text);
    try {
      s.shard = parse_shard(text, "shard");
    } catch (const AppError& e) {
      r.errors().add(r.get("shard"), e.what());
    }
  }
  if (s.models.empty() && s.paths.empty())
    r.errors().add(r.node(), "a scan step needs models: or paths:");
  return s;
}

AttackStep read_attack(const Environment& env, MapReader& r) {
  AttackStep a;
  a.models = r.strings("models");
  r.read("data", a.data);
  r.read("rows", a.rows);
  a.eps = r.numbers("eps");
  r.read("labels", a.labels);
  r.read("empirical_robustness", a.empirical_robustness);
  if (a.models.empty()) r.errors().add(r.node(), "an attack step needs models: (train steps)");
  if (a.data.empty())
    r.errors().add(r.node(), "an attack step needs data: (a dataset step, or <step>.test)");
  auto list = r.get("attacks");
  if (!list || !list.IsSequence() || list.size() == 0) {
    r.errors().add(list ? list : r.node(),
                   "an attack step needs attacks: a list of {attack, params, eps}");
    return a;
  }
  for (const auto& n : list) {
    MapReader ar(n, r.errors(), "an attack entry");
    AttackEntry e;
    ar.read("attack", e.attack);
    e.params = ar.key_values("params");
    e.eps = ar.numbers("eps");
    ar.read("on", e.on);
    if (e.on != "auto" && e.on != "all" && e.on != "gradient" && e.on != "no_gradient")
      r.errors().add(ar.get("on"), "on: must be auto, all, gradient or no_gradient");
    for (const auto& [k, v] : e.params)
      if (k == "eps") r.errors().add(n, "give eps as eps: [..], not as a parameter");
    if (e.attack.empty()) {
      r.errors().add(n, "an attack entry needs attack: (a plugin name)");
      continue;
    }
    if (auto p = env.registry.find(SECMLOPS_KIND_ATTACK, e.attack))
      e.needs_gradient = (p->capability_bits() & SECMLOPS_CAP_NEEDS_GRADIENT) != 0;
    else
      check_plugin(env, SECMLOPS_KIND_ATTACK, e.attack, ar.get("attack"), r.errors());
    if (e.eps.empty() && a.eps.empty())
      r.errors().add(n, "no eps: give eps: on the step or on the attack");
    a.attacks.push_back(std::move(e));
  }
  return a;
}

SignStep read_sign(MapReader& r) {
  SignStep s;
  s.models = r.strings("models");
  s.paths = r.strings("paths");
  r.read("key", s.key);
  r.read("password_file", s.password_file);
  if (s.key.empty())
    r.errors().add(r.node(), "a sign step needs key: (a PEM private key, or @generate)");
  if (s.models.empty() && s.paths.empty())
    r.errors().add(r.node(), "a sign step needs models: or paths:");
  return s;
}

VerifyStep read_verify(MapReader& r) {
  VerifyStep s;
  s.models = r.strings("models");
  s.paths = r.strings("paths");
  r.read("public_key", s.public_key);
  if (s.public_key.empty())
    r.errors().add(r.node(), "a verify step needs public_key: (a PEM public key, or @generated)");
  if (s.models.empty() && s.paths.empty())
    r.errors().add(r.node(), "a verify step needs models: or paths:");
  return s;
}

ReportStep read_report(MapReader& r) {
  ReportStep s;
  if (r.has("formats")) {
    s.formats = r.strings("formats");
    static const std::set<std::string> known = {"json", "sarif", "text", "analysis", "html"};
    for (const auto& f : s.formats)
      if (!known.count(f))
        r.errors().add(r.get("formats"),
                       "unknown report format '" + f + "' (json, sarif, text, analysis, html)");
  }
  return s;
}

GateStep read_gate(MapReader& r) {
  GateStep g;
  if (r.has("max_severity")) g.max_severity = severity(r.get("max_severity"), r.errors());
  if (r.has("min_clean_accuracy")) {
    double v = 0;
    r.read_number("min_clean_accuracy", v, 0, 1);
    g.min_clean_accuracy = v;
  }
  if (auto list = r.get("min_adversarial_accuracy")) {
    if (!list.IsSequence()) {
      r.errors().add(list, "min_adversarial_accuracy must be a list of {eps, value, attack}");
    } else {
      for (const auto& n : list) {
        MapReader b(n, r.errors(), "a min_adversarial_accuracy entry");
        AdversarialBound bound;
        b.read_number("eps", bound.eps, 0, 1e9);
        b.read_number("value", bound.min_accuracy, 0, 1);
        b.read("attack", bound.attack);
        g.min_adversarial_accuracy.push_back(bound);
      }
    }
  }
  r.read("fail_on_overfitting", g.fail_on_overfitting);
  r.read("fail_on_personal_data", g.fail_on_personal_data);
  r.read("fail_on_scan_errors", g.fail_on_scan_errors);
  r.read("fail_on_unverified", g.fail_on_unverified);
  return g;
}

}  // namespace

std::string ref_step(const std::string& ref) {
  auto dot = ref.find('.');
  return dot == std::string::npos ? ref : ref.substr(0, dot);
}

Spec parse_spec(const Environment& env, const v1::PipelineRequest& req,
                std::vector<std::string>& errors) {
  Spec spec;
  spec.file = req.spec_name().empty() ? "pipeline.yaml" : req.spec_name();
  Errors e{spec.file, errors};
  if (req.spec().size() > kMaxSpecBytes) {
    errors.push_back(spec.file + ": larger than 1 MiB");
    return spec;
  }
  YAML::Node root;
  try {
    root = YAML::Load(req.spec());
  } catch (const YAML::ParserException& ex) {
    errors.push_back(spec.file + ":" + std::to_string(ex.mark.line + 1) + ":" +
                     std::to_string(ex.mark.column + 1) + ": YAML error: " + ex.msg);
    return spec;
  }
  if (!root.IsMap()) {
    errors.push_back(spec.file + ": a pipeline spec is a map with name: and steps:");
    return spec;
  }
  for (const auto& kv : req.set()) {
    apply_setting(root, kv.key(), kv.value(), e, errors);
    spec.settings.emplace_back(kv.key(), kv.value());
  }
  std::map<std::string, std::string> vars;
  if (auto v = root["vars"]) {
    if (!v.IsMap())
      e.add(v, "vars: must be a map of name: value");
    else
      for (const auto& kv : v)
        vars[kv.first.as<std::string>("")] = kv.second.IsScalar() ? kv.second.Scalar() : "";
  }
  substitute(root, vars, e);

  MapReader top(root, e, "the pipeline");
  top.get("vars");
  top.read("name", spec.name);
  if (spec.name.empty()) spec.name = "pipeline";
  top.read("output", spec.output);
  if (top.has("mlflow")) {
    MapReader m(top.get("mlflow"), e, "mlflow");
    m.read("experiment", spec.experiment);
  }
  auto steps = top.get("steps");
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    e.add(steps ? steps : root, "steps: must be a non-empty list");
    return spec;
  }
  if (steps.size() > kMaxSteps) {
    e.add(steps, "at most " + std::to_string(kMaxSteps) + " steps");
    return spec;
  }
  static const std::vector<std::string> kinds = {"dataset", "train",  "scan",   "attack",
                                                 "sign",    "verify", "report", "gate"};
  std::map<std::string, size_t> index;
  std::map<std::string, YAML::Node> step_nodes;
  for (const auto& n : steps) {
    MapReader r(n, e, "a step");
    StepSpec s;
    s.where = e.at(n);
    r.read("id", s.id);
    std::vector<std::string> present;
    for (const auto& k : kinds)
      if (r.has(k)) present.push_back(k);
    if (present.size() != 1) {
      std::string list;
      for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
      e.add(n, present.empty() ? "a step needs one of: " + list
                               : "a step has one kind, not " + present[0] + " and " + present[1]);
      continue;
    }
    s.kind = present[0];
    if (s.id.empty()) s.id = s.kind;
    if (!valid_id(s.id)) e.add(n, "step id '" + s.id + "' must be letters, digits, '_' or '-'");
    if (index.count(s.id)) {
      e.add(n, "two steps have the id '" + s.id + "' (give each an id:)");
      continue;
    }
    auto body = r.get(s.kind);
    if (body.IsNull()) body = YAML::Node(YAML::NodeType::Map);
    MapReader br(body, e, s.kind + " step '" + s.id + "'");
    if (s.kind == "dataset")
      s.config = read_dataset(br);
    else if (s.kind == "train")
      s.config = read_train(env, br);
    else if (s.kind == "scan")
      s.config = read_scan(br);
    else if (s.kind == "attack")
      s.config = read_attack(env, br);
    else if (s.kind == "sign")
      s.config = read_sign(br);
    else if (s.kind == "verify")
      s.config = read_verify(br);
    else if (s.kind == "report")
      s.config = read_report(br);
    else
      s.config = read_gate(br);
    s.needs = references(s.config);
    for (auto& extra : r.strings("needs")) s.needs.push_back(extra);
    index[s.id] = spec.steps.size();
    step_nodes.emplace(s.id, static_cast<const YAML::Node&>(n));
    spec.steps.push_back(std::move(s));
  }
  // Report and gate steps look at every other step unless told otherwise; reports also at gates.
  for (auto& s : spec.steps) {
    if (s.kind != "report" && s.kind != "gate") continue;
    if (!s.needs.empty()) continue;
    for (const auto& o : spec.steps)
      if (o.id != s.id && o.kind != "report" && (s.kind == "report" || o.kind != "gate"))
        s.needs.push_back(o.id);
  }
  // References: they exist, and have the kind the field needs.
  for (auto& s : spec.steps) {
    std::set<std::string> unique;
    std::vector<std::string> needs;
    for (const auto& n : s.needs) {
      if (!index.count(n)) {
        std::string ids;
        for (const auto& [id, _] : index) ids += (ids.empty() ? "" : ", ") + id;
        e.add(step_nodes[s.id],
              "step '" + s.id + "' needs unknown step '" + n + "' (steps: " + ids + ")");
        continue;
      }
      if (n == s.id) {
        e.add(step_nodes[s.id], "step '" + s.id + "' needs itself");
        continue;
      }
      if (unique.insert(n).second) needs.push_back(n);
    }
    s.needs = needs;
    auto kind_of = [&](const std::string& ref) {
      return index.count(ref_step(ref)) ? spec.steps[index[ref_step(ref)]].kind : "";
    };
    auto expect = [&](const std::string& ref, const char* kind, const char* field) {
      if (!ref.empty() && index.count(ref_step(ref)) && kind_of(ref) != kind)
        e.add(step_nodes[s.id], std::string(field) + ": '" + ref + "' is a " + kind_of(ref) +
                                    " step, not a " + kind + " step");
    };
    auto expect_data = [&](const std::string& ref) {
      expect(ref, "dataset", "data");
      auto dot = ref.find('.');
      if (dot == std::string::npos || !index.count(ref_step(ref))) return;
      auto part = ref.substr(dot + 1);
      const auto& target = spec.steps[index[ref_step(ref)]];
      const auto* d = std::get_if<DatasetStep>(&target.config);
      if ((part != "train" && part != "test") || (d && !d->split))
        e.add(step_nodes[s.id], "data: '" + ref +
                                    "': a dataset step publishes <id>, and <id>.train and "
                                    "<id>.test when it has split:");
    };
    if (auto* t = std::get_if<TrainStep>(&s.config)) expect_data(t->data);
    if (auto* a = std::get_if<AttackStep>(&s.config)) {
      expect_data(a->data);
      for (const auto& m : a->models) expect(m, "train", "models");
    }
    if (auto* sc = std::get_if<ScanStep>(&s.config))
      for (const auto& m : sc->models) expect(m, "train", "models");
    if (auto* sg = std::get_if<SignStep>(&s.config))
      for (const auto& m : sg->models) expect(m, "train", "models");
    if (auto* v = std::get_if<VerifyStep>(&s.config))
      for (const auto& m : v->models) expect(m, "train", "models");
  }
  // An order that respects the graph (Kahn's algorithm); what is left forms a cycle.
  std::map<std::string, size_t> waiting;
  for (const auto& s : spec.steps) waiting[s.id] = s.needs.size();
  std::vector<std::string> ready;
  for (const auto& s : spec.steps)
    if (s.needs.empty()) ready.push_back(s.id);
  while (!ready.empty()) {
    auto id = ready.front();
    ready.erase(ready.begin());
    spec.order.push_back(id);
    for (const auto& s : spec.steps)
      if (std::find(s.needs.begin(), s.needs.end(), id) != s.needs.end() && --waiting[s.id] == 0)
        ready.push_back(s.id);
  }
  if (spec.order.size() != spec.steps.size() && errors.empty()) {
    std::string cycle;
    for (const auto& s : spec.steps)
      if (std::find(spec.order.begin(), spec.order.end(), s.id) == spec.order.end())
        cycle += (cycle.empty() ? "" : ", ") + s.id;
    errors.push_back(spec.file + ": the steps " + cycle + " depend on each other in a cycle");
  }
  return spec;
}

}  // namespace secmlops::app::pipeline
