#include "policy.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace secmlops::plugins::pickle {
namespace {

// Module aliases: platform modules, C accelerators and Python 2 names, mapped to the module
// whose policy applies. Matched on whole dotted prefixes.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"__builtin__", "builtins"}, {"__builtins__", "builtins"}, {"exceptions", "builtins"},
    {"posix", "os"}, {"nt", "os"}, {"posixpath", "os.path"}, {"ntpath", "os.path"},
    {"genericpath", "os.path"}, {"macpath", "os.path"},
    {"cPickle", "pickle"}, {"_pickle", "pickle"}, {"copy_reg", "copyreg"},
    {"_codecs", "codecs"}, {"_io", "io"}, {"_operator", "operator"}, {"_functools", "functools"},
    {"_socket", "socket"}, {"thread", "_thread"}, {"dummy_thread", "_thread"},
    {"_ctypes", "ctypes"}, {"imp", "importlib"}, {"_imp", "importlib"},
    {"_marshal", "marshal"}, {"urllib2", "urllib.request"}, {"httplib", "http.client"},
    {"SocketServer", "socketserver"}, {"SimpleHTTPServer", "http.server"},
    {"BaseHTTPServer", "http.server"}, {"CGIHTTPServer", "http.server"},
    {"cookielib", "http.cookiejar"}, {"StringIO", "io"}, {"cStringIO", "io"},
    {"Tkinter", "tkinter"}, {"numpy._core", "numpy.core"},
    {"sklearn.externals.joblib", "joblib"}, {"_asyncio", "asyncio"}, {"_multiprocessing", "multiprocessing"},
    {"_posixshmem", "multiprocessing"}, {"_lsprof", "cProfile"}, {"_sqlite3", "sqlite3"},
    {"_ssl", "ssl"}, {"_thread", "_thread"}, {"_weakref", "weakref"}, {"_sre", "re"},
};

// Attribute names through which one module reaches another (re-exports): `tempfile._os`,
// `subprocess.os`, `torch.serialization.pickle`… A path through one of them is judged as the
// module it reaches, too.
constexpr std::pair<std::string_view, std::string_view> kReexports[] = {
    {"os", "os"}, {"_os", "os"}, {"posix", "os"}, {"nt", "os"}, {"sys", "sys"}, {"_sys", "sys"},
    {"subprocess", "subprocess"}, {"_subprocess", "subprocess"}, {"builtins", "builtins"},
    {"__builtins__", "builtins"}, {"_builtins", "builtins"}, {"__builtin__", "builtins"},
    {"pickle", "pickle"}, {"_pickle", "pickle"}, {"cPickle", "pickle"}, {"marshal", "marshal"},
    {"importlib", "importlib"}, {"_imp", "importlib"}, {"io", "io"}, {"_io", "io"},
    {"shutil", "shutil"}, {"socket", "socket"}, {"ctypes", "ctypes"}, {"runpy", "runpy"},
    {"pty", "pty"}, {"code", "code"}, {"pdb", "pdb"}, {"codecs", "codecs"},
    {"operator", "operator"}, {"_operator", "operator"}, {"functools", "functools"},
    {"tempfile", "tempfile"}, {"multiprocessing", "multiprocessing"}, {"threading", "threading"},
    {"dill", "dill"}, {"cloudpickle", "cloudpickle"}, {"torch", "torch"}, {"numpy", "numpy"},
    {"np", "numpy"}, {"joblib", "joblib"}, {"yaml", "yaml"}, {"_posixsubprocess", "_posixsubprocess"},
};

// Names that, in an otherwise unknown module, almost always wrap command or code execution.
constexpr std::string_view kSuspiciousNames[] = {
    "system", "popen", "popen2", "popen3", "popen4", "spawn", "spawnl", "spawnv", "spawnve",
    "spawnvp", "execv", "execve", "execvp", "execl", "execlp", "execfile", "eval", "exec",
    "__import__", "check_output", "check_call", "getoutput", "getstatusoutput", "Popen",
    "run_command", "run_script", "runcode", "runsource", "load_source", "import_module",
    "unsafe_load", "load_model", "loads", "_run_pip", "startfile", "fork_exec",
};

bool is_dunder(std::string_view part) {
  return part.size() > 4 && part.substr(0, 2) == "__" && part.substr(part.size() - 2) == "__";
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool matches(std::string_view pattern, std::string_view path) {
  if (!pattern.empty() && pattern.back() == '.') return path.substr(0, pattern.size()) == pattern;
  return path == pattern || (path.size() > pattern.size() && path.substr(0, pattern.size()) == pattern &&
                             path[pattern.size()] == '.');
}

int rank(secmlops_severity s) { return static_cast<int>(s); }

secmlops_severity parse_severity(const std::string& s, const std::string& where) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "CRITICAL") return SECMLOPS_SEVERITY_CRITICAL;
  if (u == "HIGH") return SECMLOPS_SEVERITY_HIGH;
  if (u == "MEDIUM") return SECMLOPS_SEVERITY_MEDIUM;
  if (u == "LOW") return SECMLOPS_SEVERITY_LOW;
  if (u == "INFO") return SECMLOPS_SEVERITY_INFO;
  throw std::runtime_error(where + ": severity must be CRITICAL, HIGH, MEDIUM, LOW or INFO, got '" + s + "'");
}

}  // namespace

Policy::Policy(bool allowlist) : allowlist_(allowlist) {}

std::string Policy::normalise_module(std::string_view module) {
  std::string_view best_from, best_to;
  for (const auto& [from, to] : kAliases)
    if (matches(from, module) && from.size() > best_from.size()) {
      best_from = from;
      best_to = to;
    }
  if (best_from.empty()) return std::string(module);
  return std::string(best_to) + std::string(module.substr(best_from.size()));
}

const PolicyEntry* Policy::best_match(const std::vector<PolicyEntry>& table,
                                      std::string_view path) const {
  const PolicyEntry* best = nullptr;
  for (const auto& e : table) {
    if (!matches(e.pattern, path)) continue;
    if (best == nullptr || e.pattern.size() > best->pattern.size() ||
        (e.pattern.size() == best->pattern.size() && e.action == Action::kDeny))
      best = &e;
  }
  return best;
}

Verdict Policy::classify(std::string_view module, std::string_view name) const {
  Verdict v;
  std::string full = normalise_module(module);
  if (!name.empty()) full += "." + std::string(name);
  v.resolved = full;
  v.special = special_of(full);

  // Candidate paths: the path itself and every path through a re-exported module.
  std::vector<std::string> candidates{full};
  auto parts = split(full);
  bool dunder = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (is_dunder(parts[i]) && parts[i] != "__newobj__" && parts[i] != "__newobj_ex__" &&
        parts[i] != "__import__" && parts[i] != "__build_class__")
      dunder = true;
    // Also when the path ends there: `numpy.lib.npyio.os` is the os module itself.
    for (const auto& [attr, target] : kReexports)
      if (parts[i] == attr) {
        std::string c(target);
        for (size_t j = i + 1; j < parts.size(); ++j) c += "." + std::string(parts[j]);
        candidates.push_back(normalise_module(c));
      }
  }

  // A user policy wins over the built-in one: its longest match on the path itself decides.
  if (const auto* u = best_match(user_, full)) {
    if (u->action == Action::kSafe) {
      v.action = Action::kSafe;
      v.severity = SECMLOPS_SEVERITY_INFO;
      return v;
    }
    v.action = Action::kDeny;
    v.severity = u->severity;
    v.rule = u->rule.empty() ? "PICKLE-POLICY-DENY" : u->rule;
    v.reason = u->reason.empty() ? "denied by the user policy (" + u->pattern + ")" : u->reason;
    return v;
  }

  // The worst deny over every candidate.
  bool safe = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto* e = best_match(builtin_policy(), candidates[i]);
    if (e == nullptr) continue;
    if (e->action == Action::kSafe) {
      if (i == 0) safe = true;
      continue;
    }
    if (v.action != Action::kDeny || rank(e->severity) > rank(v.severity)) {
      v.action = Action::kDeny;
      v.severity = e->severity;
      v.rule = e->rule;
      v.reason = e->reason;
      if (i != 0) v.reason += " (reached as " + full + ")";
      v.resolved = candidates[i];
    }
  }
  if (v.action == Action::kDeny) return v;
  if (dunder) {
    v.action = Action::kDeny;
    v.severity = SECMLOPS_SEVERITY_HIGH;
    v.rule = "PICKLE-DUNDER-TRAVERSAL";
    v.reason = "walks dunder attributes (e.g. __globals__, __class__) to reach other objects";
    return v;
  }
  if (safe) {
    v.action = Action::kSafe;
    v.severity = SECMLOPS_SEVERITY_INFO;
    return v;
  }
  std::string_view last = parts.back();
  for (auto n : kSuspiciousNames)
    if (last == n) {
      v.action = Action::kDeny;
      v.severity = SECMLOPS_SEVERITY_HIGH;
      v.rule = "PICKLE-SUSPICIOUS-NAME";
      v.reason = "unknown module exposing a function named like a command or code runner";
      break;
    }
  if (v.action == Action::kDeny) {
    if (allowlist_ && rank(v.severity) < rank(SECMLOPS_SEVERITY_HIGH)) v.severity = SECMLOPS_SEVERITY_HIGH;
    return v;
  }
  if (allowlist_) {
    v.action = Action::kDeny;
    v.severity = SECMLOPS_SEVERITY_HIGH;
    v.rule = "PICKLE-NOT-ALLOWLISTED";
    v.reason = "allowlist mode: only known-safe globals may be imported";
    return v;
  }
  v.action = Action::kUnknown;
  v.severity = SECMLOPS_SEVERITY_LOW;
  v.rule = "PICKLE-UNKNOWN-IMPORT";
  v.reason = "imports a global that is neither known-safe nor known-dangerous";
  return v;
}

void Policy::load_yaml(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("policy: not valid YAML: " + std::string(e.what()));
  }
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) throw std::runtime_error("policy: the document must be a mapping");
  YAML::Node section = root["pickle"];
  if (!section) return;
  if (!section.IsMap()) throw std::runtime_error("policy: 'pickle' must be a mapping");
  try {
    if (auto mode = section["mode"]) {
      std::string m = mode.as<std::string>();
      if (m == "allowlist") allowlist_ = true;
      else if (m == "default") allowlist_ = false;
      else throw std::runtime_error("policy: pickle.mode must be 'default' or 'allowlist', got '" + m + "'");
    }
    if (auto allow = section["allow"]) {
      if (!allow.IsSequence()) throw std::runtime_error("policy: pickle.allow must be a list");
      for (const auto& a : allow) {
        std::string pattern = a.IsMap() ? a["global"].as<std::string>("") : a.as<std::string>();
        if (pattern.empty()) throw std::runtime_error("policy: pickle.allow entry without a global");
        user_.push_back({pattern, Action::kSafe, SECMLOPS_SEVERITY_INFO, "", ""});
      }
    }
    if (auto deny = section["deny"]) {
      if (!deny.IsSequence()) throw std::runtime_error("policy: pickle.deny must be a list");
      for (const auto& d : deny) {
        PolicyEntry e;
        e.action = Action::kDeny;
        if (d.IsMap()) {
          e.pattern = d["global"].as<std::string>("");
          e.severity = parse_severity(d["severity"].as<std::string>("HIGH"), "policy: pickle.deny[" + e.pattern + "]");
          e.reason = d["reason"].as<std::string>("");
          e.rule = d["rule"].as<std::string>("");
        } else {
          e.pattern = d.as<std::string>();
        }
        if (e.pattern.empty()) throw std::runtime_error("policy: pickle.deny entry without a global");
        user_.push_back(std::move(e));
      }
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("policy: " + std::string(e.what()));
  }
  // Patterns are written with the module names users know (posix.system) but matched after
  // normalisation, like the globals they are compared with.
  for (auto& e : user_) e.pattern = normalise_module(e.pattern);
}

}  // namespace secmlops::plugins::pickle
