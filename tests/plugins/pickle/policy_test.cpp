// Policy tables, normalisation, allowlist mode and user policy files.
#include "test_support.hpp"

namespace {

using namespace pickle_test;

TEST(Policy, NormalisesModuleAliases) {
  EXPECT_EQ(Policy::normalise_module("posix"), "os");
  EXPECT_EQ(Policy::normalise_module("nt"), "os");
  EXPECT_EQ(Policy::normalise_module("__builtin__"), "builtins");
  EXPECT_EQ(Policy::normalise_module("cPickle"), "pickle");
  EXPECT_EQ(Policy::normalise_module("urllib2"), "urllib.request");
  EXPECT_EQ(Policy::normalise_module("numpy._core.multiarray"), "numpy.core.multiarray");
  EXPECT_EQ(Policy::normalise_module("posixpath"), "os.path");
  EXPECT_EQ(Policy::normalise_module("ntpathology"), "ntpathology");
}

TEST(Policy, SeveritiesOfRepresentativeGlobals) {
  Policy p;
  struct Case {
    const char *module, *name;
    secmlops_severity severity;
    const char* rule;
  } cases[] = {
      {"os", "system", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"subprocess", "run", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"builtins", "eval", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"__builtin__", "__import__", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"builtins", "open", SECMLOPS_SEVERITY_HIGH, "PICKLE-SYSTEM-ACCESS"},
      {"builtins", "getattr", SECMLOPS_SEVERITY_HIGH, "PICKLE-INDIRECT-CALL"},
      {"_operator", "attrgetter", SECMLOPS_SEVERITY_HIGH, "PICKLE-INDIRECT-CALL"},
      {"functools", "partial", SECMLOPS_SEVERITY_HIGH, "PICKLE-INDIRECT-CALL"},
      {"pickle", "loads", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-NESTED-LOADER"},
      {"torch", "load", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-NESTED-LOADER"},
      {"numpy", "load", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-NESTED-LOADER"},
      {"cProfile", "run", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"ensurepip", "_run_pip", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"tempfile", "_os.system", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"subprocess", "os.system", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-CODE-EXEC"},
      {"sklearn.utils._testing", "assert_run_python_script", SECMLOPS_SEVERITY_CRITICAL,
       "PICKLE-CODE-EXEC"},
      {"torch.serialization", "pickle.loads", SECMLOPS_SEVERITY_CRITICAL, "PICKLE-NESTED-LOADER"},
  };
  for (const auto& c : cases) {
    Verdict v = p.classify(c.module, c.name);
    EXPECT_EQ(v.action, Action::kDeny) << c.module << "." << c.name;
    EXPECT_EQ(v.severity, c.severity) << c.module << "." << c.name;
    EXPECT_EQ(v.rule, c.rule) << c.module << "." << c.name;
  }
  Verdict module = p.classify("numpy.lib.npyio", "os");  // the os module reached as an attribute
  EXPECT_EQ(module.action, Action::kDeny);
  EXPECT_EQ(module.resolved, "os");
  EXPECT_EQ(p.classify("torch._utils", "_rebuild_tensor_v2").action, Action::kSafe);
  EXPECT_EQ(p.classify("torch.nn.modules.linear", "Linear").action, Action::kSafe);
  EXPECT_EQ(p.classify("sklearn.ensemble._forest", "RandomForestClassifier").action, Action::kSafe);
  EXPECT_EQ(p.classify("numpy.core.multiarray", "_reconstruct").action, Action::kSafe);
  EXPECT_EQ(p.classify("collections", "OrderedDict.__init__.__globals__").rule,
            "PICKLE-DUNDER-TRAVERSAL");
  EXPECT_EQ(p.classify("mylib", "Thing").severity, SECMLOPS_SEVERITY_LOW);
  EXPECT_EQ(p.classify("mylib", "Thing").call_severity, SECMLOPS_SEVERITY_MEDIUM);
}

// The known-safe list keys on exact callables: a path component is never taken for a module
// (numpy.random._pickle is numpy's, not pickle), and nothing below a safe class is safe by
// inheritance (numpy.ndarray.tofile writes files).
TEST(Policy, KnownSafeIsExact) {
  Policy p;
  for (const char* ctor : {"__randomstate_ctor", "__bit_generator_ctor", "__generator_ctor"})
    EXPECT_EQ(p.classify("numpy.random._pickle", ctor).action, Action::kSafe) << ctor;
  EXPECT_EQ(p.classify("numpy._core.multiarray", "_reconstruct").action, Action::kSafe);
  EXPECT_EQ(p.classify("codecs", "encode").action, Action::kSafe);  // under the denied codecs
  EXPECT_EQ(p.classify("pathlib", "PosixPath").action, Action::kSafe);
  EXPECT_EQ(p.classify("argparse", "Namespace").action, Action::kSafe);
  struct Case {
    const char *module, *name, *rule, *resolved;
  } denied[] = {
      {"numpy", "ndarray.tofile", "PICKLE-SYSTEM-ACCESS", "numpy.ndarray.tofile"},
      {"pathlib", "Path.touch", "PICKLE-SYSTEM-ACCESS", "pathlib.Path.touch"},
      {"torch.storage", "UntypedStorage.from_file", "PICKLE-SYSTEM-ACCESS",
       "torch.storage.UntypedStorage.from_file"},
      {"sklearn.utils", "_joblib.dump", "PICKLE-SYSTEM-ACCESS", "sklearn.utils._joblib.dump"},
      {"sklearn.utils._joblib", "dump", "PICKLE-SYSTEM-ACCESS", "sklearn.utils._joblib.dump"},
      {"sklearn.utils._show_versions", "platform._syscmd_file", "PICKLE-CODE-EXEC",
       "platform._syscmd_file"},
      {"torch.nn.modules.module", "torch.save", "PICKLE-SYSTEM-ACCESS", "torch.save"},
      {"uuid", "_get_command_stdout", "PICKLE-CODE-EXEC", "uuid._get_command_stdout"},
      {"_pyio", "open", "PICKLE-SYSTEM-ACCESS", "io.open"},
      {"__builtin__", "reduce", "PICKLE-INDIRECT-CALL", "functools.reduce"},
      {"itertools", "imap", "PICKLE-INDIRECT-CALL", "builtins.map"},
      {"builtins", "str.format", "PICKLE-INDIRECT-CALL", "builtins.str.format"},
  };
  for (const auto& c : denied) {
    Verdict v = p.classify(c.module, c.name);
    EXPECT_EQ(v.action, Action::kDeny) << c.module << " " << c.name;
    EXPECT_EQ(v.rule, c.rule) << c.module << " " << c.name;
    EXPECT_EQ(v.resolved, c.resolved) << c.module << " " << c.name;
  }
  // Package prefixes accept classes, not functions or attribute paths.
  EXPECT_EQ(p.classify("sklearn.tree._tree", "Tree").action, Action::kSafe);
  EXPECT_NE(p.classify("sklearn.utils.validation", "check_memory").action, Action::kSafe);
  EXPECT_NE(p.classify("sklearn.tree._tree", "Tree.__reduce__").action, Action::kSafe);
}

TEST(Policy, AllowlistMode) {
  Policy p(true);
  EXPECT_EQ(p.classify("collections", "OrderedDict").action, Action::kSafe);
  Verdict v = p.classify("mylib", "Thing");
  EXPECT_EQ(v.rule, "PICKLE-NOT-ALLOWLISTED");
  EXPECT_EQ(v.severity, SECMLOPS_SEVERITY_HIGH);
  EXPECT_EQ(p.classify("os", "system").severity, SECMLOPS_SEVERITY_CRITICAL);
  auto r = scan_bytes("\x80\x02" + glob("mylib", "Thing") + ")R.", "pickle", p);
  EXPECT_TRUE(r.has("PICKLE-NOT-ALLOWLISTED", "mylib.Thing")) << r.dump();
}

TEST(Policy, UserPolicyExtendsAndOverrides) {
  Policy p;
  p.load_yaml(R"(
pickle:
  allow:
    - mylib.models.Net
    - global: builtins.getattr
  deny:
    - global: collections.OrderedDict
      severity: critical
      reason: we never ship ordered dicts
    - posix.getcwd
)");
  EXPECT_EQ(p.classify("mylib.models", "Net").action, Action::kSafe);
  EXPECT_EQ(p.classify("builtins", "getattr").action, Action::kSafe);
  Verdict v = p.classify("collections", "OrderedDict");
  EXPECT_EQ(v.rule, "PICKLE-POLICY-DENY");
  EXPECT_EQ(v.severity, SECMLOPS_SEVERITY_CRITICAL);
  EXPECT_EQ(v.reason, "we never ship ordered dicts");
  EXPECT_EQ(p.classify("os", "getcwd").rule, "PICKLE-POLICY-DENY");
  EXPECT_EQ(p.classify("os", "system").severity,
            SECMLOPS_SEVERITY_CRITICAL);  // built-in still applies

  Policy a;
  a.load_yaml("pickle:\n  mode: allowlist\n");
  EXPECT_TRUE(a.allowlist());
}

TEST(Policy, BadPolicyFilesAreClearErrors) {
  for (const char* bad : {"pickle: [1, 2", "pickle:\n  deny: nope\n",
                          "pickle:\n  deny:\n    - global: x\n      severity: huge\n",
                          "pickle:\n  mode: paranoid\n", "- a list\n"}) {
    Policy p;
    try {
      p.load_yaml(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("policy"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
