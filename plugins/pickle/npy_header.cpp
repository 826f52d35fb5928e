// The .npy header: a Python literal dict (descr, fortran_order, shape) read by a small literal
// parser that accepts what numpy writes and refuses anything else, and the item size of its
// dtype description.
#include "format_scans.hpp"
#include "formats.hpp"

#include <cctype>
#include <charconv>
#include <cstring>
#include <tuple>

namespace secmlops::plugins::pickle {
namespace {

struct Lit {
  enum Type { kStr, kInt, kBool, kNone, kTuple, kList, kDict } type = kNone;
  std::string s;
  int64_t i = 0;
  std::vector<Lit> items;  // tuple/list items; dict: key, value, key, value…
};

class LitParser {
 public:
  explicit LitParser(std::string_view t) : t_(t) {}
  std::optional<std::string> parse(Lit& out) {
    auto err = value(out, 0);
    if (err) return err;
    ws();
    if (p_ != t_.size()) return "unexpected text after the header dict";
    return std::nullopt;
  }

 private:
  void ws() {
    while (p_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[p_]))) ++p_;
  }
  std::optional<std::string> value(Lit& out, int depth) {
    if (depth > 32) return "header nests too deeply";
    ws();
    if (p_ >= t_.size()) return "header ends early";
    char c = t_[p_];
    if (c == '\'' || c == '"') return string(out, c);
    if (c == '(' || c == '[' || c == '{') return container(out, c, depth);
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return integer(out);
    for (auto [word, type, b] :
         {std::tuple{"True", Lit::kBool, 1}, std::tuple{"False", Lit::kBool, 0},
          std::tuple{"None", Lit::kNone, 0}}) {
      size_t n = std::strlen(word);
      if (t_.substr(p_, n) == word) {
        p_ += n;
        out.type = type;
        out.i = b;
        return std::nullopt;
      }
    }
    return "unexpected character in header";
  }
  std::optional<std::string> string(Lit& out, char quote) {
    out.type = Lit::kStr;
    ++p_;
    while (p_ < t_.size() && t_[p_] != quote) {
      if (t_[p_] == '\\') return "escapes are not allowed in header strings";
      out.s += t_[p_++];
    }
    if (p_ >= t_.size()) return "unterminated string in header";
    ++p_;
    return std::nullopt;
  }
  std::optional<std::string> container(Lit& out, char open, int depth) {
    char close = open == '(' ? ')' : open == '[' ? ']' : '}';
    out.type = open == '(' ? Lit::kTuple : open == '[' ? Lit::kList : Lit::kDict;
    ++p_;
    while (true) {
      ws();
      if (p_ < t_.size() && t_[p_] == close) {
        ++p_;
        return std::nullopt;
      }
      if (out.items.size() > 100000) return "header holds too many items";
      Lit item;
      if (auto e = value(item, depth + 1)) return e;
      out.items.push_back(std::move(item));
      ws();
      if (out.type == Lit::kDict) {
        if (p_ >= t_.size() || t_[p_] != ':') return "expected ':' in header dict";
        ++p_;
        Lit v;
        if (auto e = value(v, depth + 1)) return e;
        out.items.push_back(std::move(v));
        ws();
      }
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == close) continue;
      return "expected ',' or a closing bracket in header";
    }
  }
  std::optional<std::string> integer(Lit& out) {
    size_t start = p_;
    if (t_[p_] == '-') ++p_;
    while (p_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
    if (p_ < t_.size() && t_[p_] == 'L') ++p_;  // Python 2 long suffix
    std::string_view num = t_.substr(start, p_ - start);
    if (!num.empty() && num.back() == 'L') num.remove_suffix(1);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), out.i);
    if (ec != std::errc() || ptr != num.data() + num.size()) return "invalid integer in header";
    out.type = Lit::kInt;
    return std::nullopt;
  }
  std::string_view t_;
  size_t p_ = 0;
};

const Lit* dict_get(const Lit& d, std::string_view key) {
  for (size_t i = 0; i + 1 < d.items.size(); i += 2)
    if (d.items[i].type == Lit::kStr && d.items[i].s == key) return &d.items[i + 1];
  return nullptr;
}

// Item size of a type string ("<f4", "|S10", "<M8[ns]", "O" …); sets has_object for "O".
std::optional<std::string> typestr_size(const std::string& typestr, uint64_t& size,
                                        bool& has_object) {
  std::string_view t = typestr;
  if (!t.empty() && std::strchr("<>|=", t[0])) t.remove_prefix(1);
  if (t.empty()) return "empty type string";
  char kind = t[0];
  t.remove_prefix(1);
  uint64_t n = 0;
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  if (digits > 0) std::from_chars(t.data(), t.data() + digits, n);
  std::string_view rest = t.substr(digits);
  if (!rest.empty() && !(rest.front() == '[' && rest.back() == ']' && (kind == 'M' || kind == 'm')))
    return "unsupported type string '" + typestr + "'";
  switch (kind) {
    case 'b':
    case 'i':
    case 'u':
    case 'f':
    case 'c':
    case 'S':
    case 'a':
    case 'V':
    case 'M':
    case 'm':
      if (digits == 0) return "type string '" + typestr + "' has no size";
      size = n;
      return std::nullopt;
    case '?':
      size = 1;
      return std::nullopt;
    case 'U':
      if (!checked_mul(n, 4)) return "type string overflows";
      size = n;
      return std::nullopt;
    case 'O':
      size = 8;
      has_object = true;
      return std::nullopt;
    default:
      return "unsupported type string '" + typestr + "'";
  }
}

// Item size of a dtype description: a type string or a list of (name, type[, shape]) fields.
std::optional<std::string> descr_size(const Lit& d, uint64_t& size, bool& has_object, int depth) {
  if (depth > 16) return "dtype nests too deeply";
  if (d.type == Lit::kStr) return typestr_size(d.s, size, has_object);
  if (d.type != Lit::kList) return "descr is neither a type string nor a list of fields";
  uint64_t total = 0;
  for (const Lit& field : d.items) {
    if (field.type != Lit::kTuple || field.items.size() < 2 || field.items.size() > 3)
      return "structured dtype field is not (name, type[, shape])";
    uint64_t fs = 0;
    if (auto e = descr_size(field.items[1], fs, has_object, depth + 1)) return e;
    if (field.items.size() == 3) {
      const Lit& shape = field.items[2];
      if (shape.type == Lit::kInt) {
        if (shape.i < 0 || !checked_mul(fs, static_cast<uint64_t>(shape.i)))
          return "invalid field shape";
      } else if (shape.type == Lit::kTuple) {
        for (const Lit& dim : shape.items)
          if (dim.type != Lit::kInt || dim.i < 0 || !checked_mul(fs, static_cast<uint64_t>(dim.i)))
            return "invalid field shape";
      } else {
        return "invalid field shape";
      }
    }
    if (total + fs < total) return "structured dtype size overflows";
    total += fs;
  }
  size = total;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_npy_header(const uint8_t* data, uint64_t size, NpyHeader& out) {
  if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0) return "missing \\x93NUMPY magic";
  out.major = data[6];
  out.minor = data[7];
  uint64_t hlen = 0, prefix = 0;
  if (out.major == 1) {
    hlen = data[8] | (data[9] << 8);
    prefix = 10;
  } else if (out.major == 2 || out.major == 3) {
    if (size < 12) return "truncated header length";
    hlen = uint64_t{data[8]} | (uint64_t{data[9]} << 8) | (uint64_t{data[10]} << 16) |
           (uint64_t{data[11]} << 24);
    prefix = 12;
  } else {
    return "unsupported format version " + std::to_string(out.major);
  }
  if (hlen > size - prefix) return "header runs past the end of the data";
  out.data_offset = prefix + hlen;
  std::string_view text(reinterpret_cast<const char*>(data + prefix), hlen);
  Lit root;
  if (auto e = LitParser(text).parse(root)) return e;
  if (root.type != Lit::kDict) return "header is not a dict";
  const Lit* descr = dict_get(root, "descr");
  const Lit* fortran = dict_get(root, "fortran_order");
  const Lit* shape = dict_get(root, "shape");
  if (descr == nullptr || fortran == nullptr || shape == nullptr)
    return "header lacks descr, fortran_order or shape";
  if (root.items.size() != 6) return "header has keys other than descr, fortran_order and shape";
  if (fortran->type != Lit::kBool) return "fortran_order is not a bool";
  out.fortran_order = fortran->i != 0;
  if (shape->type != Lit::kTuple) return "shape is not a tuple";
  for (const Lit& d : shape->items) {
    if (d.type != Lit::kInt || d.i < 0) return "shape holds a non-integer or negative dimension";
    out.shape.push_back(static_cast<uint64_t>(d.i));
  }
  out.descr = descr->type == Lit::kStr ? descr->s : "<structured>";
  if (auto e = descr_size(*descr, out.itemsize, out.has_object, 0)) return e;
  return std::nullopt;
}

}  // namespace secmlops::plugins::pickle
