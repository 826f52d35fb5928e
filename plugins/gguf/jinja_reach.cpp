#include "jinja_reach.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>

namespace secmlops::plugins::gguf {
namespace {

// ---- lexing (jinja2/lexer.py with the default delimiters) ----
enum class T : uint8_t { kName, kString, kInt, kFloat, kOp, kEnd };

struct Token {
  T type;
  std::string text;  // names and operators as written; strings decoded
  int64_t value = 0;
  size_t offset = 0;
  bool exact = true;  // a string whose escapes were all decoded
};

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The body of a string literal as Jinja2 decodes it: `encode("ascii", "backslashreplace")
// .decode("unicode-escape")`. Unknown escapes stay as written; `\N{...}` is decoded for LOW LINE
// only and otherwise leaves the value inexact.
std::string unescape(std::string_view body, bool& exact) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    switch (e) {
      case '\n':
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t want = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        size_t k = 0;
        for (; k < want && i + 1 + k < body.size() && hexval(body[i + 1 + k]) >= 0; ++k)
          cp = cp * 16 + static_cast<uint32_t>(hexval(body[i + 1 + k]));
        if (k != want ||
            cp > 0x10FFFF) {  // Python refuses the literal: the template does not compile
          exact = false;
          return out;
        }
        i += want;
        put_utf8(out, cp);
        break;
      }
      case 'N': {
        size_t close = body.find('}', i);
        if (i + 1 < body.size() && body[i + 1] == '{' && close != std::string_view::npos) {
          std::string name(body.substr(i + 2, close - i - 2));
          for (auto& ch : name)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          if (name == "LOW LINE")
            out += '_';
          else
            exact = false;
          i = close;
        } else {
          exact = false;
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
               ++k)
            cp = cp * 8 + static_cast<uint32_t>(body[++i] - '0');
          put_utf8(out, cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

bool name_start(unsigned char c) { return std::isalpha(c) != 0 || c == '_' || c >= 0x80; }
bool name_char(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c >= 0x80; }

class Lexer {
 public:
  Lexer(std::string_view text, const TemplateLimits& limits) : s_(text), limits_(limits) {}

  // The tokens of one tag starting after its opening delimiter at `pos`; `pos` moves past the
  // closing delimiter. Throws ParseError for what Jinja2's lexer refuses.
  std::vector<Token> tag(size_t& pos, bool block) {
    std::vector<Token>& out = partial_;
    out.clear();
    std::vector<char> balance;
    if (pos < s_.size() && (s_[pos] == '-' || s_[pos] == '+')) ++pos;
    while (true) {
      while (pos < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos])) != 0) ++pos;
      if (pos >= s_.size()) throw ParseError("unterminated tag");
      if (++count_ > limits_.max_tokens) throw ParseError("token limit");
      size_t at = pos;
      if (balance.empty()) {
        size_t p = pos;
        if (s_[p] == '-' || s_[p] == '+') ++p;
        if (s_.compare(p, 2, block ? "%}" : "}}") == 0) {
          pos = p + 2;
          out.push_back({T::kEnd, "", 0, at});
          return std::move(out);
        }
      }
      unsigned char c = static_cast<unsigned char>(s_[pos]);
      if (name_start(c)) {
        while (pos < s_.size() && name_char(static_cast<unsigned char>(s_[pos]))) ++pos;
        out.push_back({T::kName, std::string(s_.substr(at, pos - at)), 0, at});
        continue;
      }
      if (c == '\'' || c == '"') {
        size_t p = pos + 1;
        while (p < s_.size() && s_[p] != static_cast<char>(c)) p += s_[p] == '\\' ? 2 : 1;
        if (p >= s_.size()) throw ParseError("unterminated string");
        bool exact = true;
        std::string v = unescape(s_.substr(pos + 1, p - pos - 1), exact);
        pos = p + 1;
        out.push_back({T::kString, std::move(v), 0, at, exact});
        continue;
      }
      if (std::isdigit(c) != 0) {
        int base = 10;
        if (c == '0' && pos + 1 < s_.size() && std::strchr("xXoObB", s_[pos + 1]) != nullptr &&
            s_[pos + 1] != 0) {
          char b = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[pos + 1])));
          base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
          pos += 2;
        }
        int64_t v = 0;
        bool is_float = false;
        while (pos < s_.size()) {
          char d = s_[pos];
          if (d == '_') {
            ++pos;
            continue;
          }
          int h = hexval(d);
          if (h >= 0 && h < base && !(base == 10 && !std::isdigit(static_cast<unsigned char>(d)))) {
            if (v < (INT64_MAX - h) / base) v = v * base + h;
            ++pos;
          } else if (base == 10 && (d == '.' || d == 'e' || d == 'E') && pos + 1 < s_.size() &&
                     (std::isdigit(static_cast<unsigned char>(s_[pos + 1])) != 0 ||
                      s_[pos + 1] == '-' || s_[pos + 1] == '+')) {
            is_float = true;
            ++pos;
          } else {
            break;
          }
        }
        out.push_back(
            {is_float ? T::kFloat : T::kInt, std::string(s_.substr(at, pos - at)), v, at});
        continue;
      }
      static constexpr std::array<std::string_view, 4> kTwo = {"//", "**", "==", "!="};
      std::string op;
      for (auto t : kTwo)
        if (s_.compare(pos, 2, t) == 0) op = t;
      if (op.empty() && pos + 1 < s_.size() && (c == '<' || c == '>') && s_[pos + 1] == '=')
        op = s_.substr(pos, 2);
      if (op.empty()) {
        if (std::strchr("+-*/%~<>=.,:|()[]{}", c) == nullptr || c == 0)
          throw ParseError("unexpected character");
        op = std::string(1, static_cast<char>(c));
        if (c == '(' || c == '[' || c == '{') balance.push_back(static_cast<char>(c));
        if (c == ')' || c == ']' || c == '}') {
          if (balance.empty()) throw ParseError("unbalanced bracket");
          balance.pop_back();
        }
      }
      pos += op.size();
      out.push_back({T::kOp, op, 0, at});
    }
  }

 private:
  std::string_view s_;
  const TemplateLimits& limits_;
  size_t count_ = 0;
  std::vector<Token> partial_;  // the tokens of a tag the lexer refused, up to the refusal

 public:
  [[nodiscard]] const std::vector<Token>& partial() const { return partial_; }
};

// ---- values and folding ----
struct Val {
  enum K : uint8_t { kUnknown, kStr, kInt, kList, kMethod } k = kUnknown;
  std::string s;  // kStr: the string; kMethod: the receiver string
  int64_t i = 0;
  std::vector<Val> items;  // kList
  std::string method;      // kMethod: the str method's name
  bool built = false;      // a string computed at render time from values that are not constants
  bool choices = false;    // kUnknown: one of `items` (a loop variable over constants)
  std::string path;        // what the value is, for evidence: "lipsum.__globals__"
};

bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string as_text(const Val& v, bool& ok) {
  if (v.k == Val::kStr) return v.s;
  if (v.k == Val::kInt) return std::to_string(v.i);
  ok = false;
  return {};
}

Val unknown_from(std::initializer_list<const Val*> inputs) {
  Val r;
  for (const Val* v : inputs) r.built = r.built || v->k == Val::kStr || v->built;
  return r;
}

Val str(std::string s) {
  Val v;
  v.k = Val::kStr;
  v.s = std::move(s);
  return v;
}

std::string shorten(std::string_view s, size_t max = 120) {
  std::string out;
  for (char c : s.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

// printf-style `%` formatting as Python's str % args for %s %d %i %c %% without flags.
bool percent_format(const std::string& fmt, const Val& args, std::string& out) {
  std::vector<const Val*> list;
  if (args.k == Val::kList)
    for (const auto& a : args.items) list.push_back(&a);
  else
    list.push_back(&args);
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) return false;
    char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (next >= list.size()) return false;
    const Val& a = *list[next++];
    bool ok = true;
    if (conv == 's')
      out += as_text(a, ok);
    else if ((conv == 'd' || conv == 'i') && a.k == Val::kInt)
      out += std::to_string(a.i);
    else if (conv == 'c' && a.k == Val::kInt && a.i >= 0 && a.i <= 0x10FFFF)
      put_utf8(out, static_cast<uint32_t>(a.i));
    else if (conv == 'c' && a.k == Val::kStr && a.s.size() == 1)
      out += a.s;
    else
      return false;
    if (!ok) return false;
  }
  return next == list.size();
}

}  // namespace

bool outside_sandbox(std::string_view name) {
  // jinja2.sandbox: is_safe_attribute refuses `_`-prefixed names and the frame/code attributes
  // of generators, coroutines and (Python 2) functions and methods.
  static constexpr std::array<std::string_view, 16> kUnsafe = {
      "gi_frame",     "gi_code",   "cr_frame",     "cr_code",       "ag_code",   "ag_frame",
      "func_globals", "func_code", "func_closure", "func_defaults", "func_dict", "im_class",
      "im_func",      "im_self",   "mro",          "tb_frame"};
  if (!name.empty() && name[0] == '_') return true;
  if (name.rfind("f_", 0) == 0 && (name == "f_globals" || name == "f_locals" ||
                                   name == "f_builtins" || name == "f_code" || name == "f_back"))
    return true;
  return std::find(kUnsafe.begin(), kUnsafe.end(), name) != kUnsafe.end();
}

namespace {

class Parser {
 public:
  Parser(TemplateAnalysis& out, const TemplateLimits& limits, std::map<std::string, Val>& vars)
      : out_(out), limits_(limits), vars_(vars) {}

  void block(std::vector<Token> toks) {
    toks_ = std::move(toks);
    pos_ = 0;
    if (cur().type != T::kName) return generic();
    std::string kw = cur().text;
    if (kw == "set" && toks_.size() >= 4 && toks_[1].type == T::kName && toks_[2].type == T::kOp) {
      std::string target = toks_[1].text;
      size_t eq = 2;
      if (toks_[2].text == "." && toks_.size() >= 6 && toks_[3].type == T::kName) {
        target += "." + toks_[3].text;
        eq = 4;
      }
      if (toks_[eq].type == T::kOp && toks_[eq].text == "=") {
        pos_ = eq + 1;
        Val v = expr(0);
        if (spend(v.s.size() + v.items.size()))
          vars_[target] = v;
        else
          vars_[target] = unknown_from({&v});
        if (cur().type == T::kEnd) return;
      }
      pos_ = 1;
      return generic();
    }
    if (kw == "for") {
      size_t in = 1;
      while (in < toks_.size() && !(toks_[in].type == T::kName && toks_[in].text == "in")) ++in;
      if (in >= toks_.size()) throw ParseError("for without in");
      pos_ = in + 1;
      Val seq = expr(0);
      // A loop over strings hands its variable a string the template did not spell.
      bool strings =
          seq.k == Val::kStr || seq.built ||
          (seq.k == Val::kList && std::any_of(seq.items.begin(), seq.items.end(),
                                              [](const Val& x) { return x.k == Val::kStr; }));
      bool constants =
          seq.k == Val::kList && std::all_of(seq.items.begin(), seq.items.end(), [](const Val& x) {
            return x.k == Val::kStr || x.k == Val::kInt;
          });
      for (size_t t = 1; t < in; ++t)
        if (toks_[t].type == T::kName) {
          Val lv;
          lv.built = strings && !constants;
          if (constants && spend(seq.items.size() * sizeof(Val))) {
            lv.choices = true;
            lv.items = seq.items;
          }
          lv.path = toks_[t].text;
          vars_[toks_[t].text] = lv;
        }
      return generic();
    }
    ++pos_;
    generic();
  }

  void variable(std::vector<Token> toks) {
    toks_ = std::move(toks);
    pos_ = 0;
    generic();
  }

 private:
  const Token& cur() const { return toks_[std::min(pos_, toks_.size() - 1)]; }
  bool op(std::string_view o) const { return cur().type == T::kOp && cur().text == o; }
  bool name(std::string_view n) const { return cur().type == T::kName && cur().text == n; }
  void expect(std::string_view o) {
    if (!op(o)) throw ParseError("expected " + std::string(o));
    ++pos_;
  }

  // The rest of a tag: expressions one after another; a token no expression starts with is
  // skipped (statement keywords, commas, `=` of keyword arguments).
  void generic() {
    while (cur().type != T::kEnd) {
      size_t before = pos_;
      if (cur().type == T::kOp && !op("(") && !op("[") && !op("{") && !op("-") && !op("+")) {
        ++pos_;
        continue;
      }
      expr(0);
      if (pos_ == before) ++pos_;
    }
  }

  void deeper(size_t depth) const {
    if (depth > limits_.max_depth) throw ParseError("nesting limit");
  }

  Val expr(size_t depth) {
    deeper(depth);
    Val v = or_expr(depth + 1);
    if (name("if")) {
      ++pos_;
      Val c = or_expr(depth + 1);
      Val e;
      if (name("else")) {
        ++pos_;
        e = expr(depth + 1);
      }
      return unknown_from({&v, &c, &e});
    }
    return v;
  }
  Val or_expr(size_t depth) {
    Val v = and_expr(depth);
    while (name("or")) {
      ++pos_;
      Val r = and_expr(depth);
      v = unknown_from({&v, &r});
    }
    return v;
  }
  Val and_expr(size_t depth) {
    Val v = not_expr(depth);
    while (name("and")) {
      ++pos_;
      Val r = not_expr(depth);
      v = unknown_from({&v, &r});
    }
    return v;
  }
  Val not_expr(size_t depth) {
    deeper(depth);
    if (name("not")) {
      ++pos_;
      not_expr(depth + 1);
      return {};
    }
    return compare(depth);
  }
  Val compare(size_t depth) {
    Val v = math1(depth);
    while (true) {
      if (op("==") || op("!=") || op("<") || op(">") || op("<=") || op(">=") || name("in")) {
        ++pos_;
      } else if (name("not") && pos_ + 1 < toks_.size() && toks_[pos_ + 1].type == T::kName &&
                 toks_[pos_ + 1].text == "in") {
        pos_ += 2;
      } else {
        return v;
      }
      math1(depth);
      v = Val{};
    }
  }
  Val math1(size_t depth) {
    Val v = concat(depth);
    while (op("+") || op("-")) {
      bool plus = op("+");
      ++pos_;
      Val r = concat(depth);
      int64_t n = 0;
      if (plus && v.k == Val::kStr && r.k == Val::kStr)
        v = fold(v.s + r.s);
      else if (v.k == Val::kInt && r.k == Val::kInt &&
               !(plus ? __builtin_add_overflow(v.i, r.i, &n)
                      : __builtin_sub_overflow(v.i, r.i, &n)))
        v.i = n;
      else  // an overflow stops folding (Python's ints would not overflow)
        v = unknown_from({&v, &r});
    }
    return v;
  }
  Val concat(size_t depth) {
    Val v = math2(depth);
    while (op("~")) {
      ++pos_;
      Val r = math2(depth);
      bool ok = true;
      std::string a = as_text(v, ok), b = as_text(r, ok);
      v = ok ? fold(a + b) : unknown_from({&v, &r, &v});
      if (!ok) v.built = true;
    }
    return v;
  }
  Val math2(size_t depth) {
    Val v = pow(depth);
    while (op("*") || op("/") || op("//") || op("%")) {
      std::string o = cur().text;
      ++pos_;
      Val r = pow(depth);
      std::string s;
      int64_t n = 0;
      if (o == "*" && v.k == Val::kStr && r.k == Val::kInt && r.i >= 0 &&
          (v.s.empty() || static_cast<uint64_t>(r.i) <= limits_.max_string / v.s.size()) &&
          spend(v.s.size() * static_cast<uint64_t>(r.i))) {
        for (int64_t k = 0; k < r.i; ++k) s += v.s;
        v = str(std::move(s));
      } else if (o == "*" && v.k == Val::kInt && r.k == Val::kInt &&
                 !__builtin_mul_overflow(v.i, r.i, &n)) {
        v.i = n;
      } else if (o == "%" && v.k == Val::kStr && percent_format(v.s, r, s)) {
        v = fold(std::move(s));
      } else {
        v = unknown_from({&v, &r});
      }
    }
    return v;
  }
  Val pow(size_t depth) {
    Val v = unary(depth);
    while (op("**")) {
      ++pos_;
      Val r = unary(depth);
      v = unknown_from({&v, &r});
    }
    return v;
  }
  Val unary(size_t depth) {
    deeper(depth);
    if (op("-") || op("+")) {
      bool neg = op("-");
      ++pos_;
      Val v = unary(depth + 1);
      if (v.k == Val::kInt && neg && __builtin_sub_overflow(int64_t{0}, v.i, &v.i)) v = Val{};
      return v;
    }
    return postfix(primary(depth + 1), depth + 1);
  }

  // Every folded string counts against the template's work budget: folding stops (values become
  // unknown, lookups with them dynamic) instead of copying megabytes per token.
  bool spend(size_t bytes) const {
    spent_ += bytes + 1;
    if (spent_ <= limits_.max_folded_bytes) return true;
    out_.limited = true;
    return false;
  }
  Val fold(std::string s) const {
    if (s.size() > limits_.max_string || !spend(s.size())) {
      Val v;
      v.built = true;
      return v;
    }
    return str(std::move(s));
  }

  Val primary(size_t depth) {
    const Token& t = cur();
    switch (t.type) {
      case T::kString: {
        std::string s;
        bool exact = true;
        while (cur().type == T::kString) {  // adjacent literals concatenate
          s += cur().text;
          exact = exact && cur().exact;
          ++pos_;
        }
        if (!exact) {
          Val v;
          v.built = true;
          return v;
        }
        Val v = fold(std::move(s));
        v.path = "'" + shorten(v.s, 40) + "'";
        return v;
      }
      case T::kInt: {
        Val v;
        v.k = Val::kInt;
        v.i = t.value;
        ++pos_;
        return v;
      }
      case T::kFloat:
        ++pos_;
        return {};
      case T::kName: {
        ++pos_;
        if (t.text == "true" || t.text == "false" || t.text == "none" || t.text == "True" ||
            t.text == "False" || t.text == "None")
          return {};
        auto it = vars_.find(t.text);
        Val v = it != vars_.end() && spend(it->second.s.size() + it->second.items.size())
                    ? it->second
                    : Val{};
        if (v.path.empty()) v.path = t.text;
        return v;
      }
      case T::kOp:
        if (t.text == "(" || t.text == "[") {
          std::string close = t.text == "(" ? ")" : "]";
          ++pos_;
          Val list;
          list.k = Val::kList;
          bool tuple = t.text == "[";
          while (!op(close)) {
            list.items.push_back(expr(depth + 1));
            if (op(",")) {
              ++pos_;
              tuple = true;
            } else if (!op(close)) {
              throw ParseError("expected , or " + close);
            }
          }
          ++pos_;
          if (!tuple && list.items.size() == 1) return list.items[0];
          list.path = close == ")" ? "tuple" : "list";
          return list;
        }
        if (t.text == "{") {
          ++pos_;
          while (!op("}")) {
            expr(depth + 1);
            expect(":");
            expr(depth + 1);
            if (op(","))
              ++pos_;
            else if (!op("}"))
              throw ParseError("expected , or }");
          }
          ++pos_;
          Val v;
          v.path = "dict";
          return v;
        }
        break;
      case T::kEnd:
        break;
    }
    throw ParseError("unexpected token");
  }

  Val postfix(Val v, size_t depth) {
    while (true) {
      if (op(".")) {
        size_t at = cur().offset;
        ++pos_;
        if (cur().type == T::kName) {
          std::string n = cur().text;
          ++pos_;
          if (v.k == Val::kStr && !outside_sandbox(n) && op("(")) {
            Val m;
            m.k = Val::kMethod;
            m.s = v.s;
            m.method = n;
            m.path = v.path + "." + n;
            v = std::move(m);
          } else {
            v = access(v, str(n), "attribute", at);
          }
        } else if (cur().type == T::kInt) {
          ++pos_;
          v = Val{};
        } else {
          throw ParseError("expected a name after .");
        }
      } else if (op("[")) {
        size_t at = cur().offset;
        ++pos_;
        v = subscript(v, at, depth);
      } else if (op("(")) {
        call_at_ = cur().offset;
        ++pos_;
        std::vector<Val> args;
        std::map<std::string, Val> kwargs;
        call_args(args, kwargs, ")", depth);
        v = call(v, args, kwargs);
      } else if (op("|")) {
        ++pos_;
        v = filter(v, depth);
      } else if (name("is")) {
        ++pos_;
        if (name("not")) ++pos_;
        if (cur().type != T::kName) throw ParseError("test name");
        ++pos_;
        if (op("(")) {
          ++pos_;
          std::vector<Val> args;
          std::map<std::string, Val> kwargs;
          call_args(args, kwargs, ")", depth);
        } else if ((cur().type == T::kString || cur().type == T::kInt || cur().type == T::kFloat ||
                    (cur().type == T::kName && !name("else") && !name("or") && !name("and") &&
                     !name("if"))) ||
                   op("[") || op("{")) {
          postfix(primary(depth + 1), depth + 1);
        }
        v = Val{};
      } else {
        return v;
      }
    }
  }

  void call_args(std::vector<Val>& args, std::map<std::string, Val>& kwargs, std::string_view close,
                 size_t depth) {
    while (!op(close)) {
      if (op("*") || op("**")) ++pos_;
      if (cur().type == T::kName && pos_ + 1 < toks_.size() && toks_[pos_ + 1].type == T::kOp &&
          toks_[pos_ + 1].text == "=") {
        std::string k = cur().text;
        pos_ += 2;
        kwargs[k] = expr(depth + 1);
      } else {
        args.push_back(expr(depth + 1));
      }
      if (op(","))
        ++pos_;
      else if (!op(close))
        throw ParseError("expected , in arguments");
    }
    ++pos_;
  }

  Val subscript(const Val& v, size_t at, size_t depth) {
    // Slices: a[b:c:d] with any part missing.
    std::array<Val, 3> part;
    std::array<bool, 3> given{};
    size_t n = 0;
    bool slice = false;
    while (true) {
      if (op(":")) {
        slice = true;
        if (++n > 2) throw ParseError("slice");
        ++pos_;
        continue;
      }
      if (op("]")) break;
      part[n] = expr(depth + 1);
      given[n] = true;
      if (!op(":") && !op("]")) {
        if (op(",")) {  // a tuple key
          while (!op("]")) {
            ++pos_;
            if (!op("]")) expr(depth + 1);
          }
          break;
        }
        throw ParseError("subscript");
      }
    }
    ++pos_;
    if (slice) {
      if (v.k == Val::kStr && ascii(v.s)) {
        auto num = [&](size_t k, int64_t dflt) -> std::optional<int64_t> {
          if (!given[k]) return dflt;
          if (part[k].k != Val::kInt) return std::nullopt;
          return part[k].i;
        };
        auto step = num(2, 1);
        if (step && *step != 0) {
          const auto len = static_cast<int64_t>(v.s.size());
          auto lo = num(0, *step > 0 ? 0 : len - 1), hi = num(1, *step > 0 ? len : -len - 1);
          if (lo && hi) {
            auto clamp = [&](int64_t x) {  // Python's slice bounds: the same for start and stop
              if (x < 0) x += len;
              if (*step > 0) return std::clamp<int64_t>(x, 0, len);
              return std::clamp<int64_t>(x, -1, len - 1);
            };
            int64_t a = given[0] ? clamp(*lo) : *lo,
                    b = given[1] ? clamp(*hi) : (*step > 0 ? len : -1);
            std::string s;
            for (int64_t k = a; *step > 0 ? k < b : k > b; k += *step)
              s += v.s[static_cast<size_t>(k)];
            return fold(std::move(s));
          }
        }
      }
      return unknown_from({&v});
    }
    const Val& key = part[0];
    if (v.k == Val::kStr && key.k == Val::kInt && ascii(v.s)) {
      int64_t k = key.i < 0 ? key.i + static_cast<int64_t>(v.s.size()) : key.i;
      if (k >= 0 && k < static_cast<int64_t>(v.s.size()))
        return str(std::string(1, v.s[static_cast<size_t>(k)]));
    }
    if (v.k == Val::kList && key.k == Val::kInt) {
      int64_t k = key.i < 0 ? key.i + static_cast<int64_t>(v.items.size()) : key.i;
      if (k >= 0 && k < static_cast<int64_t>(v.items.size()))
        return v.items[static_cast<size_t>(k)];
    }
    if (key.k == Val::kStr || key.built || key.choices) return access(v, key, "subscript", at);
    Val r;
    r.path = v.path.empty() ? "" : v.path + "[]";
    return r;
  }

  // Reading attribute (or item) `key` of `obj`, as the renderer would.
  Val access(const Val& obj, const Val& key, const char* how, size_t at) {
    std::string base = obj.path.empty() ? "<value>" : obj.path;
    if (key.k == Val::kStr) {
      std::string path = shorten(base, 160) + "." + shorten(key.s, 80);
      if (outside_sandbox(key.s) && out_.escapes.size() < limits_.max_reported)
        out_.escapes.push_back({at, path, shorten(key.s, 80), how});
      auto it = vars_.find(base + "." + key.s);
      Val r = it != vars_.end() ? it->second : Val{};
      r.path = path;
      return r;
    }
    if (key.choices) {  // a loop variable: each value it takes
      for (const auto& c : key.items)
        if (c.k == Val::kStr) access(obj, c, how, at);
      Val r;
      r.path = shorten(base, 160) + ".<loop value>";
      return r;
    }
    if ((key.built || std::strcmp(how, "attr filter") == 0) &&
        out_.dynamic.size() < limits_.max_reported)
      out_.dynamic.push_back({at, shorten(base, 160) + ".<computed>", "", how});
    Val r;
    r.path = shorten(base, 160) + ".<computed>";
    return r;
  }

  // Methods of constant strings: the ones that build names are folded; `format` is judged.
  Val call(const Val& fn, const std::vector<Val>& args, const std::map<std::string, Val>& kwargs) {
    if (fn.k != Val::kMethod) {
      Val r;
      r.path = fn.path.empty() ? "" : fn.path + "()";
      return r;
    }
    const std::string& s = fn.s;
    const std::string& m = fn.method;
    auto arg_text = [&](size_t i, bool& ok) {
      return i < args.size() ? as_text(args[i], ok) : (ok = false, "");
    };
    bool ok = true;
    if (m == "format" || m == "format_map") return str_format(s, args, kwargs, m == "format_map");
    if (m == "join" && args.size() == 1) return join(args[0], s);
    if (m == "replace" && args.size() >= 2) {
      std::string a = arg_text(0, ok), b = arg_text(1, ok);
      if (ok) return fold(replace_all(s, a, b));
    }
    if (m == "lower" || m == "upper") {
      std::string r = s;
      for (auto& c : r)
        c = static_cast<char>(m == "lower" ? std::tolower(static_cast<unsigned char>(c))
                                           : std::toupper(static_cast<unsigned char>(c)));
      return fold(r);
    }
    if ((m == "strip" || m == "lstrip" || m == "rstrip") && args.empty()) {
      size_t a = m == "rstrip" ? 0 : s.find_first_not_of(" \t\n\r\f\v");
      size_t b = m == "lstrip" ? s.size() : s.find_last_not_of(" \t\n\r\f\v") + 1;
      if (a == std::string::npos) return str("");
      return fold(s.substr(a, b > a ? b - a : 0));
    }
    Val r;
    r.built = true;
    r.path = fn.path + "()";
    return r;
  }

  static std::string replace_all(std::string s, const std::string& a, const std::string& b) {
    if (a.empty()) return s;
    std::string out;
    size_t i = 0;
    for (size_t j; (j = s.find(a, i)) != std::string::npos; i = j + a.size())
      out += s.substr(i, j - i) + b;
    return out + s.substr(i);
  }

  Val join(const Val& seq, const std::string& sep) {
    std::vector<std::string> parts;
    if (seq.k == Val::kStr && ascii(seq.s)) {
      for (char c : seq.s) parts.emplace_back(1, c);
    } else if (seq.k == Val::kList) {
      for (const auto& x : seq.items) {
        bool ok = true;
        parts.push_back(as_text(x, ok));
        if (!ok) return unknown_from({&seq, &x});
      }
    } else {
      Val r = unknown_from({&seq});
      r.built = r.built || !sep.empty();
      return r;
    }
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
    return fold(std::move(out));
  }

  // str.format / format_map: replacement fields may walk attributes and items of the
  // arguments (`{0.__class__}`), which an unsandboxed renderer follows; plain fields are folded.
  Val str_format(const std::string& fmt, const std::vector<Val>& args,
                 const std::map<std::string, Val>& kwargs, bool map) {
    std::string out;
    bool exact = !map;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
      char c = fmt[i];
      if ((c == '{' || c == '}') && i + 1 < fmt.size() && fmt[i + 1] == c) {
        out += c;
        ++i;
        continue;
      }
      if (c != '{') {
        out += c;
        continue;
      }
      size_t close = fmt.find('}', i);
      if (close == std::string::npos) return unknown_from({});
      std::string field = fmt.substr(i + 1, close - i - 1);
      i = close;
      size_t cut = field.find_first_of("!:");
      std::string ref = field.substr(0, cut);
      size_t walk = ref.find_first_of(".[");
      std::string head = ref.substr(0, walk);
      // Each attribute or item the field walks.
      for (size_t p = walk; p != std::string::npos && p < ref.size();) {
        size_t end = ref.find_first_of(".[]", p + 1);
        std::string part =
            ref.substr(p + 1, end == std::string::npos ? std::string::npos : end - p - 1);
        if (outside_sandbox(part) && out_.escapes.size() < limits_.max_reported)
          out_.escapes.push_back({call_at_,
                                  "'" + shorten(fmt, 60) + "'.format: {" + shorten(ref, 60) + "}",
                                  shorten(part, 80), "format field"});
        if (end == std::string::npos) break;
        p = ref[end] == ']' ? ref.find_first_of(".[", end + 1) : end;
      }
      const Val* a = nullptr;
      if (head.empty()) {
        if (auto_index < args.size()) a = &args[auto_index];
        ++auto_index;
      } else if (std::all_of(head.begin(), head.end(),
                             [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
        size_t k = std::stoul(head.substr(0, 9));
        if (k < args.size()) a = &args[k];
      } else if (auto it = kwargs.find(head); it != kwargs.end()) {
        a = &it->second;
      }
      bool ok = a != nullptr && walk == std::string::npos && cut == std::string::npos;
      if (ok) out += as_text(*a, ok);
      exact = exact && ok;
    }
    if (!exact) {
      Val r;
      r.built = true;
      return r;
    }
    return fold(std::move(out));
  }

  Val filter(const Val& v, size_t depth) {
    if (cur().type != T::kName) throw ParseError("filter name");
    size_t at = cur().offset;
    std::string f = cur().text;
    ++pos_;
    while (op(".") && pos_ + 1 < toks_.size() &&
           toks_[pos_ + 1].type == T::kName) {  // dotted filter names
      f += "." + toks_[pos_ + 1].text;
      pos_ += 2;
    }
    std::vector<Val> args;
    std::map<std::string, Val> kwargs;
    if (op("(")) {
      ++pos_;
      call_args(args, kwargs, ")", depth);
    }
    bool ok = true;
    if (f == "attr") {
      Val key = args.empty() ? Val{} : args[0];
      return access(v, key, "attr filter", at);
    }
    if (f == "join") {
      std::string sep = args.empty() ? "" : as_text(args[0], ok);
      if (ok) return join(v, sep);
    }
    if (f == "format" && v.k == Val::kStr) {
      Val tuple;
      tuple.k = Val::kList;
      tuple.items = args;
      std::string s;
      if (percent_format(v.s, tuple, s)) return fold(std::move(s));
    }
    if (f == "replace" && v.k == Val::kStr && args.size() >= 2) {
      std::string a = as_text(args[0], ok), b = as_text(args[1], ok);
      if (ok) return fold(replace_all(v.s, a, b));
    }
    if ((f == "lower" || f == "upper") && v.k == Val::kStr) {
      Val m;
      m.k = Val::kMethod;
      m.s = v.s;
      m.method = f;
      return call(m, {}, {});
    }
    if ((f == "string" || f == "safe" || f == "trim" || f == "e" || f == "escape") &&
        v.k == Val::kStr) {
      if (f == "trim") {
        Val m;
        m.k = Val::kMethod;
        m.s = v.s;
        m.method = "strip";
        return call(m, {}, {});
      }
      if ((f == "e" || f == "escape") && v.s.find_first_of("<>&'\"") != std::string::npos)
        return unknown_from({&v});
      return v;
    }
    if (f == "string" && v.k == Val::kInt) return str(std::to_string(v.i));
    if (f == "reverse" || f == "first" || f == "last" || f == "list") {
      if (v.k == Val::kStr && ascii(v.s)) {
        if (f == "reverse") return fold(std::string(v.s.rbegin(), v.s.rend()));
        if (f == "first" || f == "last")
          return v.s.empty() ? Val{} : str(std::string(1, f == "first" ? v.s.front() : v.s.back()));
        if (!spend(v.s.size() * sizeof(Val))) return unknown_from({&v});
        Val l;
        l.k = Val::kList;
        for (char c : v.s) l.items.push_back(str(std::string(1, c)));
        return l;
      }
      if (v.k == Val::kList) {
        if (f == "list") return v;
        if (f == "reverse") {
          Val l = v;
          std::reverse(l.items.begin(), l.items.end());
          return l;
        }
        if (!v.items.empty()) return f == "first" ? v.items.front() : v.items.back();
      }
    }
    Val r = unknown_from({&v});
    for (const auto& a : args) r.built = r.built || a.k == Val::kStr || a.built;
    if (f == "map" || f == "select" || f == "reject" || f == "selectattr" || f == "rejectattr" ||
        f == "sort" || f == "groupby" || f == "sum" || f == "unique" || f == "min" || f == "max") {
      // These look attributes up by a name argument: `|map(attribute='__class__')`.
      for (const auto& [k, a] : kwargs)
        if (k == "attribute") for_each_attribute(v, a, at);
      if ((f == "map") && !args.empty() && args[0].k == Val::kStr && args[0].s == "attr" &&
          args.size() > 1)
        access(v, args[1], "attr filter", at);
      // selectattr('name', …), rejectattr, groupby('name'): the attribute comes first.
      if ((f == "selectattr" || f == "rejectattr" || f == "groupby") && !args.empty())
        for_each_attribute(v, args[0], at);
    }
    r.path = v.path;
    return r;
  }

  // The attribute argument of filters that look attributes up by name: dotted ('a.b.c') when
  // constant, dynamic otherwise.
  void for_each_attribute(const Val& v, const Val& name, size_t at) {
    if (name.k != Val::kStr) {
      if (name.k == Val::kUnknown) access(v, name, "attr filter", at);
      return;
    }
    for (size_t b = 0, e; b <= name.s.size(); b = e + 1) {
      e = name.s.find('.', b);
      if (e == std::string::npos) e = name.s.size();
      access(v, str(name.s.substr(b, e - b)), "attribute filter argument", at);
    }
  }

  TemplateAnalysis& out_;
  const TemplateLimits& limits_;
  std::map<std::string, Val>& vars_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  size_t call_at_ = 0;
  mutable size_t spent_ = 0;
};

// A tag the parser refused (Jinja2 would refuse it too, or it uses syntax the parser does not
// know): its names after `.` and its string literals are judged alone, so nothing hides there.
void judge_tokens(const std::vector<Token>& toks, TemplateAnalysis& out,
                  const TemplateLimits& limits) {
  for (size_t i = 0; i < toks.size(); ++i) {
    const Token& t = toks[i];
    bool attribute =
        t.type == T::kName && i > 0 && toks[i - 1].type == T::kOp && toks[i - 1].text == ".";
    if ((attribute || t.type == T::kString) && outside_sandbox(t.text) &&
        out.escapes.size() < limits.max_reported)
      out.escapes.push_back(
          {t.offset, shorten(t.text, 80), shorten(t.text, 80), "token of an unparsed tag"});
  }
}

}  // namespace

TemplateAnalysis analyse_template(std::string_view text, const TemplateLimits& limits) {
  TemplateAnalysis out;
  std::map<std::string, Val> vars;
  Lexer lex(text, limits);
  Parser parser(out, limits, vars);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string_view::npos || open + 1 >= text.size()) break;
    char kind = text[open + 1];
    if (kind != '{' && kind != '%' && kind != '#') {
      pos = open + 1;
      continue;
    }
    if (kind == '#') {
      size_t end = text.find("#}", open + 2);
      pos = end == std::string_view::npos ? text.size() : end + 2;
      continue;
    }
    pos = open + 2;
    ++out.tags;
    std::vector<Token> toks;
    try {
      toks = lex.tag(pos, kind == '%');
    } catch (const ParseError& e) {
      out.unparsed = true;
      judge_tokens(lex.partial(), out, limits);
      if (std::string_view(e.what()) == "token limit") {
        out.limited = true;
        break;
      }
      continue;  // resume after the opening delimiter
    }
    if (kind == '%' && toks.size() >= 2 && toks[0].type == T::kName && toks[0].text == "raw") {
      // Everything up to {% endraw %} is output text.
      size_t scan = pos;
      while (true) {
        size_t s = text.find("{%", scan);
        if (s == std::string_view::npos) {
          pos = text.size();
          break;
        }
        size_t p = s + 2;
        if (p < text.size() && (text[p] == '-' || text[p] == '+')) ++p;
        while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p])) != 0) ++p;
        if (text.compare(p, 6, "endraw") == 0) {
          size_t e = text.find("%}", p);
          pos = e == std::string_view::npos ? text.size() : e + 2;
          break;
        }
        scan = s + 2;
      }
      continue;
    }
    try {
      if (kind == '%')
        parser.block(toks);
      else
        parser.variable(toks);
    } catch (const ParseError&) {
      out.unparsed = true;
      judge_tokens(toks, out, limits);
    }
  }
  static constexpr std::array<std::string_view, 9> kWords = {
      "import", "os.", "popen", "subprocess", "eval(", "exec(", "system(", "open(", "getattr"};
  for (auto w : kWords)
    if (text.find(w) != std::string_view::npos) out.code_words.emplace_back(w);
  return out;
}

std::vector<sdk::Finding> template_findings(const TemplateAnalysis& a, std::string_view prefix,
                                            std::string_view what, uint64_t offset,
                                            const std::string& detail) {
  std::vector<sdk::Finding> out;
  auto list = [](const std::vector<TemplateReach>& v, bool attr) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 10; ++i)
      s += (i ? ", " : "") + (attr ? v[i].attribute : v[i].path) + " (" + v[i].how +
           " at character " + std::to_string(v[i].offset) + ")";
    if (v.size() > 10) s += ", ...";
    return s;
  };
  const std::string p(prefix);
  if (!a.escapes.empty()) {
    std::string attrs;
    for (const auto& e : a.escapes)
      if (attrs.find(e.attribute) == std::string::npos && attrs.size() < 400)
        attrs += (attrs.empty() ? "" : ", ") + e.attribute;
    out.push_back({SECMLOPS_SEVERITY_HIGH,
                   p + "-SSTI",
                   std::string(what) + " reaches " + a.escapes[0].path +
                       ", outside Jinja2's sandbox: a renderer without the sandbox runs code of "
                       "the template's "
                       "choosing when it renders it (template injection)",
                   offset,
                   detail,
                   {{"reaches", list(a.escapes, false)}, {"attributes", attrs}}});
  }
  if (!a.dynamic.empty())
    out.push_back({SECMLOPS_SEVERITY_MEDIUM,
                   p + "-DYNAMIC-ATTRIBUTE",
                   std::string(what) +
                       " looks up an attribute whose name it computes at render time (" +
                       a.dynamic[0].how + "): what it reaches cannot be said before rendering",
                   offset,
                   detail,
                   {{"reaches", list(a.dynamic, false)}}});
  if (a.limited)
    out.push_back({SECMLOPS_SEVERITY_MEDIUM,
                   p + "-LIMIT",
                   std::string(what) + " exceeds the analysis limits (tokens, or bytes of folded "
                                       "strings): the rest was not fully "
                                       "inspected",
                   offset,
                   detail,
                   {}});
  if (a.escapes.empty() && !a.code_words.empty()) {
    std::string w;
    for (const auto& x : a.code_words) w += (w.empty() ? "" : ", ") + x;
    out.push_back({SECMLOPS_SEVERITY_LOW,
                   p + "-CODE",
                   std::string(what) + " contains code-like words",
                   offset,
                   detail,
                   {{"words", w}}});
  }
  return out;
}

}  // namespace secmlops::plugins::gguf
