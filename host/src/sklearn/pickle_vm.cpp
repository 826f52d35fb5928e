#include "sklearn/pickle_vm.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace secmlops::host::sklearn {

const char* value_kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::None:
      return "None";
    case Value::Kind::Bool:
      return "a bool";
    case Value::Kind::Int:
      return "an int";
    case Value::Kind::Float:
      return "a float";
    case Value::Kind::Str:
      return "a string";
    case Value::Kind::Bytes:
      return "bytes";
    case Value::Kind::Tuple:
      return "a tuple";
    case Value::Kind::List:
      return "a list";
    case Value::Kind::Dict:
      return "a dict";
    case Value::Kind::Global:
      return "a class or function";
    case Value::Kind::DType:
      return "a dtype";
    case Value::Kind::Array:
      return "an array";
    case Value::Kind::Object:
      return "an object";
  }
  return "a value";
}

const char* supported_estimators() {
  return "LogisticRegression, LinearSVC, SVC (rbf, linear, poly or sigmoid kernel), "
         "RandomForestClassifier, ExtraTreesClassifier, "
         "DecisionTreeClassifier, MLPClassifier (ReLU), and Pipelines of StandardScaler or "
         "MinMaxScaler "
         "followed by one of them";
}

namespace {

using K = Value::Kind;

// What a global may do in a model's stream.
enum class Role {
  kReconstruct,  // numpy _reconstruct(ndarray, (0,), b'b') + BUILD
  kNdarray,      // numpy.ndarray: only an argument
  kDtype,        // numpy.dtype(descr, align, copy) + BUILD
  kScalar,       // numpy scalar(dtype, bytes)
  kFromBuffer,   // numpy _frombuffer(buffer, dtype, shape, order) (protocol 5)
  kEncode,       // _codecs.encode(str, 'latin1'): bytes in protocol 2
  kBytes,        // bytes(): empty bytes in protocol 2
  kClass,        // an allowlisted class: NEWOBJ(cls, ()) + BUILD(dict)
  kTree,         // sklearn.tree._tree.Tree(n_features, n_classes, n_outputs) + BUILD(dict)
  kInert,        // a NumPy random-state constructor: recorded, never used
};

const std::unordered_map<std::string_view, Role>& allowlist() {
  static const std::unordered_map<std::string_view, Role> table = {
      {"numpy.core.multiarray._reconstruct", Role::kReconstruct},
      {"numpy._core.multiarray._reconstruct", Role::kReconstruct},
      {"numpy.ndarray", Role::kNdarray},
      {"numpy.dtype", Role::kDtype},
      {"numpy.core.multiarray.scalar", Role::kScalar},
      {"numpy._core.multiarray.scalar", Role::kScalar},
      {"numpy.core.numeric._frombuffer", Role::kFromBuffer},
      {"numpy._core.numeric._frombuffer", Role::kFromBuffer},
      {"_codecs.encode", Role::kEncode},
      {"__builtin__.bytes", Role::kBytes},
      {"builtins.bytes", Role::kBytes},
      {"sklearn.tree._tree.Tree", Role::kTree},
      {"numpy.random._pickle.__randomstate_ctor", Role::kInert},
      {"numpy.random._pickle.__bit_generator_ctor", Role::kInert},
      {"numpy.random._pickle.__generator_ctor", Role::kInert},
      {"numpy.random.__RandomState_ctor", Role::kInert},
      {"joblib.numpy_pickle.NumpyArrayWrapper", Role::kClass},
      {"sklearn.linear_model._logistic.LogisticRegression", Role::kClass},
      {"sklearn.svm._classes.LinearSVC", Role::kClass},
      {"sklearn.svm._classes.SVC", Role::kClass},
      {"sklearn.ensemble._forest.RandomForestClassifier", Role::kClass},
      {"sklearn.ensemble._forest.ExtraTreesClassifier", Role::kClass},
      {"sklearn.tree._classes.DecisionTreeClassifier", Role::kClass},
      {"sklearn.tree._classes.ExtraTreeClassifier", Role::kClass},
      {"sklearn.neural_network._multilayer_perceptron.MLPClassifier", Role::kClass},
      {"sklearn.neural_network._stochastic_optimizers.AdamOptimizer", Role::kClass},
      {"sklearn.neural_network._stochastic_optimizers.SGDOptimizer", Role::kClass},
      {"sklearn.preprocessing._label.LabelBinarizer", Role::kClass},
      {"sklearn.pipeline.Pipeline", Role::kClass},
      {"sklearn.preprocessing._data.StandardScaler", Role::kClass},
      {"sklearn.preprocessing._data.MinMaxScaler", Role::kClass},
  };
  return table;
}

// Classes that are recognised but not representable by any model plugin.
const char* known_unsupported(std::string_view name) {
  if (name.find("GradientBoosting") != std::string_view::npos)
    return "boosted trees (their scores are sums of regression trees passed through a loss link) "
           "are not "
           "represented by any model plugin (the random_forest plugin averages class distributions "
           "and refuses "
           "an ensemble with a post-transform or base values)";
  return nullptr;
}

struct Mark {};

class Vm {
 public:
  Vm(Arena& arena, std::span<const uint8_t> bytes, uint64_t start, const VmLimits& limits,
     uint32_t depth, uint64_t& budget_values, uint64_t& budget_bytes)
      : a_(arena),
        b_(bytes),
        pos_(start),
        lim_(limits),
        depth_(depth),
        values_(budget_values),
        bytes_(budget_bytes) {}

  Unpickled run() {
    Unpickled out;
    bool first = true;
    for (;;) {
      op_off_ = pos_;
      const uint8_t op = u8();
      if (first && op != 0x80)
        fail(
            "the stream does not start with a PROTO opcode: protocol 0 and 1 pickles are not "
            "imported");
      first = false;
      switch (op) {
        case 0x80: {  // PROTO
          protocol_ = u8();
          if (protocol_ < 2 || protocol_ > 5)
            fail("pickle protocol " + std::to_string(protocol_) + " is not imported (2 to 5 are)");
          break;
        }
        case 0x95: {  // FRAME: a length hint; the frame must lie within the stream
          uint64_t n = le(8);
          if (n > b_.size() - pos_)
            fail("FRAME of " + std::to_string(n) + " bytes runs past the end of the stream");
          break;
        }
        case '.': {  // STOP
          if (!marks_.empty()) fail("STOP inside an open MARK");
          if (stack_.size() != 1)
            fail("STOP with " + std::to_string(stack_.size()) +
                 " values on the stack (expected 1)");
          out.root = stack_.back();
          out.protocol = protocol_;
          out.end = pos_;
          return out;
        }
        case '(':
          mark();
          break;
        case '0':
          pop();
          break;
        case '1':
          stack_.resize(pop_mark());
          break;
        case '2':
          push(top());
          break;
        case 'N':
          push(make(K::None));
          break;
        case 0x88:
          push(boolean(true));
          break;
        case 0x89:
          push(boolean(false));
          break;
        case 'J':
          push(integer(static_cast<int32_t>(le(4))));
          break;
        case 'K':
          push(integer(u8()));
          break;
        case 'M':
          push(integer(static_cast<int64_t>(le(2))));
          break;
        case 0x8a:
          push(long_int(u8()));
          break;
        case 0x8b:
          push(long_int(le(4)));
          break;
        case 'G': {
          uint64_t bits = 0;
          const uint8_t* p = need(8);
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
          Value* v = make(K::Float);
          std::memcpy(&v->f, &bits, 8);
          push(v);
          break;
        }
        case 0x8c:
          push(text(K::Str, u8()));
          break;  // SHORT_BINUNICODE
        case 'X':
          push(text(K::Str, le(4)));
          break;  // BINUNICODE
        case 0x8d:
          push(text(K::Str, le(8)));
          break;  // BINUNICODE8
        case 'C':
          push(text(K::Bytes, u8()));
          break;  // SHORT_BINBYTES
        case 'B':
          push(text(K::Bytes, le(4)));
          break;    // BINBYTES
        case 0x8e:  // BINBYTES8
        case 0x96:
          push(text(K::Bytes, le(8)));
          break;  // BYTEARRAY8 (in-band buffer)
        case 'U':
          push(text(K::Bytes, u8()));
          break;  // SHORT_BINSTRING
        case 'T':
          push(text(K::Bytes, le(4)));
          break;  // BINSTRING
        case 0x98:
          top();
          break;  // READONLY_BUFFER: no-op in-band
        case ')':
          push(make(K::Tuple));
          break;
        case 0x85:
          tuple_of(1);
          break;
        case 0x86:
          tuple_of(2);
          break;
        case 0x87:
          tuple_of(3);
          break;
        case 't':
          sequence(K::Tuple, pop_mark());
          break;
        case ']':
          push(make(K::List));
          break;
        case 'l':
          sequence(K::List, pop_mark());
          break;
        case '}':
          push(make(K::Dict));
          break;
        case 'd': {
          size_t from = pop_mark();
          Value* d = make(K::Dict);
          add_items(d, from);
          push(d);
          break;
        }
        case 'a': {
          Value* v = pop();
          Value* l = top();
          if (l->kind != K::List) fail(std::string("APPEND to ") + value_kind_name(l->kind));
          l->items.push_back(v);
          break;
        }
        case 'e': {
          size_t from = pop_mark();
          if (from <= fence()) fail("APPENDS without a list below its MARK");
          Value* l = stack_[from - 1];
          if (l->kind != K::List) fail(std::string("APPENDS to ") + value_kind_name(l->kind));
          l->items.insert(l->items.end(), stack_.begin() + static_cast<ptrdiff_t>(from),
                          stack_.end());
          stack_.resize(from);
          break;
        }
        case 's': {
          Value* v = pop();
          Value* k = pop();
          Value* d = top();
          if (d->kind != K::Dict) fail(std::string("SETITEM on ") + value_kind_name(d->kind));
          d->dict.emplace_back(k, v);
          break;
        }
        case 'u': {
          size_t from = pop_mark();
          if (from <= fence()) fail("SETITEMS without a dict below its MARK");
          Value* d = stack_[from - 1];
          if (d->kind != K::Dict) fail(std::string("SETITEMS on ") + value_kind_name(d->kind));
          add_items(d, from);
          break;
        }
        case 0x94:
          memo_put(memo_.size());
          break;  // MEMOIZE
        case 'q':
          memo_put(u8());
          break;  // BINPUT
        case 'r':
          memo_put(le(4));
          break;  // LONG_BINPUT
        case 'h':
          push(memo_get(u8()));
          break;  // BINGET
        case 'j':
          push(memo_get(le(4)));
          break;      // LONG_BINGET
        case 0x93: {  // STACK_GLOBAL
          Value* name = pop();
          Value* module = pop();
          if (module->kind != K::Str || name->kind != K::Str)
            fail("STACK_GLOBAL operands are not strings");
          push(global(module->s + "." + name->s));
          break;
        }
        case 'c': {  // GLOBAL "module\nname\n"
          std::string module = line(), name = line();
          push(global(module + "." + name));
          break;
        }
        case 'R':
          reduce();
          break;
        case 0x81: {  // NEWOBJ
          Value* args = pop();
          Value* cls = pop();
          push(newobj(cls, args));
          break;
        }
        case 0x92: {  // NEWOBJ_EX
          Value* kwargs = pop();
          Value* args = pop();
          Value* cls = pop();
          if (kwargs->kind != K::Dict || !kwargs->dict.empty())
            fail("NEWOBJ_EX with keyword arguments");
          push(newobj(cls, args));
          break;
        }
        case 'b':
          build();
          break;
        case 'P':
        case 'Q':
          fail("persistent ids (PERSID/BINPERSID) refer to data outside the stream");
        case 0x82:
        case 0x83:
        case 0x84:
          fail("extension-registry opcodes (EXT1/2/4) are not part of a model's state");
        case 0x97:
          fail(
              "out-of-band buffers (NEXT_BUFFER) are not imported: the array data are not in the "
              "file");
        case 0x8f:
        case 0x90:
        case 0x91:
          fail("sets are not part of a supported model's state");
        case 'i':
        case 'o':
          fail("protocol 0/1 object creation (INST/OBJ) is not imported");
        default:
          fail("opcode 0x" + hex(op) +
               " is not imported (protocol 0 text opcodes and unknown opcodes refuse the stream)");
      }
    }
  }

 private:
  // ---- errors ----
  [[noreturn]] void fail(const std::string& why) const {
    throw ImportError(why + " (offset " + std::to_string(op_off_) + ")", op_off_);
  }
  [[noreturn]] void refuse(const std::string& why) const {
    throw ImportError(why + " (offset " + std::to_string(op_off_) + ")", op_off_, true);
  }
  static std::string hex(uint8_t b) {
    const char* d = "0123456789abcdef";
    return {d[b >> 4], d[b & 15]};
  }

  // ---- input ----
  const uint8_t* need(uint64_t n) {
    if (n > b_.size() - pos_)
      fail("truncated stream: " + std::to_string(n) + " bytes needed, " +
           std::to_string(b_.size() - pos_) + " left");
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8() { return *need(1); }
  uint64_t le(int n) {
    const uint8_t* p = need(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  std::string line() {
    const uint8_t* start = b_.data() + pos_;
    const auto* end = static_cast<const uint8_t*>(
        std::memchr(start, '\n', std::min<uint64_t>(b_.size() - pos_, 1024)));
    if (end == nullptr) fail("GLOBAL operand without a newline within 1024 bytes");
    std::string s(reinterpret_cast<const char*>(start), static_cast<size_t>(end - start));
    pos_ += s.size() + 1;
    return s;
  }

  // ---- values ----
  Value* make(K kind) {
    if (++values_ > lim_.max_values)
      fail("more than " + std::to_string(lim_.max_values) + " values");
    return a_.make(kind);
  }
  void charge(uint64_t n) {
    if (n > lim_.max_bytes - bytes_)
      fail("more than " + std::to_string(lim_.max_bytes) + " bytes of strings and arrays");
    bytes_ += n;
  }
  Value* boolean(bool b) {
    Value* v = make(K::Bool);
    v->i = b ? 1 : 0;
    return v;
  }
  Value* integer(int64_t i) {
    Value* v = make(K::Int);
    v->i = i;
    return v;
  }
  Value* long_int(uint64_t n) {
    if (n > 8) fail("an integer of " + std::to_string(n) + " bytes is larger than any model field");
    const uint8_t* p = need(n);
    uint64_t u = 0;
    for (uint64_t k = n; k-- > 0;) u = (u << 8) | p[k];
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    return integer(static_cast<int64_t>(u));
  }
  // Strings are copied (they are names and keys, and must be valid past the stream); bytes are
  // viewed in place, so an array's data are never copied.
  Value* text(K kind, uint64_t n) {
    const uint8_t* p = need(n);
    Value* v = make(kind);
    if (kind == K::Bytes) {
      v->b = std::string_view(reinterpret_cast<const char*>(p), n);
      return v;
    }
    charge(n);
    v->s.assign(reinterpret_cast<const char*>(p), n);
    return v;
  }

  // ---- stack ----
  size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Value* v) {
    if (stack_.size() + marks_.size() >= lim_.max_stack)
      fail("stack deeper than " + std::to_string(lim_.max_stack));
    stack_.push_back(v);
  }
  void mark() {
    if (stack_.size() + marks_.size() >= lim_.max_stack)
      fail("stack deeper than " + std::to_string(lim_.max_stack));
    marks_.push_back(stack_.size());
  }
  Value* pop() {
    if (stack_.size() <= fence()) fail("stack underflow");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() {
    if (stack_.size() <= fence()) fail("stack underflow");
    return stack_.back();
  }
  size_t pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    size_t k = marks_.back();
    marks_.pop_back();
    return k;
  }
  void tuple_of(size_t n) {
    if (stack_.size() < fence() + n) fail("stack underflow");
    sequence(K::Tuple, stack_.size() - n);
  }
  // Replaces stack_[from, end) by one tuple or list of those values.
  void sequence(K kind, size_t from) {
    Value* t = make(kind);
    t->items.assign(stack_.begin() + static_cast<ptrdiff_t>(from), stack_.end());
    stack_.resize(from);
    push(t);
  }
  void add_items(Value* d, size_t from) {
    if ((stack_.size() - from) % 2 != 0) fail("odd number of items for a dict");
    for (size_t k = from; k < stack_.size(); k += 2) {
      if (stack_[k]->kind == K::List || stack_[k]->kind == K::Dict) fail("unhashable dict key");
      d->dict.emplace_back(stack_[k], stack_[k + 1]);
    }
    stack_.resize(from);
  }

  // ---- memo ----
  void memo_put(uint64_t index) {
    Value* v = top();
    if (index >= lim_.max_memo)
      fail("memo index " + std::to_string(index) + " beyond the limit of " +
           std::to_string(lim_.max_memo));
    if (index >= memo_.size()) {
      // Sparse indices grow the table only up to the limit; slots in between stay empty.
      if (index - memo_.size() > (1u << 16) && index > 2 * memo_.size() + 65536)
        fail("memo index " + std::to_string(index) + " far beyond the " +
             std::to_string(memo_.size()) + " entries so far");
      memo_.resize(index + 1, nullptr);
    }
    memo_[index] = v;
  }
  Value* memo_get(uint64_t index) {
    if (index >= memo_.size() || memo_[index] == nullptr)
      fail("memo entry " + std::to_string(index) + " was never stored");
    return memo_[index];
  }

  // ---- globals and calls ----
  Value* global(const std::string& name) {
    auto it = allowlist().find(name);
    if (it == allowlist().end()) {
      if (const char* why = known_unsupported(name))
        refuse("this file is a pickle of scikit-learn `" + name + "`: " + why +
               "; supported: " + supported_estimators());
      if (name.rfind("sklearn.", 0) == 0)
        refuse("this file is a pickle holding scikit-learn `" + name +
               "`, which secmlops does not import; supported: " + supported_estimators());
      refuse("this file is a pickle of `" + name +
             "`, not a supported scikit-learn model; secmlops never unpickles; supported: " +
             supported_estimators());
    }
    Value* v = make(K::Global);
    v->s = name;
    return v;
  }
  Role role(const Value* g) const { return allowlist().at(g->s); }
  static const Value* item(const Value* t, size_t i) {
    return i < t->items.size() ? t->items[i] : nullptr;
  }

  void reduce() {
    Value* args = pop();
    Value* fn = pop();
    if (fn->kind != K::Global)
      fail(std::string("REDUCE calls ") + value_kind_name(fn->kind) + ", not a global");
    if (args->kind != K::Tuple) fail("REDUCE arguments are not a tuple");
    const auto& it = args->items;
    switch (role(fn)) {
      case Role::kReconstruct: {
        if (it.size() != 3 || it[0]->kind != K::Global || role(it[0]) != Role::kNdarray)
          fail("_reconstruct of something other than numpy.ndarray");
        Value* v = make(K::Array);
        v->array = std::make_unique<Array>();
        push(v);
        return;
      }
      case Role::kDtype: {
        if (it.empty() || it[0]->kind != K::Str) fail("numpy.dtype without a type string");
        Value* v = make(K::DType);
        v->dtype = std::make_unique<DType>(parse_descr(it[0]->s));
        push(v);
        return;
      }
      case Role::kScalar: {
        if (it.size() != 2 || it[0]->kind != K::DType || it[1]->kind != K::Bytes)
          fail("numpy scalar without (dtype, bytes)");
        push(scalar(*it[0]->dtype, it[1]->b));
        return;
      }
      case Role::kFromBuffer: {
        if (it.size() != 4 || it[0]->kind != K::Bytes || it[1]->kind != K::DType ||
            it[2]->kind != K::Tuple || it[3]->kind != K::Str)
          fail("_frombuffer without (buffer, dtype, shape, order)");
        Value* v = make(K::Array);
        v->array = std::make_unique<Array>();
        Array& arr = *v->array;
        arr.dtype = *it[1]->dtype;
        arr.shape = shape_of(it[2]);
        arr.fortran = it[3]->s == "F";
        if (it[3]->s != "C" && it[3]->s != "F") fail("_frombuffer order '" + it[3]->s + "'");
        set_data(arr, it[0]->b);
        push(v);
        return;
      }
      case Role::kEncode: {
        if (it.size() != 2 || it[0]->kind != K::Str || it[1]->kind != K::Str ||
            it[1]->s != "latin1")
          fail("_codecs.encode other than (str, 'latin1')");
        push(latin1(it[0]->s));
        return;
      }
      case Role::kBytes: {
        if (!it.empty()) fail("bytes() with arguments");
        push(make(K::Bytes));
        return;
      }
      case Role::kTree:
      case Role::kInert: {
        Value* v = make(K::Object);
        v->object = std::make_unique<Object>();
        v->object->cls = fn->s;
        v->object->args = args;
        push(v);
        return;
      }
      default:
        fail("REDUCE on `" + fn->s + "`, which is not a constructor of a model's data");
    }
  }

  Value* newobj(Value* cls, Value* args) {
    if (cls->kind != K::Global || role(cls) != Role::kClass)
      fail("NEWOBJ of something other than an allowlisted class");
    if (args->kind != K::Tuple || !args->items.empty())
      fail("NEWOBJ of `" + cls->s + "` with constructor arguments");
    Value* v = make(K::Object);
    v->object = std::make_unique<Object>();
    v->object->cls = cls->s;
    v->object->args = args;
    return v;
  }

  void build() {
    Value* state = pop();
    Value* target = top();
    switch (target->kind) {
      case K::Array:
        build_array(*target->array, state);
        return;
      case K::DType:
        build_dtype(*target->dtype, state);
        return;
      case K::Object: {
        Object& o = *target->object;
        if (o.state != nullptr) fail("BUILD twice on `" + o.cls + "`");
        if (state->kind == K::Tuple && state->items.size() == 2 && state->items[1]->kind == K::None)
          state = const_cast<Value*>(state->items[0]);
        if (state->kind != K::Dict)
          fail(std::string("BUILD of `") + o.cls + "` with " + value_kind_name(state->kind) +
               " instead of a dict");
        o.state = state;
        if (o.cls == "joblib.numpy_pickle.NumpyArrayWrapper") stack_.back() = joblib_array(o);
        return;
      }
      default:
        fail(std::string("BUILD on ") + value_kind_name(target->kind));
    }
  }

  // ---- NumPy ----
  static bool parse_uint(std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 9) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  }
  DType parse_descr(const std::string& descr) {
    DType d;
    std::string_view s = descr;
    if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
      d.big_endian = s[0] == '>';
      s.remove_prefix(1);
    }
    if (s.empty()) fail("empty dtype string");
    d.kind = s[0];
    uint64_t n = 0;
    if (!parse_uint(s.substr(1), n) || n == 0)
      fail("dtype '" + descr + "' is not a sized scalar type");
    switch (d.kind) {
      case 'f':
        if (n != 2 && n != 4 && n != 8) fail("dtype '" + descr + "'");
        break;
      case 'i':
      case 'u':
        if (n != 1 && n != 2 && n != 4 && n != 8) fail("dtype '" + descr + "'");
        break;
      case 'b':
        if (n != 1) fail("dtype '" + descr + "'");
        break;
      case 'O':
        if (n != 8) fail("dtype '" + descr + "'");
        break;
      case 'U':
        if (n > (1u << 20)) fail("dtype '" + descr + "' is too wide");
        n *= 4;
        break;
      case 'S':
      case 'V':
        if (n > (1u << 24)) fail("dtype '" + descr + "' is too wide");
        break;
      default:
        fail("dtype '" + descr + "' is not imported");
    }
    d.itemsize = static_cast<uint32_t>(n);
    return d;
  }
  void build_dtype(DType& d, const Value* state) {
    if (d.built) fail("BUILD twice on a dtype");
    if (state->kind != K::Tuple || state->items.size() < 8) fail("dtype state is not an 8-tuple");
    const auto& it = state->items;
    if (it[1]->kind != K::Str || it[1]->s.size() != 1) fail("dtype byte order is not a character");
    const char order = it[1]->s[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
      fail("dtype byte order '" + it[1]->s + "'");
    d.big_endian = order == '>';
    if (it[2]->kind != K::None) fail("sub-array dtypes are not imported");
    if (d.kind == 'V') {
      if (it[3]->kind != K::Tuple || it[4]->kind != K::Dict)
        fail("record dtype without names and fields");
      if (it[5]->kind != K::Int || it[5]->i != d.itemsize)
        fail("record dtype size disagrees with its type string");
      // A record is copied into every array that uses it: its size is bounded and charged.
      if (it[3]->items.size() > 64)
        fail("record dtype with " + std::to_string(it[3]->items.size()) + " fields (at most 64)");
      charge(it[3]->items.size() * sizeof(DType::Field));
      for (const Value* name : it[3]->items) {
        if (name->kind != K::Str) fail("record field name is not a string");
        const Value* f = it[4]->get(name->s);
        if (f == nullptr || f->kind != K::Tuple || f->items.size() < 2 ||
            f->items[0]->kind != K::DType || f->items[1]->kind != K::Int)
          fail("record field '" + name->s + "' has no (dtype, offset)");
        const DType& fd = *f->items[0]->dtype;
        if (fd.kind == 'V' || fd.kind == 'O') fail("nested record field '" + name->s + "'");
        const int64_t off = f->items[1]->i;
        if (off < 0 || static_cast<uint64_t>(off) + fd.itemsize > d.itemsize)
          fail("record field '" + name->s + "' lies outside the " + std::to_string(d.itemsize) +
               "-byte record");
        d.fields.push_back(
            {name->s, fd.kind, fd.itemsize, fd.big_endian, static_cast<uint64_t>(off)});
      }
    } else if (it[3]->kind != K::None) {
      fail("named fields on a scalar dtype");
    }
    d.built = true;
  }
  std::vector<uint64_t> shape_of(const Value* t) {
    if (t->kind != K::Tuple) fail("array shape is not a tuple");
    if (t->items.size() > lim_.max_dims)
      fail("array of " + std::to_string(t->items.size()) + " dimensions");
    std::vector<uint64_t> shape;
    for (const Value* d : t->items) {
      if (d->kind != K::Int || d->i < 0) fail("array dimension is not a non-negative int");
      shape.push_back(static_cast<uint64_t>(d->i));
    }
    return shape;
  }
  // Element count of a shape, refusing products that overflow or exceed the byte budget.
  uint64_t count_of(const Array& arr) {
    uint64_t n = 1;
    for (uint64_t d : arr.shape)
      if (__builtin_mul_overflow(n, d, &n) || n > lim_.max_bytes)
        fail("array shape holds more elements than the import allows");
    return n;
  }
  void set_data(Array& arr, std::string_view data) {
    const uint64_t n = count_of(arr);
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(n, uint64_t{arr.dtype.itemsize}, &bytes) || bytes != data.size())
      fail("array data hold " + std::to_string(data.size()) + " bytes, shape × itemsize says " +
           (bytes / std::max<uint64_t>(arr.dtype.itemsize, 1) == n ? std::to_string(bytes)
                                                                   : std::string("more")));
    if (arr.dtype.kind == 'O') fail("object array given as raw bytes");
    arr.data = data;
    arr.built = true;
  }
  void build_array(Array& arr, const Value* state) {
    if (arr.built) fail("BUILD twice on an array");
    if (state->kind != K::Tuple || (state->items.size() != 5 && state->items.size() != 4))
      fail("array state is not a 4- or 5-tuple");
    size_t k = state->items.size() == 5 ? 1 : 0;
    const Value* shape = state->items[k];
    const Value* dtype = state->items[k + 1];
    const Value* fortran = state->items[k + 2];
    const Value* data = state->items[k + 3];
    if (dtype->kind != K::DType || fortran->kind != K::Bool)
      fail("array state without a dtype and order flag");
    arr.dtype = *dtype->dtype;
    arr.shape = shape_of(shape);
    arr.fortran = fortran->i != 0;
    if (arr.dtype.kind == 'O') {
      if (data->kind != K::List) fail("object array state without a list of elements");
      if (data->items.size() != count_of(arr))
        fail("object array lists " + std::to_string(data->items.size()) +
             " elements for its shape");
      // NOLINTNEXTLINE(bugprone-sizeof-expression): the array holds pointers to shared values
      charge(data->items.size() * sizeof(const Value*));  // a memo'd list may back many arrays
      arr.objects = data->items;
      arr.built = true;
      return;
    }
    if (data->kind != K::Bytes)
      fail(std::string("array data are ") + value_kind_name(data->kind) + ", not bytes");
    set_data(arr, data->b);
  }
  Value* scalar(const DType& d, std::string_view raw) {
    if (raw.size() != d.itemsize)
      fail("numpy scalar of " + std::to_string(raw.size()) + " bytes for a " +
           std::to_string(d.itemsize) + "-byte type");
    std::string bytes(raw);
    if (d.big_endian) std::reverse(bytes.begin(), bytes.end());
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    switch (d.kind) {
      case 'f': {
        Value* v = make(K::Float);
        if (d.itemsize == 8) {
          std::memcpy(&v->f, p, 8);
        } else if (d.itemsize == 4) {
          float x;
          std::memcpy(&x, p, 4);
          v->f = x;
        } else
          fail("half-precision scalar");
        return v;
      }
      case 'i':
      case 'u':
      case 'b': {
        uint64_t u = 0;
        for (uint32_t k = d.itemsize; k-- > 0;) u = (u << 8) | p[k];
        if (d.kind == 'i' && d.itemsize < 8 && (p[d.itemsize - 1] & 0x80))
          u |= ~uint64_t{0} << (8 * d.itemsize);
        if (d.kind == 'b') return boolean(u != 0);
        return integer(static_cast<int64_t>(u));
      }
      default:
        fail(std::string("numpy scalar of kind '") + d.kind + "'");
    }
  }
  Value* latin1(const std::string& utf8) {
    Value* v = make(K::Bytes);
    v->s.reserve(utf8.size());
    for (size_t i = 0; i < utf8.size(); ++i) {
      auto c = static_cast<uint8_t>(utf8[i]);
      if (c < 0x80) {
        v->s += static_cast<char>(c);
      } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
        v->s += static_cast<char>(((c & 0x03) << 6) | (static_cast<uint8_t>(utf8[++i]) & 0x3F));
      } else {
        fail("_codecs.encode(…, 'latin1') of a character outside latin-1");
      }
    }
    charge(v->s.size());
    v->b = v->s;
    return v;
  }
  // joblib writes each array's bytes right after the wrapper's BUILD (see joblib's
  // NumpyArrayWrapper.read_array); object arrays are a nested pickle there instead.
  Value* joblib_array(const Object& w) {
    const Value* s = w.state;
    const Value* dtype = s->get("dtype");
    const Value* shape = s->get("shape");
    const Value* order = s->get("order");
    const Value* subclass = s->get("subclass");
    if (dtype == nullptr || dtype->kind != K::DType || shape == nullptr || order == nullptr ||
        order->kind != K::Str)
      fail("joblib array wrapper without dtype, shape and order");
    if (subclass == nullptr || subclass->kind != K::Global || role(subclass) != Role::kNdarray)
      fail("joblib array wrapper of a subclass other than numpy.ndarray");
    if (dtype->dtype->kind == 'O') {
      if (depth_ + 1 >= lim_.max_nested) fail("joblib object arrays nested too deeply");
      Vm inner(a_, b_, pos_, lim_, depth_ + 1, values_, bytes_);
      Unpickled u = inner.run();
      pos_ = u.end;
      if (u.root->kind != K::Array) fail("joblib object array pickle does not hold an array");
      return const_cast<Value*>(u.root);
    }
    Value* v = make(K::Array);
    v->array = std::make_unique<Array>();
    Array& arr = *v->array;
    arr.dtype = *dtype->dtype;
    arr.shape = shape_of(shape);
    if (order->s != "C" && order->s != "F") fail("joblib array order '" + order->s + "'");
    arr.fortran = order->s == "F";
    if (s->get("numpy_array_alignment_bytes") != nullptr) {
      const uint8_t pad = u8();
      need(pad);
    }
    const uint64_t n = count_of(arr);
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(n, uint64_t{arr.dtype.itemsize}, &bytes) || bytes > b_.size() - pos_)
      fail("joblib array of shape × itemsize = " + std::to_string(bytes) + " bytes, but only " +
           std::to_string(b_.size() - pos_) + " bytes follow");
    const uint8_t* p = need(bytes);
    set_data(arr, std::string_view(reinterpret_cast<const char*>(p), bytes));
    return v;
  }

  Arena& a_;
  std::span<const uint8_t> b_;
  uint64_t pos_;
  uint64_t op_off_ = 0;
  const VmLimits& lim_;
  uint32_t depth_;
  uint64_t& values_;
  uint64_t& bytes_;
  int protocol_ = 0;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::vector<Value*> memo_;
};

}  // namespace

Unpickled run_pickle(Arena& arena, std::span<const uint8_t> bytes, uint64_t start,
                     const VmLimits& limits) {
  uint64_t values = 0, copied = 0;
  if (start > bytes.size()) throw ImportError("pickle start beyond the end of the stream", start);
  Vm vm(arena, bytes, start, limits, 0, values, copied);
  return vm.run();
}

}  // namespace secmlops::host::sklearn
