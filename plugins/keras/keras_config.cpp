#include "keras_config.hpp"

#include "bytecode_peek.hpp"
#include "keras_builtins.hpp"

#include <stdexcept>

namespace secmlops::plugins::keras {
namespace {

using json = nlohmann::json;
using Evidence = std::vector<std::pair<std::string, std::string>>;

std::string shorten(std::string s, size_t max = 160) {
  if (s.size() > max) s = s.substr(0, max) + "…";
  return s;
}

std::string join(const std::vector<std::string>& v, size_t max = 24) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + v[i];
  return s;
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string str_member(const json& obj, const char* key) {
  const json* v = member(obj, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

struct TooDeep : std::runtime_error {
  TooDeep() : std::runtime_error("too deep") {}
};

// One walk over one document.
class Walker {
 public:
  Walker(std::string_view origin, uint64_t offset, const WalkLimits& limits, Findings& out)
      : origin_(origin), offset_(offset), limits_(limits), out_(out) {}

  void visit(const json& v, int depth, const char* skip_key = nullptr) {
    if (stopped_) return;
    if (++nodes_ > limits_.max_nodes || depth > limits_.max_walk_depth) {
      add(SECMLOPS_SEVERITY_MEDIUM, "KERAS-CONFIG-LIMIT",
          nodes_ > limits_.max_nodes
              ? "config has more than " + std::to_string(limits_.max_nodes) +
                    " values; the rest was not inspected"
              : "config nests deeper than " + std::to_string(limits_.max_walk_depth) +
                    " levels; deeper objects were not inspected",
          {});
      stopped_ = true;
      return;
    }
    if (v.is_object()) {
      const char* child_skip = nullptr;
      if (const json* cn = member(v, "class_name"); cn && cn->is_string())
        child_skip = check_object(v, cn->get<std::string>());
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (skip_key && it.key() == skip_key) continue;
        path_.push_back("." + it.key());
        visit(it.value(), depth + 1, it.key() == "config" ? child_skip : nullptr);
        path_.pop_back();
      }
    } else if (v.is_array()) {
      size_t i = 0;
      for (const auto& e : v) {
        path_.push_back("[" + std::to_string(i++) + "]");
        visit(e, depth + 1);
        path_.pop_back();
      }
    }
  }

  // Strings naming losses/metrics in a training or compile config.
  void check_training_names(const json& v, const std::string& field, int depth) {
    if (depth > 16) return;
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (!is_builtin_loss_or_metric(s))
        add(SECMLOPS_SEVERITY_LOW, "KERAS-CUSTOM-TRAINING-FUNCTION",
            field + " names '" + shorten(s, 80) +
                "', not a Keras built-in: loading needs custom code",
            {{"name", shorten(s, 80)}, {"field", field}});
    } else if (v.is_array()) {
      for (const auto& e : v) check_training_names(e, field, depth + 1);
    } else if (v.is_object()) {
      if (member(v, "class_name")) {
        // MeanMetricWrapper-style objects name their function in config.fn.
        if (const json* c = member(v, "config"); c && member(*c, "fn"))
          check_training_names(*member(*c, "fn"), field, depth + 1);
        return;
      }
      for (const auto& e : v) check_training_names(e, field, depth + 1);
    }
  }

 private:
  void add(secmlops_severity sev, const std::string& rule, std::string message, Evidence evidence) {
    std::string where;
    for (const auto& p : path_) where += p;
    if (!where.empty() && where[0] == '.') where.erase(0, 1);
    where = std::string(origin_) + (where.empty() ? "" : ": " + where);
    out_.push_back(
        {sev, rule, std::move(message), offset_, shorten(where, 400), std::move(evidence)});
  }

  static std::string display_name(const json& obj) {
    const json* cfg = member(obj, "config");
    std::string n = cfg ? str_member(*cfg, "name") : std::string();
    if (n.empty()) n = str_member(obj, "name");
    return n.empty() ? "(unnamed)" : shorten(n, 80);
  }

  Evidence code_evidence(const std::string& b64, Evidence ev) {
    auto decoded = decode_base64(b64);
    if (!decoded) {
      ev.emplace_back("encoding", "not base64 (" + std::to_string(b64.size()) + " characters)");
      return ev;
    }
    BytecodeEvidence bc = peek_marshalled_code(*decoded);
    ev.emplace_back("bytecode_bytes", std::to_string(bc.bytes));
    if (!bc.strings.empty()) ev.emplace_back("names", shorten(join(bc.strings), 400));
    if (!bc.suspicious.empty()) ev.emplace_back("suspicious_names", join(bc.suspicious));
    return ev;
  }

  // Flags one object with a class_name; returns the key of its config to leave out of the walk.
  const char* check_object(const json& obj, const std::string& cn) {
    const std::string module = str_member(obj, "module");
    const std::string registered = str_member(obj, "registered_name");
    if (cn == "Lambda") {
      check_lambda(obj);
      return "function";
    }
    if (cn == "__lambda__" || cn == "__python_function__") {
      const json* cfg = member(obj, "config");
      std::string code = cfg ? str_member(*cfg, "code") : std::string();
      add(SECMLOPS_SEVERITY_CRITICAL, "KERAS-SERIALIZED-FUNCTION",
          "config embeds a serialized Python function (" + cn +
              ") that runs when the model is used",
          code.empty() ? Evidence{{"class_name", cn}} : code_evidence(code, {{"class_name", cn}}));
      return "code";
    }
    if (cn == "TorchModuleWrapper") {
      add(SECMLOPS_SEVERITY_CRITICAL, "KERAS-PICKLED-MODULE",
          "TorchModuleWrapper layer '" + display_name(obj) +
              "' stores a pickled torch module; loading it unpickles (runs) arbitrary code",
          {{"layer", display_name(obj)}});
      return "module";
    }
    check_paths(obj, cn);
    if (!module.empty()) {
      check_module(obj, cn, module, registered);
      return nullptr;
    }
    if (auto gt = cn.find('>'); gt != std::string::npos) {
      std::string pkg = cn.substr(0, gt), base = cn.substr(gt + 1);
      if (!(pkg == "Custom" && is_builtin_optimizer(base)) && !is_keras_module(pkg))
        add(SECMLOPS_SEVERITY_MEDIUM, "KERAS-CUSTOM-OBJECT",
            "custom object '" + shorten(cn, 80) + "' ('" + display_name(obj) +
                "') is not part of Keras: its code comes from outside the file",
            {{"class_name", shorten(cn, 80)}});
    } else if (!is_builtin_class(cn)) {
      add(SECMLOPS_SEVERITY_MEDIUM, "KERAS-CUSTOM-OBJECT",
          "class '" + shorten(cn, 80) + "' ('" + display_name(obj) +
              "') is not a Keras built-in: its code comes from outside the file",
          {{"class_name", shorten(cn, 80)}});
    }
    return nullptr;
  }

  // Built-in layers that read a path of the config's choosing when the model is loaded.
  void check_paths(const json& obj, const std::string& cn) {
    const json* cfg = member(obj, "config");
    if (cfg == nullptr || !cfg->is_object()) return;
    if (cn == "TFSMLayer") {
      std::string path = str_member(*cfg, "filepath");
      if (!path.empty())
        add(SECMLOPS_SEVERITY_HIGH, "KERAS-LOADS-EXTERNAL-MODEL",
            "TFSMLayer '" + display_name(obj) + "' loads the SavedModel at '" + shorten(path, 200) +
                "' when the model is loaded: graphs and functions from outside the file",
            {{"layer", display_name(obj)}, {"path", shorten(path, 200)}});
    } else if (cn == "TextVectorization" || cn == "StringLookup" || cn == "IntegerLookup") {
      // A string vocabulary is a file path, read at load (an inline vocabulary is a list).
      std::string path = str_member(*cfg, "vocabulary");
      if (!path.empty())
        add(SECMLOPS_SEVERITY_HIGH, "KERAS-READS-PATH",
            cn + " '" + display_name(obj) + "' reads its vocabulary from '" + shorten(path, 200) +
                "' when the model is loaded: a file of the loading machine ends up in the model",
            {{"layer", display_name(obj)}, {"path", shorten(path, 200)}});
    }
  }

  void check_module(const json& obj, const std::string& cn, const std::string& module,
                    const std::string& registered) {
    const json* cfg = member(obj, "config");
    std::string target = cfg && cfg->is_string() ? cfg->get<std::string>() : cn;
    Evidence ev{{"module", shorten(module, 80)}, {"class_name", shorten(cn, 80)}};
    if (cfg && cfg->is_string()) ev.emplace_back("function", shorten(target, 80));
    if (is_dangerous_module(module)) {
      add(SECMLOPS_SEVERITY_CRITICAL, "KERAS-DANGEROUS-MODULE",
          "config makes Keras import '" + shorten(module, 80) + "." + shorten(target, 80) +
              "', a module that executes commands or touches files",
          std::move(ev));
    } else if (!is_keras_module(module)) {
      add(SECMLOPS_SEVERITY_HIGH, "KERAS-EXTERNAL-MODULE",
          "config imports '" + shorten(cn, 80) + "' from module '" + shorten(module, 80) +
              "' outside Keras: loading imports and runs that module's code",
          std::move(ev));
    } else if (cn == "function" && is_dangerous_keras_function(target)) {
      add(SECMLOPS_SEVERITY_HIGH, "KERAS-DANGEROUS-KERAS-FUNCTION",
          "config calls keras function '" + shorten(target, 80) +
              "', which loads models, downloads files or turns safe mode off",
          std::move(ev));
    } else if (auto gt = registered.find('>');
               gt != std::string::npos && !is_keras_module(registered.substr(0, gt))) {
      ev.emplace_back("registered_name", shorten(registered, 80));
      add(SECMLOPS_SEVERITY_MEDIUM, "KERAS-CUSTOM-OBJECT",
          "object registered as '" + shorten(registered, 80) +
              "' is not part of Keras: its code comes from outside the file",
          std::move(ev));
    }
  }

  void check_lambda(const json& obj) {
    const std::string layer = display_name(obj);
    const json* cfg = member(obj, "config");
    const json* fn = cfg ? member(*cfg, "function") : nullptr;
    const std::string fn_type = cfg ? str_member(*cfg, "function_type") : std::string();
    std::string code, fn_module, fn_name;
    if (fn && fn->is_string()) {
      if (fn_type == "function") {
        fn_name = fn->get<std::string>();
        fn_module = str_member(*cfg, "module");
      } else {
        code = fn->get<std::string>();
      }
    } else if (fn && fn->is_array() && !fn->empty() && (*fn)[0].is_string()) {
      code = (*fn)[0].get<std::string>();
    } else if (fn && fn->is_object()) {
      const std::string fcn = str_member(*fn, "class_name");
      const json* fcfg = member(*fn, "config");
      if (fcn == "__lambda__" && fcfg) {
        code = str_member(*fcfg, "code");
      } else if (fcfg && fcfg->is_string()) {
        fn_name = fcfg->get<std::string>();
        fn_module = str_member(*fn, "module");
      }
    }
    Evidence ev{{"layer", layer}};
    if (!code.empty()) {
      add(SECMLOPS_SEVERITY_CRITICAL, "KERAS-LAMBDA-LAYER",
          "Lambda layer '" + layer +
              "' carries serialized Python bytecode that runs when the model is loaded or called",
          code_evidence(code, std::move(ev)));
    } else if (!fn_name.empty()) {
      ev.emplace_back("module", shorten(fn_module, 80));
      ev.emplace_back("function", shorten(fn_name, 80));
      if (is_dangerous_module(fn_module))
        add(SECMLOPS_SEVERITY_CRITICAL, "KERAS-DANGEROUS-MODULE",
            "Lambda layer '" + layer + "' calls '" + shorten(fn_module, 80) + "." +
                shorten(fn_name, 80) + "', a function that executes commands or touches files",
            std::move(ev));
      else if (is_keras_module(fn_module) && is_dangerous_keras_function(fn_name))
        add(SECMLOPS_SEVERITY_HIGH, "KERAS-DANGEROUS-KERAS-FUNCTION",
            "Lambda layer '" + layer + "' calls keras function '" + shorten(fn_name, 80) +
                "', which loads models, downloads files or turns safe mode off",
            std::move(ev));
      else
        add(SECMLOPS_SEVERITY_HIGH, "KERAS-LAMBDA-FUNCTION-REFERENCE",
            "Lambda layer '" + layer + "' calls Python function '" + shorten(fn_name, 80) +
                "' from module '" + shorten(fn_module, 80) + "'",
            std::move(ev));
    } else {
      add(SECMLOPS_SEVERITY_HIGH, "KERAS-LAMBDA-LAYER",
          "Lambda layer '" + layer + "' wraps Python code in a form this scanner does not decode",
          std::move(ev));
    }
    if (cfg && str_member(*cfg, "output_shape_type") == "lambda") {
      const json* os = member(*cfg, "output_shape");
      std::string os_code = os && os->is_string() ? os->get<std::string>()
                            : os && os->is_array() && !os->empty() && (*os)[0].is_string()
                                ? (*os)[0].get<std::string>()
                                : std::string();
      add(SECMLOPS_SEVERITY_CRITICAL, "KERAS-SERIALIZED-FUNCTION",
          "Lambda layer '" + layer + "' computes its output shape with serialized Python bytecode",
          os_code.empty() ? Evidence{{"layer", layer}}
                          : code_evidence(os_code, {{"layer", layer}}));
    }
  }

  std::string_view origin_;
  uint64_t offset_;
  const WalkLimits& limits_;
  Findings& out_;
  std::vector<std::string> path_;
  uint64_t nodes_ = 0;
  bool stopped_ = false;
};

void check_training_fields(Walker& w, const json& config) {
  if (!config.is_object()) return;
  for (const char* field : {"loss", "metrics", "weighted_metrics"})
    if (const json* v = member(config, field)) w.check_training_names(*v, field, 0);
}

}  // namespace

bool parse_json(std::string_view text, const WalkLimits& limits, json& out, std::string& error,
                uint64_t& error_at) {
  if (text.size() > limits.max_json_bytes) {
    error = "JSON document of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
            std::to_string(limits.max_json_bytes);
    error_at = 0;
    return false;
  }
  try {
    out = json::parse(text.begin(), text.end(), [&](int depth, json::parse_event_t, json&) {
      if (depth > limits.max_parse_depth) throw TooDeep();
      return true;
    });
    return true;
  } catch (const json::parse_error& e) {
    error = std::string("invalid JSON: ") + e.what();
    error_at = e.byte > 0 ? e.byte - 1 : 0;
  } catch (const TooDeep&) {
    error = "JSON nests deeper than " + std::to_string(limits.max_parse_depth) + " levels";
    error_at = 0;
  } catch (const json::exception& e) {
    // Valid syntax that still cannot be represented, e.g. a number beyond a double (406).
    error = std::string("unreadable JSON: ") + e.what();
    error_at = 0;
  }
  return false;
}

void walk_model_config(const json& config, std::string_view origin, uint64_t offset,
                       const WalkLimits& limits, Findings& out) {
  Walker w(origin, offset, limits, out);
  w.visit(config, 0);
  // Keras 3 keeps the compile() arguments next to the model.
  if (const json* cc = member(config, "compile_config")) check_training_fields(w, *cc);
}

void walk_training_config(const json& config, std::string_view origin, uint64_t offset,
                          const WalkLimits& limits, Findings& out) {
  Walker w(origin, offset, limits, out);
  w.visit(config, 0);
  check_training_fields(w, config);
}

DocumentResult analyze_config_json(std::string_view text, const WalkLimits& limits) {
  DocumentResult r;
  json doc;
  if (!parse_json(text, limits, doc, r.error, r.error_at)) return r;
  if (!doc.is_object()) {
    r.error = "config.json is not a JSON object";
    return r;
  }
  walk_model_config(doc, "config.json", SECMLOPS_NO_OFFSET, limits, r.findings);
  return r;
}

DocumentResult analyze_metadata_json(std::string_view text, const WalkLimits& limits) {
  DocumentResult r;
  json doc;
  if (!parse_json(text, limits, doc, r.error, r.error_at)) return r;
  if (!doc.is_object()) {
    r.error = "metadata.json is not a JSON object";
    return r;
  }
  Evidence ev;
  for (auto it = doc.begin(); it != doc.end() && ev.size() < 16; ++it)
    if (it.value().is_primitive()) {
      std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      ev.emplace_back(shorten(it.key(), 64), shorten(v));
    }
  std::string version = str_member(doc, "keras_version");
  std::string date = str_member(doc, "date_saved");
  r.findings.push_back(
      {SECMLOPS_SEVERITY_INFO, "KERAS-METADATA",
       "saved by Keras " +
           (version.empty() ? std::string("(unknown version)") : shorten(version, 40)) +
           (date.empty() ? std::string() : " on " + shorten(date, 40)),
       SECMLOPS_NO_OFFSET, "metadata.json", std::move(ev)});
  return r;
}

uint32_t probe_json(sdk::Bytes head, std::string_view name, const char*& format) {
  size_t i = 0;
  if (head.size() >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) i = 3;
  while (i < head.size() &&
         (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t'))
    ++i;
  if (i >= head.size() || head[i] != '{') return 0;
  std::string_view text(reinterpret_cast<const char*>(head.data()) + i, head.size() - i);
  auto has = [&](std::string_view key) { return text.find(key) != std::string_view::npos; };
  if (has("\"class_name\"") && has("\"config\"")) {
    format = "keras-config";
    return has("\"module\"") || has("\"keras_version\"") ? 70 : 55;
  }
  if (has("\"keras_version\"") && has("\"date_saved\"")) {
    format = "keras-metadata";
    return 70;
  }
  // Keras loads a .keras archive's `config.json` by its name, whatever its first bytes hold: a
  // long field (or keys spelled with \u escapes) can push the keys past any probe window. Such a
  // member is walked whole; JSON that is no Keras config yields no finding.
  size_t slash = name.find_last_of("/\\");
  if (name.substr(slash == std::string_view::npos ? 0 : slash + 1) == "config.json") {
    format = "keras-config";
    return 35;
  }
  return 0;
}

}  // namespace secmlops::plugins::keras
