// The parser on hand-built opcode sequences: every technique class, limits and malformed input.
#include "test_support.hpp"

#include <tuple>

namespace {

using namespace pickle_test;
using std::string;
using namespace std::string_literals;

const string kCmd = "echo x";

TEST(PickleCore, Protocol0GlobalReduce) {
  auto r = scan_bytes(glob("os", "system") + "(S'echo x'\ntR.");
  const Finding* f = r.find("PICKLE-CODE-EXEC", "os.system");
  ASSERT_NE(f, nullptr) << r.dump();
  EXPECT_EQ(f->severity, SECMLOPS_SEVERITY_CRITICAL);
  EXPECT_EQ(f->offset, 0u);
  EXPECT_EQ(f->detail, "pickle #1");
  EXPECT_TRUE(r.complete);
}

TEST(PickleCore, PlatformAliasesNormalised) {
  for (const char* m : {"posix", "nt"}) {
    auto r = scan_bytes("\x80\x02" + glob(m, "system") + "(" + bu(kCmd) + "tR.");
    EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << m << "\n" << r.dump();
  }
}

TEST(PickleCore, StackGlobalThroughMemo) {
  // Strings stored with BINPUT, decoys with MEMOIZE, fetched back with BINGET.
  string p = "\x80\x04"s + s8("os") + "q\x00"s + s8("system") + "q\x01" + s8("torch._utils") +
             "\x94" + s8("_rebuild_tensor_v2") + "\x94" + "h\x00h\x01\x93("s + s8(kCmd) + "tR.";
  auto r = scan_bytes(p);
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << r.dump();
  EXPECT_FALSE(r.has("PICKLE-UNKNOWN-IMPORT")) << r.dump();
}

TEST(PickleCore, MemoizeStoresAtMemoLength) {
  // PUT 256 then MEMOIZE: CPython stores the second value at key 1 (len(memo)), not 257.
  string p = string("\x80\x04", 2) + s8("os") + string("r\x00\x01\x00\x00", 5) + s8("system") +
             "\x94" + string("j\x00\x01\x00\x00", 5) + "h\x01\x93(" + s8(kCmd) + "tR.";
  auto r = scan_bytes(p);
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << r.dump();
  EXPECT_FALSE(r.has("PICKLE-MEMO-MISSING")) << r.dump();
}

TEST(PickleCore, MissingMemoKeyIsAFinding) {
  auto r = scan_bytes("\x80\x02h\x07(" + bu(kCmd) + "tR.");
  EXPECT_TRUE(r.has("PICKLE-MEMO-MISSING")) << r.dump();
  EXPECT_TRUE(r.has("PICKLE-UNRESOLVED-CALL")) << r.dump();
}

TEST(PickleCore, StackUnderflowIsAFinding) {
  auto r = scan_bytes("\x80\x02R.");
  EXPECT_TRUE(r.has("PICKLE-STACK-UNDERFLOW")) << r.dump();
  EXPECT_FALSE(r.complete);
  auto r2 = scan_bytes("\x80\x02" + bu("a") + "u.");  // SETITEMS without MARK
  EXPECT_TRUE(r2.has("PICKLE-STACK-UNDERFLOW")) << r2.dump();
}

TEST(PickleCore, NonStringStackGlobalOperands) {
  auto r = scan_bytes("\x80\x04" + s8("os") + "K\x05\x93(" + s8(kCmd) + "tR.");
  EXPECT_TRUE(r.has("PICKLE-UNRESOLVED-GLOBAL")) << r.dump();
  EXPECT_TRUE(r.has("PICKLE-UNRESOLVED-CALL")) << r.dump();
  // A name computed by a call at load time.
  auto r2 = scan_bytes("\x80\x04" + s8("os") + glob("builtins", "str") + "(" + s8("system") +
                       "tR\x93(" + s8(kCmd) + "tR.");
  EXPECT_TRUE(r2.has("PICKLE-UNRESOLVED-GLOBAL")) << r2.dump();
}

TEST(PickleCore, ExtensionCodes) {
  for (string ext : {string("\x82\x42"), string("\x83\x01\x02"), string("\x84\x01\x02\x03\x04")}) {
    auto r = scan_bytes("\x80\x02" + ext + "(" + bu(kCmd) + "tR.");
    EXPECT_TRUE(r.has("PICKLE-EXT-CODE")) << r.dump();
    EXPECT_TRUE(r.complete);
  }
}

TEST(PickleCore, InstAndObj) {
  auto r = scan_bytes("(S'echo x'\nios\nsystem\n.");
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << r.dump();
  auto r2 = scan_bytes("(" + glob("subprocess", "check_output") + "]" + bu("id") + "ao.");
  EXPECT_TRUE(r2.has("PICKLE-CODE-EXEC", "subprocess.check_output")) << r2.dump();
}

TEST(PickleCore, NewobjEx) {
  auto r = scan_bytes("\x80\x04" + s8("subprocess") + s8("Popen") + "\x93(" + s8(kCmd) + "t}" +
                      s8("shell") + "\x88s\x92.");
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "subprocess.Popen")) << r.dump();
  EXPECT_TRUE(r.complete);
}

TEST(PickleCore, BuildTricks) {
  auto r = scan_bytes("\x80\x02" + glob("types", "SimpleNamespace") + ")RN}" + bu("__setstate__") +
                      glob("os", "system") + "s\x86" + "b" + bu(kCmd) + "b.");
  EXPECT_TRUE(r.has("PICKLE-SETSTATE-OVERRIDE")) << r.dump();
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << r.dump();
  auto r2 = scan_bytes("\x80\x02" + glob("collections", "OrderedDict") + "}" + bu("fromkeys") +
                       "Ns" + "b.");
  EXPECT_TRUE(r2.has("PICKLE-BUILD-ON-GLOBAL", "collections.OrderedDict")) << r2.dump();
}

TEST(PickleCore, IndirectCallsAreResolved) {
  // getattr(importlib.import_module('os'), 'system')(cmd)
  auto r = scan_bytes("\x80\x02" + glob("builtins", "getattr") + "(" +
                      glob("importlib", "import_module") + "(" + bu("os") + "tR" + bu("system") +
                      "tR(" + bu(kCmd) + "tR.");
  EXPECT_TRUE(r.has("PICKLE-INDIRECT-CALL", "builtins.getattr")) << r.dump();
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "importlib.import_module")) << r.dump();
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << r.dump();
  EXPECT_FALSE(r.has("PICKLE-UNRESOLVED-CALL")) << r.dump();
  // numpy's ufunc reconstructor imports any module.name
  auto r2 = scan_bytes("\x80\x02" + glob("numpy.core", "_ufunc_reconstruct") + "(" + bu("posix") +
                       bu("system") + "tR(" + bu(kCmd) + "tR.");
  EXPECT_TRUE(r2.has("PICKLE-CODE-EXEC", "os.system")) << r2.dump();
}

TEST(PickleCore, NestedLoaderArgumentIsScanned) {
  string inner = "\x80\x02" + glob("os", "system") + "(" + bu(kCmd) + "tR.";
  string outer = "\x80\x04" + s8("pickle") + s8("loads") + "\x93" + "C" +
                 static_cast<char>(inner.size()) + inner + "\x85R.";
  auto r = scan_bytes(outer);
  EXPECT_TRUE(r.has("PICKLE-NESTED-LOADER", "pickle.loads")) << r.dump();
  const Finding* f = r.find("PICKLE-CODE-EXEC", "os.system");
  ASSERT_NE(f, nullptr) << r.dump();
  EXPECT_NE(f->detail.find("argument of pickle.loads"), string::npos) << f->detail;
  EXPECT_EQ(f->offset, outer.find(inner) + 2);  // the GLOBAL after PROTO
}

TEST(PickleCore, StackedPicklesAreAllScanned) {
  string benign = "\x80\x04}\x94.";
  string evil = "\x80\x02" + glob("os", "system") + "(" + bu(kCmd) + "tR.";
  auto r = scan_bytes(benign + evil);
  const Finding* f = r.find("PICKLE-CODE-EXEC", "os.system");
  ASSERT_NE(f, nullptr) << r.dump();
  EXPECT_EQ(f->detail, "pickle #2");
  EXPECT_EQ(f->offset, benign.size() + 2);
  EXPECT_TRUE(r.has("PICKLE-STACKED")) << r.dump();
  // Protocol-0 pickles after the first are recognised too.
  auto r2 = scan_bytes(benign + "cos\nsystem\n(S'x'\ntR.");
  EXPECT_TRUE(r2.has("PICKLE-CODE-EXEC", "os.system")) << r2.dump();
}

TEST(PickleCore, TrailingBytesAreDescribed) {
  string benign = "\x80\x04}\x94.";
  auto zip = scan_bytes(benign + string("PK\x03\x04", 4) + string(40, 'z'));
  const Finding* f = zip.find("PICKLE-TRAILING-DATA");
  ASSERT_NE(f, nullptr) << zip.dump();
  EXPECT_NE(f->message.find("zip"), string::npos);
  EXPECT_EQ(f->offset, benign.size());
  auto zeros = scan_bytes(benign + string(100, '\0'));
  ASSERT_TRUE(zeros.has("PICKLE-TRAILING-DATA"));
  EXPECT_EQ(zeros.find("PICKLE-TRAILING-DATA")->severity, SECMLOPS_SEVERITY_INFO);
  auto garbage = scan_bytes(benign + string("\x01\x02\x03\xff", 4));
  ASSERT_TRUE(garbage.has("PICKLE-TRAILING-DATA"));
  EXPECT_EQ(garbage.find("PICKLE-TRAILING-DATA")->severity, SECMLOPS_SEVERITY_MEDIUM);
}

TEST(PickleCore, ProtocolZeroEscapedNames) {
  auto r = scan_bytes("Vo\\u0073\nVsystem\n\x93(Vx\ntR.");
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << r.dump();
  auto r2 = scan_bytes("S'o\\x73'\nS\"system\"\n\x93(S'x'\ntR.");
  EXPECT_TRUE(r2.has("PICKLE-CODE-EXEC", "os.system")) << r2.dump();
}

TEST(PickleCore, KnownSafeGlobalsAreSilent) {
  for (auto [m, n] : {std::pair{"collections", "OrderedDict"},
                      {"torch._utils", "_rebuild_tensor_v2"},
                      {"numpy.core.multiarray", "_reconstruct"},
                      {"__builtin__", "set"},
                      {"_codecs", "encode"},
                      {"numpy._core.multiarray", "scalar"},
                      {"sklearn.linear_model._logistic", "LogisticRegression"}}) {
    auto r = scan_bytes("\x80\x02" + glob(m, n) + ")R.");
    EXPECT_TRUE(r.findings.empty()) << m << "." << n << "\n" << r.dump();
  }
}

TEST(PickleCore, UnknownCallablesInvokedAreAtLeastMedium) {
  // Imported and called: judged by what it may reach, at least MEDIUM.
  auto r = scan_bytes("\x80\x02" + glob("mypackage.models", "Net") + ")R.");
  const Finding* f = r.find("PICKLE-UNKNOWN-CALL", "mypackage.models.Net");
  ASSERT_NE(f, nullptr) << r.dump();
  EXPECT_EQ(f->severity, SECMLOPS_SEVERITY_MEDIUM);
  EXPECT_FALSE(r.has("PICKLE-UNKNOWN-IMPORT")) << r.dump();
  // Imported but never invoked (a class held as a value): LOW, reported when the pickle ends.
  auto ref = scan_bytes("\x80\x02" + glob("mypackage.models", "Net") + "\x85.");
  const Finding* low = ref.find("PICKLE-UNKNOWN-IMPORT", "mypackage.models.Net");
  ASSERT_NE(low, nullptr) << ref.dump();
  EXPECT_EQ(low->severity, SECMLOPS_SEVERITY_LOW);
  EXPECT_EQ(low->offset, 2u);
  // Held but never invoked, with a name that says what calling it reaches (a transformer's
  // `func`, a callback in an object's state): MEDIUM, whoever uses the object calls it.
  auto held = scan_bytes("\x80\x02}" + bu("func") + glob("tokenize", "open") + "s.");
  const Finding* stored = held.find("PICKLE-STORED-CALLABLE", "tokenize.open");
  ASSERT_NE(stored, nullptr) << held.dump();
  EXPECT_EQ(stored->severity, SECMLOPS_SEVERITY_MEDIUM);
  EXPECT_NE(stored->message.find("'open'"), std::string::npos) << stored->message;
  // Invoked, the same global is judged as a call (HIGH), not as a held value.
  auto called = scan_bytes("\x80\x02" + glob("tokenize", "open") + "(" + bu("x.py") + "tR.");
  EXPECT_TRUE(called.has("PICKLE-SYSTEM-ACCESS", "tokenize.open")) << called.dump();
  EXPECT_FALSE(called.has("PICKLE-STORED-CALLABLE")) << called.dump();
  // Instantiated through a known-safe helper (copyreg._reconstructor) or NEWOBJ: invoked too.
  auto rec = scan_bytes("\x80\x02" + glob("copyreg", "_reconstructor") + "(" +
                        glob("mypackage.models", "Net") + glob("builtins", "object") + "NtR.");
  EXPECT_TRUE(rec.has("PICKLE-UNKNOWN-CALL", "mypackage.models.Net")) << rec.dump();
  // _reconstructor(cls, base, state) runs base.__init__(obj, state): the base is invoked too.
  auto base =
      scan_bytes("\x80\x02" + glob("copyreg", "_reconstructor") + "(" +
                 glob("argparse", "Namespace") + glob("somelib", "Writer") + bu("x") + "tR.");
  EXPECT_TRUE(base.has("PICKLE-UNKNOWN-CALL", "somelib.Writer")) << base.dump();
  auto newobj = scan_bytes("\x80\x02" + glob("mypackage.models", "Net") + ")\x81.");
  EXPECT_TRUE(newobj.has("PICKLE-UNKNOWN-CALL", "mypackage.models.Net")) << newobj.dump();
  // What the name says it reaches raises the severity: files, commands, loaders, resolvers.
  for (auto [m, n, rule] : {std::tuple{"somelib.io", "write_blob", "PICKLE-SYSTEM-ACCESS"},
                            {"somelib", "_get_command_stdout", "PICKLE-CODE-EXEC"},
                            {"somelib.ckpt", "load_checkpoint", "PICKLE-NESTED-LOADER"},
                            {"somelib.registry", "import_string", "PICKLE-INDIRECT-CALL"}}) {
    auto c = scan_bytes("\x80\x02" + glob(m, n) + "(" + bu("x") + "tR.");
    const Finding* h = c.find(rule);
    ASSERT_NE(h, nullptr) << m << "." << n << "\n" << c.dump();
    EXPECT_EQ(h->severity, SECMLOPS_SEVERITY_HIGH) << c.dump();
  }
  // …but a command-runner name in an unknown module is HIGH.
  auto r2 = scan_bytes("\x80\x02" + glob("somelib.utils", "check_output") + "(" + bu(kCmd) + "tR.");
  EXPECT_TRUE(r2.has("PICKLE-SUSPICIOUS-NAME")) << r2.dump();
}

// FRAME is parsed as CPython's C unpickler parses it (in line, length only checked against
// what remains); where the pure-Python unpickler would read it differently, that is a finding.
TEST(PickleCore, FrameDisagreementsAreFindings) {
  auto le64 = [](uint64_t v) {
    string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
  };
  const string body = s8("os") + s8("system") + "\x93(" + s8(kCmd) + "tR";
  // Exact frames, as pickle writes them: no finding.
  auto ok = scan_bytes("\x80\x04\x95" + le64(body.size() + 1) + body + ".");
  EXPECT_FALSE(ok.has("PICKLE-FRAME-MISMATCH")) << ok.dump();
  EXPECT_TRUE(ok.has("PICKLE-CODE-EXEC", "os.system")) << ok.dump();
  // An opcode straddles the frame's end: C runs it, pickle._loads refuses.
  auto straddle = scan_bytes("\x80\x04\x95" + le64(3) + body + ".");
  EXPECT_TRUE(straddle.has("PICKLE-FRAME-MISMATCH")) << straddle.dump();
  EXPECT_TRUE(straddle.has("PICKLE-CODE-EXEC", "os.system")) << straddle.dump();
  // Declared longer than the stream: C stops at the FRAME, the pure-Python unpickler runs it.
  auto longer = scan_bytes("\x80\x04\x95" + le64(body.size() + 4096) + body + ".");
  EXPECT_TRUE(longer.has("PICKLE-FRAME-MISMATCH")) << longer.dump();
  EXPECT_TRUE(longer.has("PICKLE-CODE-EXEC", "os.system")) << longer.dump();
  // …but a truncated file, which both unpicklers fail, is only malformed.
  auto truncated = scan_bytes("\x80\x04\x95" + le64(body.size() + 4096) + body);
  EXPECT_FALSE(truncated.has("PICKLE-FRAME-MISMATCH")) << truncated.dump();
  EXPECT_TRUE(truncated.has("PICKLE-MALFORMED")) << truncated.dump();
  // A new frame inside the current one.
  auto nested = scan_bytes("\x80\x04\x95" + le64(body.size() + 1) + "\x95" + le64(body.size() - 8) +
                           body + ".");
  EXPECT_TRUE(nested.has("PICKLE-FRAME-MISMATCH")) << nested.dump();
  // Real framed pickles (several frames, large unframed payloads between them): no finding.
  string big = "\x80\x04";
  for (int f = 0; f < 3; ++f) {
    string chunk = "(";
    for (int i = 0; i < 9000; ++i) chunk += "K\x01";
    chunk += "l0";
    big += "\x95" + le64(chunk.size()) + chunk;
  }
  big += "\x95" + le64(2) + "N.";
  auto real = scan_bytes(big);
  EXPECT_FALSE(real.has("PICKLE-FRAME-MISMATCH")) << real.dump();
  EXPECT_TRUE(real.complete);
}

TEST(PickleCore, EveryProtocol5OpcodeParses) {
  auto le = [](uint64_t v, int n) {
    string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
  };
  string body = "]\x94(" + string("K\x01M\x02\x01J\x03\x00\x00\x00", 10) + "\x8a\x02\x01\x02" +
                "\x8b" + le(3, 4) + "abc" + "G" + string(8, '\0') + "N\x88\x89" + "C\x02hi" + "B" +
                le(3, 4) + "xyz" + "\x8e" + le(2, 8) + "ab" + "\x96" + le(2, 8) + "cd" + "\x8d" +
                le(1, 8) + "u" + "T" + le(1, 4) + "s" + "U\x01t" + "\x8f\x94(K\x01\x90" +
                "(K\x02\x91" + "\x97\x98" + ")\x85\x86\x87" + "2" + "0" + "e.";
  string p = "\x80\x05\x95" + le(body.size(), 8) + body;
  auto r = scan_bytes(p);
  EXPECT_TRUE(r.complete) << r.dump();
  EXPECT_LT(r.max_severity(), static_cast<int>(SECMLOPS_SEVERITY_MEDIUM)) << r.dump();
}

TEST(PickleCore, MalformedInputGivesFindingsNotCrashes) {
  for (string bad : {string("\x80\x02"), string("\x80\x09."), string("\x80\x02\xff"),
                     string("\x80\x02X\xff\xff\xff\x7f"), string("c\nos"),
                     string("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff"), string("(((((")}) {
    auto r = scan_bytes(bad, "pickle");
    EXPECT_FALSE(r.complete) << r.dump();
    EXPECT_FALSE(r.findings.empty());
  }
}

TEST(PickleCore, LimitsStopCleanly) {
  Limits small;
  small.max_memo = 4;
  string memo = "\x80\x04";
  for (int i = 0; i < 10; ++i) memo += "N\x94";
  memo += ".";
  auto r = scan_bytes(memo, "pickle", Policy(), small);
  EXPECT_TRUE(r.has("PICKLE-LIMIT")) << r.dump();
  EXPECT_TRUE(r.limit_hit);

  auto deep = scan_bytes(string(2'000'000, '('), "pickle");  // default stack limit: 1 Mi entries
  EXPECT_TRUE(deep.has("PICKLE-LIMIT")) << deep.dump();

  Limits ops;
  ops.max_opcodes = 100;
  auto many = scan_bytes("\x80\x04" + string(1000, 'N') + ".", "pickle", Policy(), ops);
  EXPECT_TRUE(many.has("PICKLE-LIMIT")) << many.dump();

  Limits nest;
  nest.max_nesting = 1;
  string inner = "\x80\x02" + glob("os", "system") + "(" + bu(kCmd) + "tR.";
  string l1 = "\x80\x04" + s8("pickle") + s8("loads") + "\x93" + "C" +
              static_cast<char>(inner.size()) + inner + "\x85R.";
  string l2 = "\x80\x04" + s8("pickle") + s8("loads") + "\x93" + "C" +
              static_cast<char>(l1.size()) + l1 + "\x85R.";
  auto nested = scan_bytes(l2, "pickle", Policy(), nest);
  EXPECT_TRUE(nested.has("PICKLE-LIMIT")) << nested.dump();
}

// An input that records what was read: large payloads must be skipped, not read.
class CountingInput final : public Input {
 public:
  explicit CountingInput(const string& data) : data_(data) {}
  [[nodiscard]] uint64_t size() const override { return data_.size(); }
  const uint8_t* window(uint64_t offset, uint64_t len) override {
    len = std::min<uint64_t>(len, data_.size() - offset);
    for (uint64_t b = offset >> 20; b <= (offset + len) >> 20 && len > 0; ++b) touched_.insert(b);
    return reinterpret_cast<const uint8_t*>(data_.data()) + offset;
  }
  void check_cancelled() override {
    if (++checks_ > cancel_after_) throw std::runtime_error("cancelled");
  }
  std::set<uint64_t> touched_;
  uint64_t checks_ = 0, cancel_after_ = UINT64_MAX;

 private:
  const string& data_;
};

TEST(PickleCore, LargePayloadsAreSkippedByOffset) {
  const uint64_t n = 64ull << 20;
  string p = "\x80\x04\x8e";
  for (int i = 0; i < 8; ++i) p += static_cast<char>((n >> (8 * i)) & 0xff);
  p += string(n, '\x42');
  p += "\x94" + glob("os", "system") + "0.";
  CountingInput in(p);
  VectorSink sink;
  Policy policy;
  ScanState state(in, policy, sink);
  EXPECT_TRUE(scan_format(state, "pickle"));
  EXPECT_LE(in.touched_.size(), 4u) << "MiB blocks of a 64 MiB payload were read";
  bool found = false;
  for (const auto& f : sink.findings) found |= f.rule_id == "PICKLE-CODE-EXEC";
  EXPECT_TRUE(found);
}

TEST(PickleCore, CancellationIsChecked) {
  string p = "\x80\x04" + string(1'000'000, 'N') + ".";
  CountingInput in(p);
  in.cancel_after_ = 3;
  VectorSink sink;
  Policy policy;
  Limits l;
  l.check_every = 1000;
  ScanState state(in, policy, sink, l);
  EXPECT_THROW(scan_format(state, "pickle"), std::runtime_error);
}

TEST(PickleCore, ProbeRecognisesFormats) {
  const char* f = nullptr;
  string npy = "\x93NUMPY\x01\x00"s;
  EXPECT_EQ(probe_format({reinterpret_cast<const uint8_t*>(npy.data()), npy.size()}, f), 100u);
  EXPECT_STREQ(f, "numpy");
  string p2 = "\x80\x02}q\x00."s;
  EXPECT_GE(probe_format({reinterpret_cast<const uint8_t*>(p2.data()), p2.size()}, f), 60u);
  EXPECT_STREQ(f, "pickle");
  string p0 = "(dp0\nS'a'\np1\nI1\ns.";
  EXPECT_GE(probe_format({reinterpret_cast<const uint8_t*>(p0.data()), p0.size()}, f), 40u);
  string text = "(this is just some text in parentheses)\n";
  EXPECT_EQ(probe_format({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, f), 0u);
  string zip = "PK\x03\x04";
  EXPECT_EQ(probe_format({reinterpret_cast<const uint8_t*>(zip.data()), zip.size()}, f), 0u);
  // A protocol-0 pickle padded with a quoted string longer than the head is still claimed;
  // unquoted text with a long first line is not.
  string padded = "S'" + string(8000, 'a');
  EXPECT_GE(probe_format({reinterpret_cast<const uint8_t*>(padded.data()), 4096}, f), 40u);
  string prose = "Some text " + string(8000, 'a');
  EXPECT_EQ(probe_format({reinterpret_cast<const uint8_t*>(prose.data()), 4096}, f), 0u);
}

// Tensor bytes of a PyTorch storage member that happen to start like a pickle (0x80, a protocol
// byte, then a few valid opcodes and a length running past the head) are not claimed there;
// elsewhere the same bytes still are, and a complete pickle is claimed in a storage member too.
TEST(PickleCore, StorageMembersAreClaimedOnlyForCompletePickles) {
  const char* f = nullptr;
  string tensor = "\x80\x02K\x07N\x88X\xff\xff\x00\x00"s + string(200, '\x3f');
  auto probe = [&](const string& b, std::string_view name) {
    return probe_format({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, f, name);
  };
  EXPECT_GT(probe(tensor, ""), 0u);
  EXPECT_EQ(probe(tensor, "model/data/17"), 0u);
  EXPECT_EQ(probe(tensor, "data/3"), 0u);
  EXPECT_GT(probe(tensor, "model/data.pkl"), 0u);
  EXPECT_GT(probe(tensor, "model/data/17.pkl"), 0u);
  string pickle = "\x80\x02" + glob("os", "system") + "(" + bu(kCmd) + "tR.";
  EXPECT_GT(probe(pickle, "model/data/17"), 0u);
}

}  // namespace

namespace {

using namespace pickle_test;
using namespace std::string_literals;

TEST(PickleCore, ProbeClaimsPicklesThatBreakAfterTheirPayload) {
  const char* f = nullptr;
  // The REDUCE runs before the loader reaches the junk: still ours to scan.
  std::string p0 = "cos\nsystem\n(S'x'\ntR\xff\xfe"s;
  EXPECT_GE(probe_format({reinterpret_cast<const uint8_t*>(p0.data()), p0.size()}, f), 40u);
  auto r = scan_bytes(p0);
  EXPECT_TRUE(r.has("PICKLE-CODE-EXEC", "os.system")) << r.dump();
  EXPECT_TRUE(r.has("PICKLE-MALFORMED")) << r.dump();
  // Tensor bytes that merely start like a protocol header are not.
  std::string floats = "\x80\x02\xff\x00\x00\x80\x3f\x00\x00"s;
  EXPECT_EQ(probe_format({reinterpret_cast<const uint8_t*>(floats.data()), floats.size()}, f), 0u);
}

}  // namespace
