#include "policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace secmlops::plugins::pickle {
namespace {

// Module aliases: platform modules, C accelerators and Python 2 names, mapped to the module
// whose policy applies. Matched on whole dotted prefixes.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"__builtin__", "builtins"},
    {"__builtins__", "builtins"},
    {"exceptions", "builtins"},
    {"posix", "os"},
    {"nt", "os"},
    {"posixpath", "os.path"},
    {"ntpath", "os.path"},
    {"genericpath", "os.path"},
    {"macpath", "os.path"},
    {"cPickle", "pickle"},
    {"_pickle", "pickle"},
    {"copy_reg", "copyreg"},
    {"_codecs", "codecs"},
    {"_io", "io"},
    {"_operator", "operator"},
    {"_functools", "functools"},
    {"_socket", "socket"},
    {"thread", "_thread"},
    {"dummy_thread", "_thread"},
    {"_ctypes", "ctypes"},
    {"imp", "importlib"},
    {"_imp", "importlib"},
    {"_marshal", "marshal"},
    {"urllib2", "urllib.request"},
    {"httplib", "http.client"},
    {"SocketServer", "socketserver"},
    {"SimpleHTTPServer", "http.server"},
    {"BaseHTTPServer", "http.server"},
    {"CGIHTTPServer", "http.server"},
    {"cookielib", "http.cookiejar"},
    {"StringIO", "io"},
    {"cStringIO", "io"},
    {"Tkinter", "tkinter"},
    {"numpy._core", "numpy.core"},
    {"sklearn.externals.joblib", "joblib"},
    {"_asyncio", "asyncio"},
    {"_multiprocessing", "multiprocessing"},
    {"_posixshmem", "multiprocessing"},
    {"_lsprof", "cProfile"},
    {"_sqlite3", "sqlite3"},
    {"_ssl", "ssl"},
    {"_thread", "_thread"},
    {"_weakref", "weakref"},
    {"_sre", "re"},
    // The rest of CPython's _compat_pickle.IMPORT_MAPPING (applied by the unpickler to
    // protocol 0-2 pickles; at protocol 3+ the Python 2 name does not import, so judging the
    // target is the conservative reading) and the pure-Python twins of C modules.
    {"Queue", "queue"},
    {"ConfigParser", "configparser"},
    {"repr", "reprlib"},
    {"markupbase", "_markupbase"},
    {"_winreg", "winreg"},
    {"_dummy_thread", "_thread"},
    {"dbhash", "dbm"},
    {"dumbdbm", "dbm"},
    {"gdbm", "dbm"},
    {"anydbm", "dbm"},
    {"whichdb", "dbm"},
    {"xmlrpclib", "xmlrpc.client"},
    {"SimpleXMLRPCServer", "xmlrpc.server"},
    {"DocXMLRPCServer", "xmlrpc.server"},
    {"htmlentitydefs", "html.entities"},
    {"HTMLParser", "html.parser"},
    {"Cookie", "http.cookies"},
    {"test.test_support", "test.support"},
    {"commands", "subprocess"},
    {"urlparse", "urllib.parse"},
    {"robotparser", "urllib.robotparser"},
    {"_abcoll", "collections.abc"},
    {"_elementtree", "xml.etree.ElementTree"},
    {"UserDict", "collections"},
    {"UserList", "collections"},
    {"UserString", "collections"},
    {"tkFileDialog", "tkinter"},
    {"tkSimpleDialog", "tkinter"},
    {"Tix", "tkinter"},
    {"ttk", "tkinter"},
    {"_pyio", "io"},
    {"_pydatetime", "datetime"},
    {"_pydecimal", "decimal"},
    {"_collections", "collections"},
    {"_datetime", "datetime"},
    {"_decimal", "decimal"},
    {"_bz2", "bz2"},
    {"_lzma", "lzma"},
    {"_gdbm", "dbm"},
    {"_dbm", "dbm"},
    {"_bootsubprocess", "subprocess"},
    {"_winapi", "subprocess"},
    {"_socket", "socket"},
    {"_signal", "signal"},
    {"_tracemalloc", "tracemalloc"},
};

// _compat_pickle.NAME_MAPPING: Python 2 (module, name) pairs the unpickler renames.
constexpr std::pair<std::pair<std::string_view, std::string_view>,
                    std::pair<std::string_view, std::string_view>>
    kNameMapping[] = {
        {{"__builtin__", "xrange"}, {"builtins", "range"}},
        {{"__builtin__", "reduce"}, {"functools", "reduce"}},
        {{"__builtin__", "intern"}, {"sys", "intern"}},
        {{"__builtin__", "unichr"}, {"builtins", "chr"}},
        {{"__builtin__", "unicode"}, {"builtins", "str"}},
        {{"__builtin__", "long"}, {"builtins", "int"}},
        {{"__builtin__", "basestring"}, {"builtins", "str"}},
        {{"itertools", "izip"}, {"builtins", "zip"}},
        {{"itertools", "imap"}, {"builtins", "map"}},
        {{"itertools", "ifilter"}, {"builtins", "filter"}},
        {{"itertools", "ifilterfalse"}, {"itertools", "filterfalse"}},
        {{"itertools", "izip_longest"}, {"itertools", "zip_longest"}},
        {{"UserDict", "IterableUserDict"}, {"collections", "UserDict"}},
        {{"whichdb", "whichdb"}, {"dbm", "whichdb"}},
        {{"_socket", "fromfd"}, {"socket", "fromfd"}},
        {{"_multiprocessing", "Connection"}, {"multiprocessing.connection", "Connection"}},
        {{"multiprocessing.process", "Process"}, {"multiprocessing.context", "Process"}},
        {{"multiprocessing.forking", "Popen"}, {"multiprocessing.popen_fork", "Popen"}},
        {{"urllib", "urlopen"}, {"urllib.request", "urlopen"}},
        {{"urllib", "urlretrieve"}, {"urllib.request", "urlretrieve"}},
        {{"urllib", "urlcleanup"}, {"urllib.request", "urlcleanup"}},
        {{"urllib", "getproxies"}, {"urllib.request", "getproxies"}},
        {{"socket", "_socketobject"}, {"socket", "SocketType"}},
};

// Attribute names through which one module reaches another (re-exports): `tempfile._os`,
// `subprocess.os`, `torch.serialization.pickle`… A path through one of them is judged as the
// module it reaches, too.
constexpr std::pair<std::string_view, std::string_view> kReexports[] = {
    {"os", "os"},
    {"_os", "os"},
    {"posix", "os"},
    {"nt", "os"},
    {"sys", "sys"},
    {"_sys", "sys"},
    {"subprocess", "subprocess"},
    {"_subprocess", "subprocess"},
    {"builtins", "builtins"},
    {"__builtins__", "builtins"},
    {"_builtins", "builtins"},
    {"__builtin__", "builtins"},
    {"pickle", "pickle"},
    {"_pickle", "pickle"},
    {"cPickle", "pickle"},
    {"marshal", "marshal"},
    {"importlib", "importlib"},
    {"_imp", "importlib"},
    {"io", "io"},
    {"_io", "io"},
    {"shutil", "shutil"},
    {"socket", "socket"},
    {"ctypes", "ctypes"},
    {"runpy", "runpy"},
    {"pty", "pty"},
    {"code", "code"},
    {"pdb", "pdb"},
    {"codecs", "codecs"},
    {"operator", "operator"},
    {"_operator", "operator"},
    {"functools", "functools"},
    {"tempfile", "tempfile"},
    {"multiprocessing", "multiprocessing"},
    {"threading", "threading"},
    {"dill", "dill"},
    {"cloudpickle", "cloudpickle"},
    {"torch", "torch"},
    {"numpy", "numpy"},
    {"np", "numpy"},
    {"joblib", "joblib"},
    {"yaml", "yaml"},
    {"_posixsubprocess", "_posixsubprocess"},
};

// Names that, in an otherwise unknown module, almost always wrap command or code execution.
constexpr std::string_view kSuspiciousNames[] = {
    "system",      "popen",         "popen2",          "popen3",
    "popen4",      "spawn",         "spawnl",          "spawnv",
    "spawnve",     "spawnvp",       "execv",           "execve",
    "execvp",      "execl",         "execlp",          "execfile",
    "eval",        "exec",          "__import__",      "check_output",
    "check_call",  "getoutput",     "getstatusoutput", "Popen",
    "run_command", "run_script",    "runcode",         "runsource",
    "load_source", "import_module", "unsafe_load",     "load_model",
    "loads",       "_run_pip",      "startfile",       "fork_exec",
};

bool is_dunder(std::string_view part) {
  return part.size() > 4 && part.substr(0, 2) == "__" && part.substr(part.size() - 2) == "__";
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.push_back(
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool matches(std::string_view pattern, std::string_view path) {
  if (!pattern.empty() && pattern.back() == '.') return path.substr(0, pattern.size()) == pattern;
  return path == pattern ||
         (path.size() > pattern.size() && path.substr(0, pattern.size()) == pattern &&
          path[pattern.size()] == '.');
}

int rank(secmlops_severity s) { return static_cast<int>(s); }

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

const PolicyEntry* Policy::best_match(const std::vector<PolicyEntry>& table, std::string_view path,
                                      std::optional<Action> only) const {
  const PolicyEntry* best = nullptr;
  for (const auto& e : table) {
    if (only && e.action != *only) continue;
    if (!matches(e.pattern, path)) continue;
    if (best == nullptr || e.pattern.size() > best->pattern.size() ||
        (e.pattern.size() == best->pattern.size() && e.action == Action::kDeny))
      best = &e;
  }
  return best;
}

bool Policy::map_python2_name(std::string_view module, std::string_view name,
                              std::string& out_module, std::string& out_name) {
  for (const auto& [from, to] : kNameMapping)
    if (from.first == module && from.second == name) {
      out_module = to.first;
      out_name = to.second;
      return true;
    }
  return false;
}

namespace {

// First components of the deny table (`os`, `platform`, `weakref` …) plus the re-export
// aliases: an attribute component with one of these names is judged as that module too.
bool names_a_module(std::string_view part) {
  static const std::vector<std::string> roots = [] {
    std::vector<std::string> r;
    for (const auto& e : builtin_policy()) {
      if (e.action != Action::kDeny) continue;
      std::string_view p = e.pattern;
      std::string root(p.substr(0, p.find('.')));
      if (std::find(r.begin(), r.end(), root) == r.end()) r.push_back(root);
    }
    std::sort(r.begin(), r.end());
    return r;
  }();
  return std::binary_search(roots.begin(), roots.end(), part);
}

// A module-level name that a package prefix entry accepts: classes (CapWords) and the pickle
// constructors Cython generates for extension types. Functions must be listed exactly.
bool class_like(std::string_view name) {
  if (name.empty() || name.find('.') != std::string_view::npos) return false;
  if (name.rfind("__pyx_unpickle_", 0) == 0) return true;
  size_t first = name.find_first_not_of('_');  // private classes too: _BinMapper
  return first != std::string_view::npos &&
         std::isupper(static_cast<unsigned char>(name[first])) != 0;
}

void deny(Verdict& v, secmlops_severity severity, std::string rule, std::string reason) {
  v.action = Action::kDeny;
  v.severity = severity;
  v.rule = std::move(rule);
  v.reason = std::move(reason);
}

void apply_user_entry(const PolicyEntry& u, Verdict& v) {
  if (u.action == Action::kSafe) {
    v.action = Action::kSafe;
    v.severity = SECMLOPS_SEVERITY_INFO;
    return;
  }
  deny(v, u.severity, u.rule.empty() ? "PICKLE-POLICY-DENY" : u.rule,
       u.reason.empty() ? "denied by the user policy (" + u.pattern + ")" : u.reason);
}

// Candidate paths: the path itself, and for every attribute component of the name (not of
// the module, whose components are real submodules: numpy.random._pickle is not pickle)
// that names a module, the path read from there (`tempfile` + `_os.system` is os.system).
// Sets `dunder` when an attribute component walks a dunder attribute.
std::vector<std::string> candidate_paths(const std::string& full,
                                         const std::vector<std::string_view>& parts,
                                         size_t module_parts, bool& dunder) {
  std::vector<std::string> candidates{full};
  for (size_t i = module_parts; i < parts.size(); ++i) {
    if (is_dunder(parts[i]) && parts[i] != "__newobj__" && parts[i] != "__newobj_ex__" &&
        parts[i] != "__import__" && parts[i] != "__build_class__")
      dunder = true;
    std::string_view target;
    for (const auto& [attr, to] : kReexports)
      if (parts[i] == attr) target = to;
    if (target.empty() && names_a_module(parts[i])) target = parts[i];
    if (target.empty()) continue;
    // Also when the path ends there: `numpy.lib.npyio.os` is the os module itself.
    std::string c(target);
    for (size_t j = i + 1; j < parts.size(); ++j) {
      c += '.';
      c += parts[j];
    }
    candidates.push_back(Policy::normalise_module(c));
  }
  return candidates;
}

bool suspicious_name(std::string_view last) {
  for (auto n : kSuspiciousNames)
    if (last == n) return true;
  return false;
}

// Neither table knows the global: LOW while only imported; the words of its attribute path
// (not of the module: `numpy.random._pickle` says nothing) say what invoking it reaches.
void judge_unknown(const std::string& full, const std::vector<std::string_view>& parts,
                   size_t module_parts, Verdict& v) {
  v.action = Action::kUnknown;
  v.severity = SECMLOPS_SEVERITY_LOW;
  v.rule = "PICKLE-UNKNOWN-IMPORT";
  v.reason = "imports a global that is neither known-safe nor known-dangerous (not invoked)";
  std::string attr_path;
  for (size_t i = module_parts; i < parts.size(); ++i) {
    if (!attr_path.empty()) attr_path += '.';
    attr_path += parts[i];
  }
  infer_capability(attr_path.empty() ? full : attr_path, v);
  if (!v.call_word.empty()) {
    // Held as a value (a transformer's `func`, a callback in an object's state, an argument a
    // later loader calls): nothing runs at load time, but whoever uses the object calls it, and
    // its name says what that reaches. Below an invoked call's HIGH, above a plain import.
    v.severity = SECMLOPS_SEVERITY_MEDIUM;
    v.rule = "PICKLE-STORED-CALLABLE";
    v.reason = "holds, without calling it, a callable that is not known-safe and " +
               std::string(v.call_reason) + " ('" + std::string(v.call_word) +
               "'): code that uses the loaded object calls it";
  }
}

}  // namespace

// The longest built-in deny entry matching `path` (itself or a dotted prefix of it): one hash
// lookup per component, so a file importing a million distinct globals stays cheap.
const PolicyEntry* Policy::builtin_deny(std::string_view path) const {
  static const std::unordered_map<std::string_view, const PolicyEntry*> deny = [] {
    std::unordered_map<std::string_view, const PolicyEntry*> m;
    for (const auto& e : builtin_policy())
      if (e.action == Action::kDeny) m.emplace(e.pattern, &e);
    return m;
  }();
  while (true) {
    if (auto it = deny.find(path); it != deny.end()) return it->second;
    size_t dot = path.rfind('.');
    if (dot == std::string_view::npos) return nullptr;
    path = path.substr(0, dot);
  }
}

size_t Policy::builtin_safe(std::string_view module, std::string_view name,
                            std::string_view full) const {
  struct Safe {
    std::unordered_set<std::string_view> exact;
    std::vector<std::string_view> prefixes;
  };
  static const Safe safe = [] {
    Safe t;
    for (const auto& e : builtin_policy()) {
      if (e.action != Action::kSafe) continue;
      if (e.pattern.back() == '.')
        t.prefixes.emplace_back(e.pattern);
      else
        t.exact.emplace(e.pattern);
    }
    return t;
  }();
  if (safe.exact.count(full) != 0) return full.size();
  size_t best = 0;
  if (!class_like(name)) return best;
  for (std::string_view pat : safe.prefixes) {
    // Package prefix: module-level classes of modules under it.
    bool under = module.substr(0, pat.size()) == pat || module == pat.substr(0, pat.size() - 1);
    if (under) best = std::max(best, pat.size());
  }
  return best;
}

Verdict Policy::classify(std::string_view module_in, std::string_view name_in) const {
  Verdict v;
  std::string mapped_module, mapped_name;
  if (map_python2_name(module_in, name_in, mapped_module, mapped_name)) {
    module_in = mapped_module;
    name_in = mapped_name;
  }
  std::string module = normalise_module(module_in);
  std::string name(name_in);
  std::string full = module;
  if (!name.empty()) full += "." + name;
  v.resolved = full;
  v.special = special_of(full);
  auto parts = split(full);
  size_t module_parts = split(module).size();
  bool dunder = false;
  std::vector<std::string> candidates = candidate_paths(full, parts, module_parts, dunder);

  // A user policy wins over the built-in one: its longest match on the path itself decides.
  if (const auto* u = best_match(user_, full)) {
    apply_user_entry(*u, v);
    return v;
  }

  // The worst deny over every candidate. Deny entries match their path and everything below;
  // on the path itself a longer known-safe entry wins (codecs.encode under codecs, pathlib.Path
  // under pathlib), a deny wins a tie.
  const size_t safe_len = builtin_safe(module, name, full);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto* e = builtin_deny(candidates[i]);
    if (e == nullptr) continue;
    if (i == 0 && safe_len > e->pattern.size()) continue;
    // Ties go to the later candidate: the path read from a re-export is the more precise.
    if (v.action != Action::kDeny || rank(e->severity) >= rank(v.severity)) {
      deny(v, e->severity, e->rule, e->reason);
      if (i != 0) v.reason += " (reached as " + full + ")";
      v.resolved = candidates[i];
    }
  }
  if (v.action == Action::kDeny) return v;
  if (dunder) {
    deny(v, SECMLOPS_SEVERITY_HIGH, "PICKLE-DUNDER-TRAVERSAL",
         "walks dunder attributes (e.g. __globals__, __class__) to reach other objects");
    return v;
  }
  // Known-safe only when listed exactly (or a class of a listed package): a method or
  // attribute below a safe class (numpy.ndarray.tofile) is judged on its own.
  if (safe_len > 0) {
    v.action = Action::kSafe;
    v.severity = SECMLOPS_SEVERITY_INFO;
    return v;
  }
  if (suspicious_name(parts.back())) {
    deny(v, SECMLOPS_SEVERITY_HIGH, "PICKLE-SUSPICIOUS-NAME",
         "unknown module exposing a function named like a command or code runner");
    return v;
  }
  if (allowlist_) {
    deny(v, SECMLOPS_SEVERITY_HIGH, "PICKLE-NOT-ALLOWLISTED",
         "allowlist mode: only known-safe globals may be imported");
    return v;
  }
  judge_unknown(full, parts, module_parts, v);
  return v;
}

}  // namespace secmlops::plugins::pickle
