// What an imported global means: known-safe, dangerous (with a rule and severity) or unknown.
// Built-in tables (policy_table.cpp) plus an optional user policy (YAML, `pickle:` section).
#pragma once

#include <secmlops/sdk/abi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::pickle {

// Globals the parser must understand beyond their verdict, to follow data or fold calls.
enum class Special : uint8_t {
  kNone,
  kNumpyDtype,       // numpy.dtype(typestr, align, copy) + BUILD state: needed to size arrays
  kJoblibWrapper,    // joblib NumpyArrayWrapper: raw array bytes follow its BUILD
  kGetattr,          // getattr(obj, name)               → obj.name
  kImportModule,     // __import__(name) / importlib.import_module(name) → module object
  kModuleAndName,    // numpy.core._ufunc_reconstruct(module, name) → module.name
  kDottedName,       // torch._utils._import_dotted_name / pydoc.locate / pkgutil.resolve_name
  kNestedLoader,     // pickle.loads(bytes) & co: the bytes argument is scanned as a pickle
  kInvokesFirstArg,  // copyreg.__newobj__(cls, …), numpy _reconstruct(cls, …): a known-safe
                     // helper that instantiates its first argument
  kInvokesTwoArgs,   // copyreg._reconstructor(cls, base, state) runs base.__init__; torch
                     // _rebuild_from_type_v2(func, type, …) calls func and type.__setstate__
};

enum class Action : uint8_t { kSafe, kDeny, kUnknown };

struct Verdict {
  Action action = Action::kUnknown;
  secmlops_severity severity = SECMLOPS_SEVERITY_LOW;
  std::string rule;      // e.g. PICKLE-CODE-EXEC
  std::string reason;    // one line: why this global is dangerous
  std::string resolved;  // the normalised dotted path the verdict was reached on
  Special special = Special::kNone;
  // For kUnknown: what invoking it means (REDUCE, NEWOBJ, OBJ, INST, or through a helper that
  // calls its argument). At least MEDIUM PICKLE-UNKNOWN-CALL; HIGH when the callable's name
  // says what it reaches (runs commands, loads nested data, opens files, network, resolves
  // names). Importing without invoking stays LOW (PICKLE-UNKNOWN-IMPORT).
  // Static strings: a file may import a million distinct globals.
  secmlops_severity call_severity = SECMLOPS_SEVERITY_MEDIUM;
  const char* call_rule = "PICKLE-UNKNOWN-CALL";
  const char* call_reason = "";  // what the deciding word says it reaches ("" for MEDIUM)
  std::string_view call_word;    // the word of the name that decided, e.g. "command"
};

struct PolicyEntry {
  std::string pattern;  // dotted path; matches itself and everything below it
  Action action = Action::kDeny;
  secmlops_severity severity = SECMLOPS_SEVERITY_HIGH;
  std::string rule;
  std::string reason;
};

class Policy {
 public:
  // `allowlist`: anything not known-safe is HIGH (deny rules keep a higher severity).
  explicit Policy(bool allowlist = false);
  // Parses a YAML policy document (its top-level `pickle:` section); throws std::runtime_error
  // with a clear message on a malformed document.
  void load_yaml(const std::string& text);
  void set_allowlist(bool on) { allowlist_ = on; }
  [[nodiscard]] bool allowlist() const { return allowlist_; }

  [[nodiscard]] Verdict classify(std::string_view module, std::string_view name) const;

  // Module normalisation: platform and Python 2 aliases (posix → os, __builtin__ → builtins…).
  [[nodiscard]] static std::string normalise_module(std::string_view module);
  // Python 2 (module, name) pairs that CPython's unpickler renames (_compat_pickle.NAME_MAPPING),
  // e.g. __builtin__.reduce → functools.reduce. Returns false when the pair is not renamed.
  static bool map_python2_name(std::string_view module, std::string_view name,
                               std::string& out_module, std::string& out_name);

 private:
  [[nodiscard]] const PolicyEntry* builtin_deny(std::string_view path) const;
  // Length of the built-in known-safe entry that accepts the global (0: none).
  [[nodiscard]] size_t builtin_safe(std::string_view module, std::string_view name,
                                    std::string_view full) const;
  [[nodiscard]] const PolicyEntry* best_match(const std::vector<PolicyEntry>& table,
                                              std::string_view path,
                                              std::optional<Action> only = std::nullopt) const;
  bool allowlist_;
  std::vector<PolicyEntry> user_;
};

// Built-in tables (policy_table.cpp).
const std::vector<PolicyEntry>& builtin_policy();
Special special_of(std::string_view dotted);

// Sets v's call_* fields from the words of an unknown global's path (`_get_command_stdout` →
// command, `tofile` → file, `load_url` → load): HIGH with the deciding word, else MEDIUM.
void infer_capability(std::string_view path, Verdict& v);

}  // namespace secmlops::plugins::pickle
