#include "pickle_scan.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace secmlops::plugins::pickle {

const char* severity_name(secmlops_severity s) {
  switch (s) {
    case SECMLOPS_SEVERITY_CRITICAL: return "CRITICAL";
    case SECMLOPS_SEVERITY_HIGH: return "HIGH";
    case SECMLOPS_SEVERITY_MEDIUM: return "MEDIUM";
    case SECMLOPS_SEVERITY_LOW: return "LOW";
    default: return "INFO";
  }
}

const uint8_t* Cursor::refill(uint64_t off, uint64_t n) {
  if (off > size_ || n > size_ - off) return nullptr;
  uint64_t len = std::min<uint64_t>(std::max<uint64_t>(n, chunk_), size_ - off);
  base_ = in_.window(off, len);
  if (base_ == nullptr) throw std::runtime_error("reading the input failed at offset " + std::to_string(off));
  start_ = off;
  len_ = len;
  return base_;
}

void emit(ScanState& state, const std::string& rule, secmlops_severity severity,
          const std::string& message, uint64_t offset, const std::string& detail,
          std::vector<std::pair<std::string, std::string>> evidence) {
  Finding f;
  f.rule_id = rule;
  f.severity = severity;
  f.message = message;
  f.offset = offset;
  f.detail = detail;
  f.evidence = std::move(evidence);
  state.sink->emit(std::move(f));
}

namespace {

// ---------------------------------------------------------------------------------------------
// Values: 8 bytes each (kind in the top byte), so that a memo of millions of entries stays small.
// Strings and bytes are (offset, length) references into the input, read back only when their
// content matters (STACK_GLOBAL operands, dict keys, dtype strings).
// ---------------------------------------------------------------------------------------------
enum Kind : uint8_t {
  kNone, kBool, kInt, kBigInt, kFloat,
  kStr,      // payload: offset (38 bits) | length (16 bits) | encoding (2 bits)
  kStrX,     // a string whose content is not kept (too long, or beyond 256 GiB)
  kBytes,    // payload like kStr
  kBytesX,   // payload: blob index + 1 (0: unknown)
  kTuple, kList, kDict, kSet, kFrozenSet, kByteArray,  // payload: node index + 1 (0: untracked)
  kGlobal,   // payload: global id
  kObj,      // payload: callable global id (24 bits, all ones: none) | call record + 1 (32 bits)
  kUnres,    // payload: offset where the unresolvable value came from
  kPers, kBuffer, kMissing,
};
enum Enc : uint8_t { kEncRaw = 0, kEncEscaped = 1, kEncRawUnicodeEscape = 2 };

constexpr uint64_t kPayloadMask = (uint64_t{1} << 56) - 1;
constexpr uint64_t kNoGlobal = 0xFFFFFF;

struct V {
  uint64_t bits;  // no initialiser: the stack buffer is allocated without touching its pages
  [[nodiscard]] Kind kind() const { return static_cast<Kind>(bits >> 56); }
  [[nodiscard]] uint64_t payload() const { return bits & kPayloadMask; }
  [[nodiscard]] int64_t as_int() const { return static_cast<int64_t>(bits << 8) >> 8; }
};
inline V mk(Kind k, uint64_t payload = 0) { return V{(uint64_t{k} << 56) | (payload & kPayloadMask)}; }
inline V mk_int(int64_t i) { return mk(kInt, static_cast<uint64_t>(i)); }
inline bool fits56(int64_t i) { return i >= -(int64_t{1} << 55) && i < (int64_t{1} << 55); }
inline V mk_ref(Kind k, uint64_t off, uint64_t len, Enc enc) {
  if (len > 0xFFFF || off >= (uint64_t{1} << 38)) return mk(k == kStr ? kStrX : kBytesX, 0);
  return mk(k, off | (len << 38) | (uint64_t{enc} << 54));
}
inline uint64_t ref_off(V v) { return v.payload() & ((uint64_t{1} << 38) - 1); }
inline uint64_t ref_len(V v) { return (v.payload() >> 38) & 0xFFFF; }
inline Enc ref_enc(V v) { return static_cast<Enc>((v.payload() >> 54) & 3); }
inline uint32_t obj_global(V v) { return static_cast<uint32_t>(v.payload() & 0xFFFFFF); }
inline uint32_t obj_call(V v) { return static_cast<uint32_t>(v.payload() >> 24); }

const char* kind_name(Kind k) {
  switch (k) {
    case kNone: return "None";
    case kBool: return "a bool";
    case kInt: case kBigInt: return "an int";
    case kFloat: return "a float";
    case kStr: case kStrX: return "a string";
    case kBytes: case kBytesX: return "bytes";
    case kTuple: return "a tuple";
    case kList: return "a list";
    case kDict: return "a dict";
    case kSet: return "a set";
    case kFrozenSet: return "a frozenset";
    case kByteArray: return "a bytearray";
    case kGlobal: return "an imported global";
    case kObj: return "the result of a call";
    case kUnres: return "an unresolved value";
    case kPers: return "a persistent-id object";
    case kBuffer: return "an out-of-band buffer";
    default: return "a missing memo value";
  }
}

struct Node {
  uint32_t start = 0;
  uint32_t count = 0;
  bool partial = false;
};
struct Call {
  uint32_t global = 0;
  V args{};
  V state{};
};

struct Fatal {};  // thrown inside the parser: the pickle cannot be followed further

// A buffer of values that grows only by explicit reserves — each at most once to a known
// budget, never by doubling, so a large buffer is not copied at twice its size — and whose
// appends and reads are inlined into the opcode loop. Untouched capacity is never resident.
class Values {
 public:
  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] size_t capacity() const { return cap_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  V& operator[](size_t i) { return data_[i]; }
  [[gnu::always_inline]] V& back() { return data_[size_ - 1]; }
  [[gnu::always_inline]] void append(V v) { data_[size_++] = v; }  // only below capacity()
  void pop_back() { --size_; }
  void shrink(size_t n) { size_ = n; }
  V* begin() { return data_.get(); }
  [[gnu::noinline]] void reserve(size_t n) {
    if (n <= cap_) return;
    auto bigger = std::make_unique_for_overwrite<V[]>(n);
    std::copy(data_.get(), data_.get() + size_, bigger.get());
    data_ = std::move(bigger);
    cap_ = n;
  }
  void resize(size_t n, V fill) {  // only ever grows
    reserve(n);
    std::fill(data_.get() + size_, data_.get() + n, fill);
    size_ = n;
  }

 private:
  std::unique_ptr<V[]> data_;
  size_t size_ = 0, cap_ = 0;
};

// The value stack: a small buffer that is replaced once by one sized for the stack limit
// (checked on every push), so pushes are a store and an increment, and a small pickle never
// reserves the large buffer.
class Stack : public Values {
 public:
  explicit Stack(size_t limit) : limit_(limit) { reserve(std::min<size_t>(limit, 4096)); }
  [[gnu::always_inline]] void push_back(V v) {
    if (size() == capacity()) [[unlikely]] reserve(limit_);
    append(v);
  }
  void resize(size_t n) { shrink(n); }  // only ever shrinks

 private:
  size_t limit_;
};

// Opcode names for evidence.
const char* opname(uint8_t op) {
  switch (op) {
    case '(': return "MARK"; case '.': return "STOP"; case '0': return "POP"; case '1': return "POP_MARK";
    case '2': return "DUP"; case 'F': return "FLOAT"; case 'I': return "INT"; case 'J': return "BININT";
    case 'K': return "BININT1"; case 'L': return "LONG"; case 'M': return "BININT2"; case 'N': return "NONE";
    case 'P': return "PERSID"; case 'Q': return "BINPERSID"; case 'R': return "REDUCE"; case 'S': return "STRING";
    case 'T': return "BINSTRING"; case 'U': return "SHORT_BINSTRING"; case 'V': return "UNICODE";
    case 'X': return "BINUNICODE"; case 'a': return "APPEND"; case 'b': return "BUILD"; case 'c': return "GLOBAL";
    case 'd': return "DICT"; case '}': return "EMPTY_DICT"; case 'e': return "APPENDS"; case 'g': return "GET";
    case 'h': return "BINGET"; case 'i': return "INST"; case 'j': return "LONG_BINGET"; case 'l': return "LIST";
    case ']': return "EMPTY_LIST"; case 'o': return "OBJ"; case 'p': return "PUT"; case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT"; case 's': return "SETITEM"; case 't': return "TUPLE"; case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS"; case 'G': return "BINFLOAT"; case 0x80: return "PROTO"; case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1"; case 0x83: return "EXT2"; case 0x84: return "EXT4"; case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2"; case 0x87: return "TUPLE3"; case 0x88: return "NEWTRUE"; case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1"; case 0x8b: return "LONG4"; case 'B': return "BINBYTES"; case 'C': return "SHORT_BINBYTES";
    case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8"; case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET"; case 0x90: return "ADDITEMS"; case 0x91: return "FROZENSET"; case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL"; case 0x94: return "MEMOIZE"; case 0x95: return "FRAME"; case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER"; case 0x98: return "READONLY_BUFFER";
    default: return "UNKNOWN";
  }
}

uint32_t storage_element_size(std::string_view name) {
  static const std::pair<std::string_view, uint32_t> kSizes[] = {
      {"DoubleStorage", 8}, {"FloatStorage", 4}, {"HalfStorage", 2}, {"BFloat16Storage", 2},
      {"LongStorage", 8}, {"IntStorage", 4}, {"ShortStorage", 2}, {"CharStorage", 1},
      {"ByteStorage", 1}, {"BoolStorage", 1}, {"ComplexFloatStorage", 8},
      {"ComplexDoubleStorage", 16}, {"QInt8Storage", 1}, {"QUInt8Storage", 1},
      {"QInt32Storage", 4}, {"QUInt4x2Storage", 1}, {"QUInt2x4Storage", 1},
      {"UntypedStorage", 1}};
  for (const auto& [n, s] : kSizes)
    if (n == name) return s;
  return 0;
}

class Parser {
 public:
  Parser(ScanState& s, uint64_t start, uint64_t end, std::string context)
      : s_(s), cur_(s.cursor), pos_(start), end_(end), context_(std::move(context)) {
    index_ = ++s_.pickles_started;
    detail_ = "pickle #" + std::to_string(index_);
    if (!context_.empty()) detail_ += " (" + context_ + ")";
    nodes_.push_back({0, 0, false});  // node 0: the empty tuple
  }

  PickleResult run() {
    PickleResult r;
    try {
      r.complete = loop();
    } catch (const Fatal&) {
      r.complete = false;
    }
    report_uninvoked();
    r.end = pos_;
    r.protocol = protocol_;
    return r;
  }

 private:
  // ---- findings ----
  void finding(const std::string& rule, secmlops_severity sev, const std::string& message, uint64_t off,
               uint8_t op, const std::string& global = {}, const std::string& as_written = {}) {
    std::vector<std::pair<std::string, std::string>> ev;
    if (!global.empty()) ev.emplace_back("global", global);
    if (!as_written.empty()) ev.emplace_back("as_written", as_written);
    ev.emplace_back("opcode", opname(op));
    ev.emplace_back("pickle_index", std::to_string(index_));
    emit(s_, rule, sev, message, off, detail_, std::move(ev));
  }
  [[noreturn, gnu::cold, gnu::noinline]] void malformed(const std::string& message, uint64_t off, uint8_t op) {
    finding("PICKLE-MALFORMED", SECMLOPS_SEVERITY_MEDIUM,
            message + "; a loader stops here, after running everything before", off, op);
    throw Fatal{};
  }
  [[noreturn, gnu::cold, gnu::noinline]] void limit(const std::string& message, uint64_t off, uint8_t op) {
    finding("PICKLE-LIMIT", SECMLOPS_SEVERITY_MEDIUM, message + "; the rest of this pickle was not analysed",
            off, op);
    s_.limit_hit = true;
    if (s_.limit_message.empty()) s_.limit_message = message + " at offset " + std::to_string(off);
    throw Fatal{};
  }
  [[noreturn, gnu::cold, gnu::noinline]] void underflow(uint64_t off, uint8_t op, const char* what) {
    finding("PICKLE-STACK-UNDERFLOW", SECMLOPS_SEVERITY_HIGH,
            std::string(opname(op)) + " " + what +
                ": the stack does not add up, so what this pickle calls cannot be resolved statically",
            off, op);
    throw Fatal{};
  }

  // ---- stack ----
  size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  [[gnu::always_inline]] void push(V v) {
    if (stack_.size() + marks_.size() >= max_stack_) [[unlikely]]
      stack_limit();
    stack_.push_back(v);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void stack_limit() {
    limit("stack depth limit of " + std::to_string(s_.limits.max_stack) + " exceeded", op_off_, op_);
  }
  [[gnu::always_inline]] V pop() {
    if (stack_.size() <= fence()) [[unlikely]] underflow(op_off_, op_, "pops an empty stack");
    V v = stack_.back();
    stack_.pop_back();
    return v;
  }
  V& top() {
    if (stack_.size() <= fence()) underflow(op_off_, op_, "needs a value on an empty stack");
    return stack_.back();
  }
  // Pops to the last MARK; returns the index in stack_ of the first item above it.
  size_t pop_mark() {
    if (marks_.empty()) underflow(op_off_, op_, "finds no MARK");
    size_t k = marks_.back();
    marks_.pop_back();
    return k;
  }

  // ---- containers ----
  V make_container(Kind k, size_t from, size_t count) {
    if (count == 0 && k == kTuple) return mk(kTuple, 1);
    if (count > 128 || tracked_ + count > s_.limits.max_tracked || nodes_.size() >= (1u << 31))
      return mk(k, 0);
    reserve_tracking();
    Node n{static_cast<uint32_t>(heap_.size()), static_cast<uint32_t>(count), false};
    heap_.insert(heap_.end(), stack_.begin() + static_cast<ptrdiff_t>(from),
                 stack_.begin() + static_cast<ptrdiff_t>(from + count));
    tracked_ += count;
    nodes_.push_back(n);
    return mk(k, nodes_.size());
  }
  V new_dict() {
    if (tracked_ + 1 > s_.limits.max_tracked) return mk(kDict, 0);
    reserve_tracking();
    ++tracked_;
    nodes_.push_back({static_cast<uint32_t>(heap_.size()), 0, false});
    return mk(kDict, nodes_.size());
  }
  // The tracking budget bounds heap_ and nodes_: reserving it once avoids reallocation copies
  // (and the doubled peak they cause); pages never touched are never resident.
  void reserve_tracking() {
    if (heap_.capacity() == 0) {
      heap_.reserve(4096);
      nodes_.reserve(1024);
    }
    if (heap_.size() + 512 > heap_.capacity() && heap_.capacity() < s_.limits.max_tracked + 512)
      heap_.reserve(s_.limits.max_tracked + 512);
    if (nodes_.size() + 1 >= nodes_.capacity() && nodes_.capacity() < s_.limits.max_tracked + 2)
      nodes_.reserve(s_.limits.max_tracked + 2);
  }
  // Adds stack_[from, from+count) (key, value pairs) to a tracked dict.
  void dict_add(V d, size_t from, size_t count) {
    if (d.kind() != kDict || d.payload() == 0) return;
    Node& n = nodes_[d.payload() - 1];
    bool at_end = n.count == 0 || n.start + n.count == heap_.size();
    if (!at_end || n.count + count > 256 || tracked_ + count > s_.limits.max_tracked) {
      n.partial = true;
      return;
    }
    reserve_tracking();
    if (n.count == 0) n.start = static_cast<uint32_t>(heap_.size());
    heap_.insert(heap_.end(), stack_.begin() + static_cast<ptrdiff_t>(from),
                 stack_.begin() + static_cast<ptrdiff_t>(from + count));
    tracked_ += count;
    n.count += static_cast<uint32_t>(count);
  }
  const Node* node(V v) const {
    if (v.payload() == 0) return nullptr;
    switch (v.kind()) {
      case kTuple: case kList: case kDict: case kSet: case kFrozenSet: return &nodes_[v.payload() - 1];
      default: return nullptr;
    }
  }
  // Item i of a tracked tuple, or nullptr.
  const V* item(V tuple, size_t i) const {
    const Node* n = node(tuple);
    if (n == nullptr || tuple.kind() != kTuple || i >= n->count) return nullptr;
    return &heap_[n->start + i];
  }

  // ---- string content ----
  // Decodes a string reference into text_ (bounded by 64 KiB by construction). Returns false
  // when the content is not available.
  bool text(V v, std::string& out) {
    out.clear();
    if (v.kind() != kStr) return false;
    uint64_t off = ref_off(v), len = ref_len(v);
    const uint8_t* p = cur_.need(off, len);
    if (p == nullptr) return false;
    Enc enc = ref_enc(v);
    if (enc == kEncRaw) {
      out.assign(reinterpret_cast<const char*>(p), len);
      return true;
    }
    // Protocol 0: STRING holds a quoted Python literal; UNICODE holds raw-unicode-escape text.
    std::string_view s(reinterpret_cast<const char*>(p), len);
    if (enc == kEncEscaped) {
      if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front()) return false;
      s = s.substr(1, s.size() - 2);
    }
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c != '\\' || i + 1 >= s.size()) {
        out += c;
        continue;
      }
      char e = s[++i];
      auto hex = [&](size_t digits) -> bool {
        unsigned value = 0;
        for (size_t k = 0; k < digits; ++k) {
          if (i + 1 + k >= s.size()) return false;
          char h = s[i + 1 + k];
          value <<= 4;
          if (h >= '0' && h <= '9') value |= static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f') value |= static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') value |= static_cast<unsigned>(h - 'A' + 10);
          else return false;
        }
        i += digits;
        if (value < 0x80) out += static_cast<char>(value);
        else out += '?';  // non-ASCII never forms a valid module name we would match
        return true;
      };
      if (enc == kEncRawUnicodeEscape) {
        if (e == 'u') { if (!hex(4)) out += "\\u"; continue; }
        if (e == 'U') { if (!hex(8)) out += "\\U"; continue; }
        out += '\\';
        out += e;
        continue;
      }
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'x': if (!hex(2)) return false; break;
        default: out += '\\'; out += e;
      }
    }
    return true;
  }
  bool text_equals(V v, std::string_view want) {
    if (v.kind() != kStr) return false;
    if (ref_enc(v) == kEncRaw) {
      if (ref_len(v) != want.size()) return false;
      const uint8_t* p = cur_.need(ref_off(v), want.size());
      return p != nullptr && std::memcmp(p, want.data(), want.size()) == 0;
    }
    std::string t;
    return text(v, t) && t == want;
  }
  // Value of a tracked dict at a string key.
  const V* dict_get(V d, std::string_view key) {
    const Node* n = node(d);
    if (n == nullptr || d.kind() != kDict) return nullptr;
    for (uint32_t i = 0; i + 1 < n->count; i += 2)
      if (text_equals(heap_[n->start + i], key)) return &heap_[n->start + i + 1];
    return nullptr;
  }

  // ---- globals ----
  uint32_t intern(const std::string& module, const std::string& name) {
    key_.assign(module);
    key_ += '\n';
    key_ += name;
    auto it = s_.global_ids.find(key_);
    if (it != s_.global_ids.end()) return it->second;
    if (s_.globals.size() >= (1u << 20))
      limit("more than 1048576 distinct globals", op_off_, op_);
    uint32_t id = static_cast<uint32_t>(s_.globals.size());
    s_.globals.push_back({module, name, s_.policy.classify(module, name)});
    s_.global_ids.emplace(key_, id);
    return id;
  }
  std::string dotted(uint32_t id) const {
    const auto& g = s_.globals[id];
    return g.name.empty() ? g.module : g.module + "." + g.name;
  }
  // Reports an import (or a callable reached through a resolver) once per pickle. Unknown
  // globals wait: invoked, they are judged by what they reach (invoked()); never invoked, they
  // are reported LOW when the pickle ends (report_uninvoked()).
  enum : uint8_t { kNotSeen = 0, kImportedUnknown = 1, kReported = 2 };
  void report_global(uint32_t id, uint64_t off, uint8_t op, const std::string& how) {
    if (reported_.size() <= id) reported_.resize(id + 1, kNotSeen);
    if (reported_[id] != kNotSeen) return;
    const auto& g = s_.globals[id];
    const Verdict& v = g.verdict;
    if (v.action == Action::kUnknown) {
      reported_[id] = kImportedUnknown;
      deferred_.push_back({id, off, op, how});
      return;
    }
    reported_[id] = kReported;
    if (v.action == Action::kSafe) return;
    report_verdict(id, v.rule, v.severity, how, v.reason, off, op);
  }
  void report_verdict(uint32_t id, const std::string& rule, secmlops_severity sev, const std::string& how,
                      const std::string& reason, uint64_t off, uint8_t op) {
    const Verdict& v = s_.globals[id].verdict;
    std::string what = dotted(id);
    // Evidence names what the import reaches after normalisation (posix.system → os.system);
    // the message keeps the name as written.
    std::string message = how + " " + what;
    if (v.resolved != what) message += " (" + v.resolved + ")";
    finding(rule, sev, message + ": " + reason, off, op, v.resolved, v.resolved != what ? what : std::string());
  }
  // The stream invokes global `id` (REDUCE, NEWOBJ, OBJ, INST, or a helper that calls its
  // argument): an unknown callable is judged by what it can reach, at least MEDIUM.
  void invoked(uint32_t id, uint64_t off, uint8_t op, const std::string& how) {
    if (reported_.size() <= id) reported_.resize(id + 1, kNotSeen);
    if (reported_[id] == kReported) return;
    const Verdict& v = s_.globals[id].verdict;
    if (v.action != Action::kUnknown) return;
    reported_[id] = kReported;
    std::string reason = "invokes a callable that is not known-safe";
    if (v.call_word.empty()) reason += ": loading runs code the scanner cannot judge";
    else reason += ", and " + std::string(v.call_reason) + " ('" + std::string(v.call_word) + "')";
    report_verdict(id, v.call_rule, v.call_severity, how, reason, off, op);
  }
  void report_uninvoked() {
    for (const auto& d : deferred_)
      if (reported_[d.id] == kImportedUnknown) {
        reported_[d.id] = kReported;
        const Verdict& v = s_.globals[d.id].verdict;
        report_verdict(d.id, v.rule, v.severity, d.how, v.reason, d.off, d.op);
      }
    deferred_.clear();
  }

  // ---- calls ----
  V call(V callable, V args, uint64_t off, uint8_t op) {
    if (callable.kind() != kGlobal) {
      std::string desc = kind_name(callable.kind());
      if (callable.kind() == kObj && obj_global(callable) != kNoGlobal)
        desc += " of " + dotted(obj_global(callable));
      finding("PICKLE-UNRESOLVED-CALL", SECMLOPS_SEVERITY_HIGH,
              std::string(opname(op)) + " calls " + desc +
                  ", which cannot be resolved statically to a known function",
              off, op);
      return mk(kUnres, off);
    }
    uint32_t gid = static_cast<uint32_t>(callable.payload());
    invoked(gid, off, op, std::string(opname(op)) + " calls");
    Special sp = s_.globals[gid].verdict.special;
    switch (sp) {
      case Special::kInvokesFirstArg:
      case Special::kInvokesTwoArgs:
        for (size_t i = 0; i < (sp == Special::kInvokesTwoArgs ? 2u : 1u); ++i) {
          const V* a = item(args, i);
          if (a == nullptr) break;
          if (a->kind() == kGlobal)
            invoked(static_cast<uint32_t>(a->payload()), off, op, dotted(gid) + " calls");
          else if (i == 0 && a->kind() != kNone)
            finding("PICKLE-UNRESOLVED-CALL", SECMLOPS_SEVERITY_HIGH,
                    dotted(gid) + " calls its first argument, " + kind_name(a->kind()) +
                        ", which cannot be resolved statically to a known function",
                    off, op, dotted(gid));
        }
        break;
      case Special::kNumpyDtype:
      case Special::kJoblibWrapper:
        if (calls_.size() < s_.limits.max_tracked) {
          calls_.push_back({gid, args, mk(kNone)});
          return mk(kObj, gid | (uint64_t{calls_.size()} << 24));
        }
        return mk(kObj, gid | (uint64_t{0} << 24));
      case Special::kGetattr: return resolve_getattr(gid, args, off, op);
      case Special::kImportModule:
      case Special::kModuleAndName:
      case Special::kDottedName: return resolve_import(gid, sp, args, off, op);
      case Special::kNestedLoader: nested_loader(gid, args, off, op); break;
      default: {
        // Any other deserialiser (listed, or judged one by its name) whose first argument is
        // bytes of this file that start like a pickle: those bytes are scanned too.
        const Verdict& v = s_.globals[gid].verdict;
        std::string_view rule = v.action == Action::kUnknown ? std::string_view(v.call_rule) : v.rule;
        if (rule == "PICKLE-NESTED-LOADER") nested_loader(gid, args, off, op, /*pickle_bytes_only=*/true);
        break;
      }
    }
    return mk(kObj, gid);
  }
  V unresolved_resolver(uint32_t gid, uint64_t off, uint8_t op) {
    finding("PICKLE-UNRESOLVED-CALL", SECMLOPS_SEVERITY_HIGH,
            dotted(gid) + " fetches a callable whose name cannot be resolved statically", off, op, dotted(gid));
    return mk(kUnres, off);
  }
  V resolve_getattr(uint32_t gid, V args, uint64_t off, uint8_t op) {
    const V* target = item(args, 0);
    const V* attr = item(args, 1);
    std::string name;
    if (target == nullptr || attr == nullptr || target->kind() != kGlobal || !text(*attr, name))
      return unresolved_resolver(gid, off, op);
    const auto& g = s_.globals[target->payload()];
    uint32_t id = intern(g.module, g.name.empty() ? name : g.name + "." + name);
    report_global(id, off, op, "getattr reaches");
    return mk(kGlobal, id);
  }
  V resolve_import(uint32_t gid, Special sp, V args, uint64_t off, uint8_t op) {
    const V* a0 = item(args, 0);
    std::string first, second;
    if (a0 == nullptr || !text(*a0, first)) return unresolved_resolver(gid, off, op);
    std::string module, name;
    if (sp == Special::kImportModule) {
      module = first;
    } else if (sp == Special::kModuleAndName) {
      const V* a1 = item(args, 1);
      if (a1 == nullptr || !text(*a1, second)) return unresolved_resolver(gid, off, op);
      module = first;
      name = second;
    } else {
      auto colon = first.find(':');
      auto dot = first.rfind('.');
      if (colon != std::string::npos) {
        module = first.substr(0, colon);
        name = first.substr(colon + 1);
      } else if (dot != std::string::npos) {
        module = first.substr(0, dot);
        name = first.substr(dot + 1);
      } else {
        module = first;
      }
    }
    uint32_t id = intern(module, name);
    report_global(id, off, op, dotted(gid) + " imports");
    return mk(kGlobal, id);
  }
  void nested_loader(uint32_t gid, V args, uint64_t off, uint8_t op, bool pickle_bytes_only = false) {
    const V* a0 = item(args, 0);
    if (a0 == nullptr) return;
    uint64_t start = 0, len = 0;
    if (pickle_bytes_only && a0->kind() != kBytes && a0->kind() != kBytesX) return;
    if (a0->kind() == kBytes || a0->kind() == kStr) {
      if (ref_enc(*a0) != kEncRaw) return;
      start = ref_off(*a0);
      len = ref_len(*a0);
    } else if (a0->kind() == kBytesX && a0->payload() != 0) {
      start = blobs_[a0->payload() - 1].first;
      len = blobs_[a0->payload() - 1].second;
    } else {
      return;
    }
    if (pickle_bytes_only) {
      const uint8_t* h = cur_.need(start, std::min<uint64_t>(len, 2));
      if (len < 2 || h == nullptr || h[0] != 0x80 || h[1] > 5) return;
    }
    nested(start, start + len, "argument of " + dotted(gid) + " at offset " + std::to_string(off), off, op);
  }
  // Scans bytes inside this pickle as a pickle stream of their own.
  bool nested(uint64_t start, uint64_t end, const std::string& context, uint64_t off, uint8_t op) {
    if (s_.depth + 1 > s_.limits.max_nesting) {
      finding("PICKLE-LIMIT", SECMLOPS_SEVERITY_MEDIUM,
              "embedded pickle nested deeper than " + std::to_string(s_.limits.max_nesting) +
                  " levels was not analysed",
              off, op);
      s_.limit_hit = true;
      return false;
    }
    ++s_.depth;
    bool ok = scan_pickle_stream(s_, start, end, context);
    --s_.depth;
    return ok;
  }

  // ---- BUILD ----
  void build(V obj, V state, uint64_t off) {
    if (obj.kind() == kGlobal) {
      std::string g = dotted(static_cast<uint32_t>(obj.payload()));
      finding("PICKLE-BUILD-ON-GLOBAL", SECMLOPS_SEVERITY_HIGH,
              "BUILD sets state on the imported global " + g +
                  " itself (monkey-patches a module or class for later calls)",
              off, 'b', g);
    }
    check_setstate_override(state, off);
    if (obj.kind() != kObj || obj_call(obj) == 0) return;
    Call& c = calls_[obj_call(obj) - 1];
    c.state = state;
    if (s_.globals[c.global].verdict.special == Special::kJoblibWrapper) joblib_array(c, off);
  }
  // Methods that the unpickler or ordinary use of the object call implicitly.
  static bool is_hook(const std::string& key) {
    static const char* kHooks[] = {"__setstate__", "__reduce__", "__reduce_ex__", "__getstate__", "__getattr__",
                                   "__getattribute__", "__setattr__", "__delattr__", "__class__", "__dict__",
                                   "__init__", "__new__", "__call__", "__del__", "__eq__", "__hash__", "__iter__",
                                   "__next__", "__len__", "__getitem__", "__setitem__", "__enter__", "__exit__",
                                   "__repr__", "__str__", "__format__", "__bool__", "__index__", "__setformat__",
                                   "__instancecheck__", "__subclasscheck__", "__get__", "__set__", "__contains__",
                                   "__add__", "__mul__", "__lt__", "__copy__", "__deepcopy__", "append", "extend"};
    for (const char* h : kHooks)
      if (key == h) return true;
    return false;
  }
  // State dicts that plant __setstate__ (or other hooks) make a later BUILD or use call anything.
  void check_setstate_override(V state, uint64_t off) {
    auto scan_dict = [&](V d) {
      const Node* n = node(d);
      if (n == nullptr || d.kind() != kDict) return;
      std::string key;
      for (uint32_t i = 0; i + 1 < n->count; i += 2)
        if (text(heap_[n->start + i], key) && is_hook(key)) {
          finding("PICKLE-SETSTATE-OVERRIDE", SECMLOPS_SEVERITY_HIGH,
                  "BUILD state sets the attribute '" + key +
                      "': a later BUILD or call on this object runs whatever it holds",
                  off, 'b');
          return;
        }
    };
    scan_dict(state);
    if (state.kind() == kTuple)
      for (size_t i = 0; i < 2; ++i)
        if (const V* d = item(state, i)) scan_dict(*d);
  }

  // joblib: after BUILD of a NumpyArrayWrapper the unpickler reads the array from the file.
  void joblib_array(const Call& wrapper, uint64_t off) {
    auto fail = [&](const std::string& why) {
      finding("JOBLIB-ARRAY-UNKNOWN-SIZE", SECMLOPS_SEVERITY_MEDIUM,
              "joblib array data follows this BUILD but its size cannot be determined (" + why +
                  "); the rest of the file was not analysed",
              off, 'b', "joblib.numpy_pickle.NumpyArrayWrapper");
      throw Fatal{};
    };
    V st = wrapper.state;
    const V* shape = dict_get(st, "shape");
    const V* dtype = dict_get(st, "dtype");
    if (shape == nullptr || dtype == nullptr) fail("state without shape or dtype");
    const V* align = dict_get(st, "numpy_array_alignment_bytes");
    // Element count: the product of the shape, with overflow checks.
    uint64_t count = 1;
    const Node* sn = node(*shape);
    if (shape->kind() != kTuple || sn == nullptr) fail("shape is not a tuple of integers");
    for (uint32_t i = 0; i < sn->count; ++i) {
      V d = heap_[sn->start + i];
      if (d.kind() != kInt || d.as_int() < 0) fail("shape is not a tuple of integers");
      auto dim = static_cast<uint64_t>(d.as_int());
      if (dim != 0 && count > UINT64_MAX / dim) fail("shape overflows");
      count *= dim;
    }
    if (dtype->kind() != kObj || obj_call(*dtype) == 0 ||
        s_.globals[obj_global(*dtype)].verdict.special != Special::kNumpyDtype)
      fail("dtype is not a numpy.dtype");
    const Call& dc = calls_[obj_call(*dtype) - 1];
    std::string typestr;
    const V* t0 = item(dc.args, 0);
    if (t0 == nullptr || !text(*t0, typestr) || typestr.empty()) fail("dtype without a type string");
    uint64_t itemsize = 0;
    {
      size_t i = 0;
      while (i < typestr.size() && !std::isdigit(static_cast<unsigned char>(typestr[i]))) ++i;
      std::from_chars(typestr.data() + i, typestr.data() + typestr.size(), itemsize);
      if (typestr[0] == 'U') itemsize *= 4;
    }
    bool has_object = typestr[0] == 'O';
    if (const V* elsize = item(dc.state, 5); elsize != nullptr && elsize->kind() == kInt && elsize->as_int() > 0)
      itemsize = static_cast<uint64_t>(elsize->as_int());
    if (const V* flags = item(dc.state, 7); flags != nullptr && flags->kind() == kInt && (flags->as_int() & 1))
      has_object = true;
    if (pos_ >= frame_end_) frame_end_ = UINT64_MAX;
    if (has_object) {
      // Object arrays are a complete pickle written inline: scan it, continue after its STOP.
      ++s_.depth;
      if (s_.depth > s_.limits.max_nesting) {
        --s_.depth;
        limit("joblib object arrays nested deeper than " + std::to_string(s_.limits.max_nesting), off, 'b');
      }
      PickleResult r = parse_pickle(s_, pos_, end_, "joblib object array");
      --s_.depth;
      if (!r.complete) throw Fatal{};
      pos_ = r.end;
      return;
    }
    // joblib commits the current frame before writing raw array bytes and reads them from the
    // file itself, past the unframer: they end the frame, they are not part of it.
    if (pos_ >= frame_end_) frame_end_ = UINT64_MAX;
    if (itemsize == 0 && count != 0) fail("unknown item size for dtype '" + typestr + "'");
    if (count != 0 && itemsize > UINT64_MAX / count) fail("array size overflows");
    uint64_t bytes = count * itemsize;
    if (align != nullptr && align->kind() == kInt) {
      const uint8_t* p = cur_.need(pos_, 1);
      if (p == nullptr) fail("file ends before the padding byte");
      pos_ += 1 + *p;
    }
    if (pos_ > end_ || bytes > end_ - pos_) {
      finding("JOBLIB-ARRAY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
              "joblib array data (" + std::to_string(bytes) + " bytes) runs past the end of the stream",
              off, 'b', "joblib.numpy_pickle.NumpyArrayWrapper");
      throw Fatal{};
    }
    pos_ += bytes;  // skipped by offset, never read
  }

  // ---- FRAME ----
  // CPython's C unpickler (pickle.load) checks only that the declared length is present, then
  // reads opcodes in line, ignoring frame boundaries; the pure-Python unpickler (pickle._load,
  // and joblib's NumpyUnpickler, which subclasses it) reads a frame as a unit and fails when an
  // opcode straddles its end or a new frame starts inside it, but accepts a frame shorter than
  // declared. Where the two disagree, one of them runs what the other refuses: a finding.
  void frame(uint64_t len) {
    const uint64_t data = pos_ + 9;
    if (frame_end_ != UINT64_MAX && pos_ < frame_end_)
      frame_mismatch("FRAME starts " + std::to_string(frame_end_ - pos_) +
                     " bytes before the end of the current frame: the pure-Python unpickler stops here, "
                     "CPython's C unpickler reads on");
    if (len >= (uint64_t{1} << 63) || len > end_ - std::min(data, end_)) {
      // Only a disagreement if the pickle then completes (a truncated file fails either way):
      // reported at STOP.
      overlong_frame_ = "FRAME at offset " + std::to_string(pos_) + " declares " + std::to_string(len) +
                        " bytes but " + std::to_string(end_ - std::min(data, end_)) +
                        " remain: CPython's C unpickler stops there, the pure-Python unpickler reads on";
      frame_end_ = end_;
    } else {
      frame_end_ = data + len;
    }
    pos_ = data;
  }
  [[gnu::cold, gnu::noinline]] void frame_boundary() {
    if (pos_ > frame_end_)
      frame_mismatch(std::string(opname(op_)) + " at offset " + std::to_string(op_off_) + " runs " +
                     std::to_string(pos_ - frame_end_) +
                     " bytes past the end of its FRAME: the pure-Python unpickler stops there, "
                     "CPython's C unpickler reads on");
    frame_end_ = UINT64_MAX;
  }
  [[gnu::cold, gnu::noinline]] void frame_mismatch(const std::string& message) {
    if (frame_reported_) return;
    frame_reported_ = true;
    finding("PICKLE-FRAME-MISMATCH", SECMLOPS_SEVERITY_HIGH,
            message + "; scanners and loaders that read frames differently see different opcodes",
            op_off_, 0x95);
  }

  // ---- persistent ids ----
  // Returns what persistent_load yields when it is known statically.
  V persistent(V pid, uint64_t off, uint8_t op) {
    // torch: ('storage', <StorageType>, key, location, numel) is resolved by torch's own
    // persistent_load into a storage; anything else is up to the loader.
    const V* tag = item(pid, 0);
    if (tag != nullptr && text_equals(*tag, "storage")) {
      if (s_.collect_storages) {
        const V* type = item(pid, 1);
        const V* key = item(pid, 2);
        std::string k;
        if (key != nullptr && text(*key, k) && s_.storages.size() < s_.limits.max_tracked) {
          uint32_t es = 0;
          if (type != nullptr && type->kind() == kGlobal)
            es = storage_element_size(s_.globals[type->payload()].name);
          s_.storages[k] = StorageInfo{es};
        }
      }
      return mk(kPers);
    }
    // torch legacy full-model saves: ('module', <class>, source_file, source) loads as the class.
    if (tag != nullptr && text_equals(*tag, "module")) {
      const V* cls = item(pid, 1);
      if (cls != nullptr && cls->kind() == kGlobal) return *cls;
    }
    if (!pers_reported_) {
      pers_reported_ = true;
      finding("PICKLE-PERSISTENT-ID", SECMLOPS_SEVERITY_LOW,
              std::string(opname(op)) +
                  ": the loader's persistent_load decides what this becomes (not a torch storage reference)",
              off, op);
    }
    return mk(kPers);
  }

  // ---- memo ----
  // Like CPython's memo: MEMOIZE stores at the number of keys set so far, which differs from
  // the highest index once PUT has used sparse keys.
  [[gnu::always_inline]] void memo_put(uint64_t idx, V v) {
    if (idx < memo_.size() && memo_[idx].kind() != kMissing) {
      memo_[idx] = v;
      return;
    }
    if (idx == memo_.size() && idx == memo_count_ && idx < memo_.capacity() && idx < s_.limits.max_memo) {
      memo_.append(v);
      ++memo_count_;
      return;
    }
    memo_put_slow(idx, v);
  }
  [[gnu::noinline]] void memo_put_slow(uint64_t idx, V v) {
    // Reserved in two steps — small, then the whole budget once — so large memos are never
    // copied by doubling (which would double the peak) and small pickles reserve little.
    if (memo_.capacity() == 0) memo_.reserve(4096);
    else if (idx >= memo_.capacity() && memo_.capacity() < s_.limits.max_memo + 4096)
      memo_.reserve(s_.limits.max_memo + 4096);
    if (idx < memo_.size()) {
      if (memo_[idx].kind() == kMissing) ++memo_count_;
      memo_[idx] = v;
      return;
    }
    if (memo_count_ >= s_.limits.max_memo)
      limit("memo limit of " + std::to_string(s_.limits.max_memo) + " entries exceeded", op_off_, op_);
    if (idx < memo_.size() + 4096 && idx < s_.limits.max_memo + 4096) {
      memo_.resize(idx + 1, mk(kMissing));
      memo_[idx] = v;
      ++memo_count_;
    } else {
      if (sparse_.emplace(idx, v).second) ++memo_count_;
      else sparse_[idx] = v;
    }
  }
  [[gnu::always_inline]] V memo_get(uint64_t idx) {
    if (idx < memo_.size() && memo_[idx].kind() != kMissing) [[likely]]
      return memo_[idx];
    return memo_get_slow(idx);
  }
  [[gnu::noinline]] V memo_get_slow(uint64_t idx) {
    V v = mk(kMissing);
    if (idx < memo_.size()) v = memo_[idx];
    else if (auto it = sparse_.find(idx); it != sparse_.end()) v = it->second;
    if (v.kind() == kMissing) {
      finding("PICKLE-MEMO-MISSING", SECMLOPS_SEVERITY_HIGH,
              std::string(opname(op_)) + " reads memo key " + std::to_string(idx) +
                  ", which was never stored: what follows cannot be resolved statically",
              op_off_, op_);
      return mk(kUnres, op_off_);
    }
    return v;
  }

  // ---- protocol 0 lines ----
  // Offset of the '\n' ending the line that starts at `from`, scanning window by window.
  uint64_t line_end(uint64_t from) {
    uint64_t at = from;
    while (at < end_) {
      uint64_t n = std::min<uint64_t>(end_ - at, 1u << 16);
      const uint8_t* p = cur_.need(at, n);
      if (p == nullptr) break;
      if (const void* nl = std::memchr(p, '\n', n)) return at + (static_cast<const uint8_t*>(nl) - p);
      at += n;
    }
    malformed("line argument without a newline", op_off_, op_);
  }
  // A short line's text (GLOBAL names, numbers, memo keys).
  std::string_view short_line(uint64_t from, uint64_t nl) {
    if (nl - from > 4096) malformed("line argument longer than 4096 bytes", op_off_, op_);
    const uint8_t* p = cur_.need(from, nl - from);
    line_.assign(reinterpret_cast<const char*>(p), nl - from);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    return line_;
  }
  uint64_t line_uint(uint64_t from, uint64_t nl) {
    std::string_view t = short_line(from, nl);
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size()) malformed("invalid memo key '" + std::string(t) + "'", op_off_, op_);
    return v;
  }
  V line_int(uint64_t from, uint64_t nl, bool is_long) {
    std::string_view t = short_line(from, nl);
    if (!is_long && (t == "00" || t == "01")) return mk(kBool, t == "01");
    if (is_long && !t.empty() && t.back() == 'L') t.remove_suffix(1);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc::result_out_of_range) return mk(kBigInt);
    if (ec != std::errc() || ptr != t.data() + t.size()) malformed("invalid integer '" + std::string(t) + "'", op_off_, op_);
    return fits56(v) ? mk_int(v) : mk(kBigInt);
  }

  // Length-prefixed payloads: returns (offset of the payload, length) and skips it.
  std::pair<uint64_t, uint64_t> payload(uint64_t header) {
    const uint8_t* p = cur_.need(pos_, 1 + header);
    if (p == nullptr) malformed("truncated length", op_off_, op_);
    uint64_t len = 0;
    for (uint64_t i = 0; i < header; ++i) len |= uint64_t{p[1 + i]} << (8 * i);
    if (header == 4 && (op_ == 'T') && (len & 0x80000000u)) malformed("negative BINSTRING length", op_off_, op_);
    uint64_t data = pos_ + 1 + header;
    if (data > end_ || len > end_ - data)
      malformed("payload of " + std::to_string(len) + " bytes runs past the end of the stream", op_off_, op_);
    pos_ = data + len;  // skipped by offset: the bytes are never read or copied
    return {data, len};
  }
  V bytes_value(uint64_t off, uint64_t len) {
    if (len <= 0xFFFF) return mk_ref(kBytes, off, len, kEncRaw);
    if (blobs_.size() >= s_.limits.max_tracked) return mk(kBytesX, 0);
    blobs_.emplace_back(off, len);
    return mk(kBytesX, blobs_.size());
  }

  std::string import_line_pair(uint64_t& module_out_nl, std::string& module) {
    uint64_t nl1 = line_end(pos_ + 1);
    module = std::string(short_line(pos_ + 1, nl1));
    uint64_t nl2 = line_end(nl1 + 1);
    std::string name(short_line(nl1 + 1, nl2));
    module_out_nl = nl2;
    return name;
  }

  bool loop();

  ScanState& s_;
  Cursor& cur_;
  uint64_t pos_;
  uint64_t end_;
  std::string context_;
  std::string detail_;
  uint32_t index_ = 0;
  int protocol_ = 0;
  uint8_t op_ = 0;
  uint64_t op_off_ = 0;
  uint64_t max_stack_ = s_.limits.max_stack;
  Stack stack_{max_stack_ + 8};
  std::vector<size_t> marks_;
  Values memo_;
  std::unordered_map<uint64_t, V> sparse_;
  std::vector<Node> nodes_;
  std::vector<V> heap_;
  std::vector<Call> calls_;
  std::vector<std::pair<uint64_t, uint64_t>> blobs_;
  uint64_t tracked_ = 0;
  uint64_t memo_count_ = 0;
  std::vector<uint8_t> reported_;
  struct Deferred {
    uint32_t id;
    uint64_t off;
    uint8_t op;
    std::string how;
  };
  std::vector<Deferred> deferred_;
  // FRAME: the end of the current frame as Python's _Unframer reads it (UINT64_MAX: none).
  uint64_t frame_end_ = UINT64_MAX;
  bool frame_reported_ = false;
  std::string overlong_frame_;  // a FRAME declared longer than the stream, pending STOP
  bool pers_reported_ = false;
  std::string key_, line_, text_;
};

bool Parser::loop() {
  const uint64_t max_ops = s_.limits.max_opcodes;
  const uint64_t every = std::max<uint32_t>(s_.limits.check_every, 1);
  // One countdown serves both periodic duties: a cancellation check every `every` opcodes and
  // the opcode limit (the countdown never runs past what is left of the budget).
  uint64_t ops = 0;  // opcodes accounted for by the countdowns started so far
  uint64_t countdown = 1;
  if (s_.collect_strings) s_.strings.clear();
  while (true) {
    if (--countdown == 0) [[unlikely]] {
      if (ops > 0) s_.cursor.input().check_cancelled();
      if (ops >= max_ops) limit("opcode limit of " + std::to_string(max_ops) + " exceeded", pos_, 0);
      countdown = std::min(every, max_ops - ops);
      ops += countdown;
    }
    // Fast path: most opcodes and their arguments fit in 10 bytes of the current window.
    const uint8_t* p = cur_.need(pos_, 10);
    if (p == nullptr) {
      if (pos_ >= end_) {
        op_off_ = pos_;
        op_ = 0;
        malformed("stream ends without STOP", pos_, 0);
      }
      p = cur_.need(pos_, std::min<uint64_t>(end_ - pos_, 10));
    }
    if (pos_ >= end_) {
      op_off_ = pos_;
      op_ = 0;
      malformed("stream ends without STOP", pos_, 0);
    }
    const uint64_t avail = std::min<uint64_t>(end_ - pos_, 10);
    if (pos_ >= frame_end_) [[unlikely]]
      frame_boundary();
    op_ = p[0];
    op_off_ = pos_;
    auto need_args = [&](uint64_t n) __attribute__((always_inline)) {
      if (n + 1 > avail) malformed("truncated opcode argument", op_off_, op_);
    };
    switch (op_) {
      // ---- framing and protocol ----
      case 0x80:
        need_args(1);
        protocol_ = p[1];
        if (protocol_ > 5) malformed("unsupported pickle protocol " + std::to_string(protocol_), op_off_, op_);
        pos_ += 2;
        break;
      case 0x95: {  // FRAME: the opcodes inside are parsed in line, as CPython's C unpickler does
        need_args(8);
        uint64_t len = 0;
        for (int i = 0; i < 8; ++i) len |= uint64_t{p[1 + i]} << (8 * i);
        frame(len);
        break;
      }
      case '.': {  // STOP
        pop();
        if (!overlong_frame_.empty()) [[unlikely]]
          frame_mismatch(overlong_frame_);
        pos_ += 1;
        return true;
      }
      // ---- constants ----
      case 'N': push(mk(kNone)); pos_ += 1; break;
      case 0x88: push(mk(kBool, 1)); pos_ += 1; break;
      case 0x89: push(mk(kBool, 0)); pos_ += 1; break;
      case 'K': need_args(1); push(mk_int(p[1])); pos_ += 2; break;
      case 'M': need_args(2); push(mk_int(p[1] | (p[2] << 8))); pos_ += 3; break;
      case 'J': {
        need_args(4);
        int32_t v;
        std::memcpy(&v, p + 1, 4);
        push(mk_int(v));
        pos_ += 5;
        break;
      }
      case 'G': need_args(8); push(mk(kFloat)); pos_ += 9; break;
      case 0x8a: case 0x8b: {  // LONG1 / LONG4: little-endian two's complement
        auto [off, len] = payload(op_ == 0x8a ? 1 : 4);
        if (len <= 7) {
          const uint8_t* d = cur_.need(off, len);
          int64_t v = 0;
          for (uint64_t i = 0; i < len; ++i) v |= int64_t{d[i]} << (8 * i);
          if (len > 0 && (d[len - 1] & 0x80)) v -= int64_t{1} << (8 * len);
          push(mk_int(v));
        } else {
          push(mk(kBigInt));
        }
        break;
      }
      case 'I': case 'L': {
        uint64_t nl = line_end(pos_ + 1);
        V v = line_int(pos_ + 1, nl, op_ == 'L');
        push(v);
        pos_ = nl + 1;
        break;
      }
      case 'F': {
        uint64_t nl = line_end(pos_ + 1);
        push(mk(kFloat));
        pos_ = nl + 1;
        break;
      }
      // ---- strings and bytes ----
      case 'S': case 'V': {
        uint64_t nl = line_end(pos_ + 1);
        uint64_t len = nl - (pos_ + 1);
        V v = mk_ref(kStr, pos_ + 1, len, op_ == 'S' ? kEncEscaped : kEncRawUnicodeEscape);
        if (s_.collect_strings) { std::string t; if (text(v, t)) s_.strings.push_back(t); }
        push(v);
        pos_ = nl + 1;
        break;
      }
      case 'T': case 'U': case 'X': case 0x8c: case 0x8d: {
        uint64_t h = op_ == 'U' || op_ == 0x8c ? 1 : op_ == 0x8d ? 8 : 4;
        auto [off, len] = payload(h);
        V v = mk_ref(kStr, off, len, kEncRaw);
        if (s_.collect_strings && s_.strings.size() < s_.limits.max_tracked) {
          std::string t;
          if (text(v, t)) s_.strings.push_back(t);
        }
        push(v);
        break;
      }
      case 'B': case 'C': case 0x8e: {
        auto [off, len] = payload(op_ == 'C' ? 1 : op_ == 'B' ? 4 : 8);
        push(bytes_value(off, len));
        break;
      }
      case 0x96: {
        payload(8);
        push(mk(kByteArray));
        break;
      }
      case 0x97: push(mk(kBuffer)); pos_ += 1; break;  // NEXT_BUFFER: out-of-band data
      case 0x98: top(); pos_ += 1; break;               // READONLY_BUFFER
      // ---- containers ----
      case ')': push(mk(kTuple, 1)); pos_ += 1; break;
      case ']': push(mk(kList)); pos_ += 1; break;
      case '}': push(new_dict()); pos_ += 1; break;
      case 0x8f: push(mk(kSet)); pos_ += 1; break;
      case '(':
        if (stack_.size() + marks_.size() >= s_.limits.max_stack)
          limit("stack depth limit of " + std::to_string(s_.limits.max_stack) + " exceeded", op_off_, op_);
        marks_.push_back(stack_.size());
        pos_ += 1;
        break;
      case 0x85: case 0x86: case 0x87: {
        size_t n = op_ - 0x84;
        if (stack_.size() < fence() + n) underflow(op_off_, op_, "needs more items than the stack holds");
        size_t from = stack_.size() - n;
        V t = make_container(kTuple, from, n);
        stack_.resize(from);
        stack_.push_back(t);
        pos_ += 1;
        break;
      }
      case 't': case 'l': case 'd': case 0x91: {
        size_t k = pop_mark();
        size_t n = stack_.size() - k;
        V c;
        if (op_ == 't') c = make_container(kTuple, k, n);
        else if (op_ == 'l') c = mk(kList);
        else if (op_ == 0x91) c = mk(kFrozenSet);
        else {
          if (n % 2) underflow(op_off_, op_, "has a key without a value");
          c = new_dict();
          dict_add(c, k, n);
        }
        stack_.resize(k);
        stack_.push_back(c);
        pos_ += 1;
        break;
      }
      case 'a': pop(); top(); pos_ += 1; break;
      case 'e': case 0x90: {
        size_t k = pop_mark();
        stack_.resize(k);
        top();
        pos_ += 1;
        break;
      }
      case 's': {
        if (stack_.size() < fence() + 3) underflow(op_off_, op_, "needs a dict, a key and a value");
        size_t from = stack_.size() - 2;
        dict_add(stack_[from - 1], from, 2);
        stack_.resize(from);
        pos_ += 1;
        break;
      }
      case 'u': {
        size_t k = pop_mark();
        size_t n = stack_.size() - k;
        if (n % 2) underflow(op_off_, op_, "has a key without a value");
        if (k <= fence()) underflow(op_off_, op_, "has no dict to update");
        dict_add(stack_[k - 1], k, n);
        stack_.resize(k);
        pos_ += 1;
        break;
      }
      // ---- stack manipulation ----
      case '0':
        if (stack_.size() > fence()) stack_.pop_back();
        else if (!marks_.empty()) marks_.pop_back();
        else underflow(op_off_, op_, "pops an empty stack");
        pos_ += 1;
        break;
      case '1': stack_.resize(pop_mark()); pos_ += 1; break;
      case '2': { V v = top(); push(v); pos_ += 1; break; }
      // ---- memo ----
      case 'p': {
        uint64_t nl = line_end(pos_ + 1);
        uint64_t idx = line_uint(pos_ + 1, nl);
        memo_put(idx, top());
        pos_ = nl + 1;
        break;
      }
      case 'q': need_args(1); memo_put(p[1], top()); pos_ += 2; break;
      case 'r': {
        need_args(4);
        uint32_t idx;
        std::memcpy(&idx, p + 1, 4);
        memo_put(idx, top());
        pos_ += 5;
        break;
      }
      case 0x94: memo_put(memo_count_, top()); pos_ += 1; break;
      case 'g': {
        uint64_t nl = line_end(pos_ + 1);
        uint64_t idx = line_uint(pos_ + 1, nl);
        push(memo_get(idx));
        pos_ = nl + 1;
        break;
      }
      case 'h': need_args(1); push(memo_get(p[1])); pos_ += 2; break;
      case 'j': {
        need_args(4);
        uint32_t idx;
        std::memcpy(&idx, p + 1, 4);
        push(memo_get(idx));
        pos_ += 5;
        break;
      }
      // ---- imports ----
      case 'c': {
        std::string module;
        uint64_t nl;
        std::string name = import_line_pair(nl, module);
        uint32_t id = intern(module, name);
        report_global(id, op_off_, op_, "imports");
        push(mk(kGlobal, id));
        pos_ = nl + 1;
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        V name = pop();
        V module = pop();
        std::string m, n;
        if (!text(module, m) || !text(name, n)) {
          finding("PICKLE-UNRESOLVED-GLOBAL", SECMLOPS_SEVERITY_HIGH,
                  std::string("STACK_GLOBAL imports a name whose module (") + kind_name(module.kind()) +
                      ") or name (" + kind_name(name.kind()) +
                      ") is not a string known statically (built at run time or unreadable)",
                  op_off_, op_);
          push(mk(kUnres, op_off_));
        } else {
          uint32_t id = intern(m, n);
          report_global(id, op_off_, op_, "imports");
          push(mk(kGlobal, id));
        }
        pos_ += 1;
        break;
      }
      case 0x82: case 0x83: case 0x84: {  // EXT1/2/4: copyreg's extension registry
        uint64_t n = op_ == 0x82 ? 1 : op_ == 0x83 ? 2 : 4;
        need_args(n);
        uint64_t code = 0;
        for (uint64_t i = 0; i < n; ++i) code |= uint64_t{p[1 + i]} << (8 * i);
        finding("PICKLE-EXT-CODE", SECMLOPS_SEVERITY_HIGH,
                std::string(opname(op_)) + " imports extension code " + std::to_string(code) +
                    " through copyreg's registry, which the file does not show: the global cannot be resolved statically",
                op_off_, op_);
        push(mk(kUnres, op_off_));
        pos_ += 1 + n;
        break;
      }
      // ---- calls ----
      case 'R': {
        V args = pop();
        V callable = pop();
        push(call(callable, args, op_off_, op_));
        pos_ += 1;
        break;
      }
      case 0x81: {
        V args = pop();
        V cls = pop();
        push(call(cls, args, op_off_, op_));
        pos_ += 1;
        break;
      }
      case 0x92: {
        pop();  // kwargs
        V args = pop();
        V cls = pop();
        push(call(cls, args, op_off_, op_));
        pos_ += 1;
        break;
      }
      case 'o': {
        size_t k = pop_mark();
        if (stack_.size() == k) underflow(op_off_, op_, "has no class to instantiate");
        V cls = stack_[k];
        V args = make_container(kTuple, k + 1, stack_.size() - k - 1);
        stack_.resize(k);
        push(call(cls, args, op_off_, op_));
        pos_ += 1;
        break;
      }
      case 'i': {
        std::string module;
        uint64_t nl;
        std::string name = import_line_pair(nl, module);
        uint32_t id = intern(module, name);
        report_global(id, op_off_, op_, "imports");
        size_t k = pop_mark();
        V args = make_container(kTuple, k, stack_.size() - k);
        stack_.resize(k);
        push(call(mk(kGlobal, id), args, op_off_, op_));
        pos_ = nl + 1;
        break;
      }
      case 'b': {
        V state = pop();
        V obj = top();
        pos_ += 1;
        build(obj, state, op_off_);
        break;
      }
      // ---- persistent ids ----
      case 'P': {
        uint64_t nl = line_end(pos_ + 1);
        push(persistent(mk(kStrX), op_off_, op_));
        pos_ = nl + 1;
        break;
      }
      case 'Q': {
        V pid = pop();
        push(persistent(pid, op_off_, op_));
        pos_ += 1;
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op_);
        malformed(std::string("unknown opcode ") + hex, op_off_, op_);
      }
    }
  }
}

// What a run of bytes looks like, for trailing-data findings.
struct Shape {
  const char* what;
  secmlops_severity severity;
};
Shape describe(const uint8_t* p, uint64_t n, bool all_zero) {
  auto starts = [&](const char* magic, size_t len) { return n >= len && std::memcmp(p, magic, len) == 0; };
  if (all_zero) return {"zero padding", SECMLOPS_SEVERITY_INFO};
  if (starts("PK\x03\x04", 4) || starts("PK\x05\x06", 4)) return {"a zip archive (polyglot file: zip loaders read it)", SECMLOPS_SEVERITY_MEDIUM};
  if (starts("\x1f\x8b", 2)) return {"gzip data", SECMLOPS_SEVERITY_MEDIUM};
  if (starts("\x93NUMPY", 6)) return {"a NumPy .npy array", SECMLOPS_SEVERITY_MEDIUM};
  if (starts("\x7f" "ELF", 4)) return {"an ELF executable", SECMLOPS_SEVERITY_HIGH};
  if (starts("MZ", 2)) return {"a Windows executable", SECMLOPS_SEVERITY_HIGH};
  if (starts("#!", 2)) return {"a script", SECMLOPS_SEVERITY_HIGH};
  bool text = true;
  for (uint64_t i = 0; i < n && i < 4096; ++i)
    if (p[i] < 0x09 || (p[i] > 0x0d && p[i] < 0x20) || p[i] == 0x7f) { text = false; break; }
  if (text) return {"text", SECMLOPS_SEVERITY_MEDIUM};
  return {"unrecognised binary data", SECMLOPS_SEVERITY_MEDIUM};
}

bool plausible_pickle_start(const uint8_t* p, uint64_t n) {
  if (n >= 2 && p[0] == 0x80 && p[1] <= 5) return true;
  // Protocol 0/1 pickles start with a container, a constant or an import.
  return n >= 2 && std::strchr("(]})cNIKJXUTSVFLGi", p[0]) != nullptr && p[0] != 0;
}

}  // namespace

PickleResult parse_pickle(ScanState& state, uint64_t start, uint64_t end, const std::string& context) {
  Parser parser(state, start, end, context);
  return parser.run();
}

bool inspect_trailing(ScanState& state, uint64_t pos, uint64_t end, const std::string& what_precedes,
                      const std::string& context) {
  uint64_t n = std::min<uint64_t>(end - pos, 1u << 20);
  const uint8_t* p = state.cursor.need(pos, n);
  if (p == nullptr) return false;
  bool all_zero = true;
  for (uint64_t i = 0; i < n; ++i)
    if (p[i] != 0) { all_zero = false; break; }
  if (all_zero && n < end - pos) all_zero = false;  // only the first MiB was checked
  Shape s = describe(p, n, all_zero);
  std::string detail = context.empty() ? "after " + what_precedes : context + ", after " + what_precedes;
  emit(state, "PICKLE-TRAILING-DATA", s.severity,
       std::to_string(end - pos) + " bytes after " + what_precedes + " hold " + s.what +
           "; loaders ignore them but other tools may not",
       pos, detail, {{"bytes", std::to_string(end - pos)}});
  return true;
}

bool scan_pickle_stream(ScanState& state, uint64_t start, uint64_t end, const std::string& context,
                        bool stacked_is_expected) {
  uint64_t pos = start;
  uint64_t count = 0;
  while (pos < end) {
    if (count >= state.limits.max_pickles) {
      emit(state, "PICKLE-LIMIT", SECMLOPS_SEVERITY_MEDIUM,
           "more than " + std::to_string(state.limits.max_pickles) + " stacked pickles; the rest was not analysed",
           pos, context);
      state.limit_hit = true;
      return false;
    }
    PickleResult r;
    if (count == 0) {
      r = parse_pickle(state, pos, end, context);
    } else {
      // Something follows a STOP. A pickle is analysed (its findings count); anything else is
      // described. A protocol-0 guess that fails is not a pickle after all.
      const uint8_t* p = state.cursor.need(pos, std::min<uint64_t>(end - pos, 2));
      if (p == nullptr || !plausible_pickle_start(p, std::min<uint64_t>(end - pos, 2))) break;
      VectorSink tentative;
      Sink* real = state.sink;
      state.sink = &tentative;
      uint32_t started = state.pickles_started;
      try {
        r = parse_pickle(state, pos, end, context);
      } catch (...) {
        state.sink = real;
        throw;
      }
      state.sink = real;
      bool is_pickle = r.complete || p[0] == 0x80;
      if (!is_pickle) {
        state.pickles_started = started;
        break;
      }
      for (auto& f : tentative.findings) real->emit(std::move(f));
    }
    ++count;
    if (!r.complete) return false;
    pos = r.end;
  }
  if (count > 1 && !stacked_is_expected)
    emit(state, "PICKLE-STACKED", SECMLOPS_SEVERITY_LOW,
         std::to_string(count) + " pickles follow each other in one stream; loaders that call pickle.load repeatedly run every one (all were analysed)",
         start, context, {{"pickles", std::to_string(count)}});
  if (pos < end) inspect_trailing(state, pos, end, count > 1 ? "the last pickle" : "the pickle", context);
  return true;
}

}  // namespace secmlops::plugins::pickle
