// What an unknown callable reaches, judged from the words of its name.
#include "policy.hpp"

#include <cctype>
#include <initializer_list>

namespace secmlops::plugins::pickle {
namespace {

// What an unknown callable reaches, judged from the words of its name (`_get_command_stdout`
// → command, `tofile` → file, `load_url` → load). Applied only to callables the stream
// invokes and that no table knows, and to those it only holds (PICKLE-STORED-CALLABLE).
struct Capability {
  const char* rule;
  const char* reason;
  std::initializer_list<std::string_view> words;
};
const Capability kCapabilities[] = {
    {"PICKLE-CODE-EXEC",
     "its name says it runs commands or code",
     {"system",     "popen",     "spawn",     "spawnv", "spawnl",    "exec",      "execv",
      "execve",     "execl",     "execvp",    "shell",  "cmd",       "command",   "commands",
      "subprocess", "startfile", "fork",      "eval",   "evaluate",  "compile",   "interpreter",
      "interpret",  "runcode",   "runsource", "pager",  "pipepager", "getoutput", "run",
      "script",     "syscmd",    "os"}},
    {"PICKLE-NESTED-LOADER",
     "its name says it deserialises nested data",
     {"load", "loads", "unpickle", "unpickler", "unpickling", "deserialize", "deserialise",
      "unmarshal", "unserialize", "pretrained", "restore"}},
    {"PICKLE-SYSTEM-ACCESS",
     "its name says it reads or writes files",
     {"open",        "fopen",   "write",   "writes",    "writelines", "save",
      "savez",       "savetxt", "dump",    "tofile",    "fromfile",   "file",
      "files",       "remove",  "unlink",  "rmtree",    "rmdir",      "mkdir",
      "makedirs",    "rename",  "chmod",   "chown",     "symlink",    "truncate",
      "touch",       "mkstemp", "mkdtemp", "copyfile",  "copytree",   "copy2",
      "copyfileobj", "move",    "read",    "readlines", "path",       "dir"}},
    {"PICKLE-SYSTEM-ACCESS",
     "its name says it reaches the network",
     {"urlopen", "urlretrieve", "url", "urls", "request", "requests", "download", "fetch",
      "connect", "socket", "http", "https", "ftp", "smtp", "sendmail", "send", "upload", "hub"}},
    {"PICKLE-INDIRECT-CALL",
     "its name says it resolves or calls other callables",
     {"import",      "importer", "getattr", "attrgetter", "locate",      "resolve",      "lookup",
      "instantiate", "dotted",   "format",  "vformat",    "apply",       "partial",      "callback",
      "invoke",      "call",     "caller",  "dispatch",   "reconstruct", "reconstructor"}},
};

}  // namespace

void infer_capability(std::string_view path, Verdict& v) {
  std::string lower;
  for (char c : path) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string_view> words;
  std::string_view rest = lower;
  while (!rest.empty()) {
    size_t cut = rest.find_first_of("._");
    std::string_view w = rest.substr(0, cut);
    if (!w.empty()) words.push_back(w);
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  for (const auto& cap : kCapabilities)
    for (auto w : words)
      for (auto c : cap.words)
        if (w == c) {
          v.call_severity = SECMLOPS_SEVERITY_HIGH;
          v.call_rule = cap.rule;
          v.call_reason = cap.reason;
          v.call_word = c;
          return;
        }
  v.call_severity = SECMLOPS_SEVERITY_MEDIUM;
  v.call_rule = "PICKLE-UNKNOWN-CALL";
  v.call_reason = "";
}

}  // namespace secmlops::plugins::pickle
