#include "formats.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>

namespace secmlops::plugins::pickle {
namespace {

// The first bytes of a legacy torch.save file: protocol-2 pickle of the LONG1 magic number
// 0x1950a86a20f9469cfc6c.
constexpr uint8_t kTorchLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                         0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

// Argument sizes of pickle opcodes for the probe: >= 0 fixed, -1 line, -2..-5 length-prefixed
// with a 1/2/4/8-byte length, -9 invalid.
int arg_kind(uint8_t op) {
  switch (op) {
    case '(': case '.': case '0': case '1': case '2': case 'N': case 'Q': case 'R': case 'a':
    case 'b': case 'd': case '}': case 'e': case 'l': case ']': case 'o': case 's': case 't':
    case ')': case 'u': case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89:
    case 0x8f: case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x97: case 0x98:
      return 0;
    case 'K': case 'h': case 'q': case 0x80: case 0x82: return 1;
    case 'M': case 0x83: return 2;
    case 'J': case 'j': case 'r': case 0x84: return 4;
    case 'G': case 0x95: return 8;
    case 'F': case 'I': case 'L': case 'P': case 'S': case 'V': case 'g': case 'p': return -1;
    case 'c': case 'i': return -6;  // two lines
    case 'U': case 'C': case 0x8c: case 0x8a: return -2;
    case 'T': case 'X': case 'B': case 0x8b: return -4;
    case 0x8d: case 0x8e: case 0x96: return -5;
    default: return -9;
  }
}

struct HeadWalk {
  uint32_t ops = 0;      // valid opcodes before the walk ended
  bool stop = false;     // reached STOP
  bool invalid = false;  // ended on an invalid opcode or argument (not just the end of the head)
  bool import = false;   // saw GLOBAL, INST or STACK_GLOBAL
  bool long_string = false;  // a quoted STRING (or a UNICODE after other opcodes) runs past the head
};

// Walks opcodes in the head to tell pickles from other bytes.
HeadWalk walk_head(std::span<const uint8_t> h) {
  HeadWalk w;
  size_t i = 0;
  auto result = [&](bool invalid) {
    w.invalid = invalid;
    return w;
  };
  while (i < h.size() && w.ops < 4096) {
    uint8_t op = h[i++];
    int k = arg_kind(op);
    if (k == -9) return result(true);
    ++w.ops;
    uint32_t& ops = w.ops;
    if (op == 'c' || op == 'i' || op == 0x93) w.import = true;
    if (op == '.') {
      w.stop = true;
      return w;
    }
    if (k >= 0) {
      i += static_cast<size_t>(k);
    } else if (k == -1 || k == -6) {
      for (int lines = k == -1 ? 1 : 2; lines > 0; --lines) {
        size_t start = i;
        while (i < h.size() && h[i] != '\n') {
          if (h[i] < 0x20 && h[i] != '\r') {  // lines are printable text
            ops = 0;
            return result(true);
          }
          ++i;
        }
        if (i == h.size()) {
          // Padding a protocol-0 pickle with a long string must not move it out of routing.
          bool quoted = start < h.size() && (h[start] == '\'' || h[start] == '"');
          w.long_string = (op == 'S' && quoted) || (op == 'V' && ops >= 2);
          return w;
        }
        if (i - start > 512 && (op == 'c' || op == 'i')) {
          ops = 0;
          return result(true);
        }
        ++i;
      }
    } else {
      size_t n = k == -2 ? 1 : k == -4 ? 4 : 8;
      if (i + n > h.size()) return w;
      uint64_t len = 0;
      for (size_t b = 0; b < n; ++b) len |= uint64_t{h[i + b]} << (8 * b);
      i += n;
      if (len > h.size() - std::min(i, h.size())) {  // runs past the head: plausible
        ops += 1000;
        return w;
      }
      i += len;
    }
  }
  return w;
}

// ---- .npy header: a Python literal dict ----
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
    if (c == '\'' || c == '"') {
      out.type = Lit::kStr;
      ++p_;
      while (p_ < t_.size() && t_[p_] != c) {
        if (t_[p_] == '\\') return "escapes are not allowed in header strings";
        out.s += t_[p_++];
      }
      if (p_ >= t_.size()) return "unterminated string in header";
      ++p_;
      return std::nullopt;
    }
    if (c == '(' || c == '[' || c == '{') {
      char close = c == '(' ? ')' : c == '[' ? ']' : '}';
      out.type = c == '(' ? Lit::kTuple : c == '[' ? Lit::kList : Lit::kDict;
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
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = p_;
      if (c == '-') ++p_;
      while (p_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
      if (p_ < t_.size() && t_[p_] == 'L') ++p_;  // Python 2 long suffix
      std::string_view num = t_.substr(start, p_ - start);
      if (!num.empty() && num.back() == 'L') num.remove_suffix(1);
      auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), out.i);
      if (ec != std::errc() || ptr != num.data() + num.size()) return "invalid integer in header";
      out.type = Lit::kInt;
      return std::nullopt;
    }
    for (auto [word, type, b] : {std::tuple{"True", Lit::kBool, 1}, std::tuple{"False", Lit::kBool, 0},
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
  std::string_view t_;
  size_t p_ = 0;
};

const Lit* dict_get(const Lit& d, std::string_view key) {
  for (size_t i = 0; i + 1 < d.items.size(); i += 2)
    if (d.items[i].type == Lit::kStr && d.items[i].s == key) return &d.items[i + 1];
  return nullptr;
}

bool mul(uint64_t& acc, uint64_t v) {
  if (v != 0 && acc > UINT64_MAX / v) return false;
  acc *= v;
  return true;
}

// Item size of a dtype description; sets has_object for object fields.
std::optional<std::string> descr_size(const Lit& d, uint64_t& size, bool& has_object, int depth) {
  if (depth > 16) return "dtype nests too deeply";
  if (d.type == Lit::kStr) {
    std::string_view t = d.s;
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
      return "unsupported type string '" + d.s + "'";
    switch (kind) {
      case 'b': case 'i': case 'u': case 'f': case 'c': case 'S': case 'a': case 'V': case 'M': case 'm':
        if (digits == 0) return "type string '" + d.s + "' has no size";
        size = n;
        return std::nullopt;
      case '?': size = 1; return std::nullopt;
      case 'U':
        if (!mul(n, 4)) return "type string overflows";
        size = n;
        return std::nullopt;
      case 'O': size = 8; has_object = true; return std::nullopt;
      default: return "unsupported type string '" + d.s + "'";
    }
  }
  if (d.type == Lit::kList) {
    uint64_t total = 0;
    for (const Lit& field : d.items) {
      if (field.type != Lit::kTuple || field.items.size() < 2 || field.items.size() > 3)
        return "structured dtype field is not (name, type[, shape])";
      uint64_t fs = 0;
      if (auto e = descr_size(field.items[1], fs, has_object, depth + 1)) return e;
      if (field.items.size() == 3) {
        const Lit& shape = field.items[2];
        if (shape.type == Lit::kInt) {
          if (shape.i < 0 || !mul(fs, static_cast<uint64_t>(shape.i))) return "invalid field shape";
        } else if (shape.type == Lit::kTuple) {
          for (const Lit& dim : shape.items)
            if (dim.type != Lit::kInt || dim.i < 0 || !mul(fs, static_cast<uint64_t>(dim.i)))
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
  return "descr is neither a type string nor a list of fields";
}


bool scan_numpy(ScanState& s) {
  uint64_t size = s.cursor.size();
  const uint8_t* head = s.cursor.need(0, std::min<uint64_t>(size, 12));
  auto bad = [&](const std::string& why, uint64_t off) {
    emit(s, "NUMPY-HEADER-INVALID", SECMLOPS_SEVERITY_MEDIUM, "invalid .npy header: " + why, off, "npy header");
    return false;
  };
  if (head == nullptr || size < 10) return bad("file shorter than the header", 0);
  uint32_t major = head[6];
  uint64_t hlen = 0, prefix = 0;
  if (major == 1) {
    hlen = head[8] | (head[9] << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return bad("file shorter than the header", 0);
    hlen = uint64_t{head[8]} | (uint64_t{head[9]} << 8) | (uint64_t{head[10]} << 16) | (uint64_t{head[11]} << 24);
    prefix = 12;
  } else {
    return bad("unsupported format version " + std::to_string(major), 6);
  }
  if (hlen > (1u << 20)) return bad("header length " + std::to_string(hlen) + " exceeds 1 MiB", 8);
  if (prefix + hlen > size) return bad("header runs past the end of the file", 8);
  const uint8_t* h = s.cursor.need(0, prefix + hlen);
  NpyHeader hdr;
  if (auto err = parse_npy_header(h, prefix + hlen, hdr)) return bad(*err, prefix);
  uint64_t data = hdr.data_offset;
  if (hdr.has_object) {
    emit(s, "NUMPY-OBJECT-ARRAY", SECMLOPS_SEVERITY_LOW,
         "object array: its data is a pickle that numpy.load runs with allow_pickle=True (analysed below)",
         data, "npy data", {{"descr", hdr.descr}});
    ++s.depth;
    bool ok = scan_pickle_stream(s, data, size, "npy object array");
    --s.depth;
    return ok;
  }
  uint64_t expected = hdr.itemsize;
  for (uint64_t d : hdr.shape)
    if (!mul(expected, d)) return bad("shape × item size overflows", prefix);
  uint64_t actual = size - data;
  if (actual < expected) {
    emit(s, "NUMPY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
         "array data holds " + std::to_string(actual) + " bytes but shape × item size needs " +
             std::to_string(expected),
         data, "npy data", {{"descr", hdr.descr}});
    return true;
  }
  if (actual > expected) {
    uint64_t tail = data + expected;
    const uint8_t* p = s.cursor.need(tail, std::min<uint64_t>(size - tail, 2));
    if (p != nullptr && size - tail >= 2 && p[0] == 0x80 && p[1] <= 5) {
      emit(s, "NUMPY-TRAILING-DATA", SECMLOPS_SEVERITY_HIGH,
           "a pickle follows the array data (analysed)", tail, "after npy data",
           {{"bytes", std::to_string(size - tail)}});
      ++s.depth;
      bool ok = scan_pickle_stream(s, tail, size, "after npy data");
      --s.depth;
      return ok;
    }
    inspect_trailing(s, tail, size, "the array data", "npy");
  }
  return true;  // the array bytes themselves are never read
}

bool scan_torch_legacy(ScanState& s) {
  uint64_t size = s.cursor.size();
  uint64_t pos = 0;
  static const char* kParts[] = {"torch legacy magic number", "torch legacy protocol version",
                                 "torch legacy sys_info", "torch legacy model",
                                 "torch legacy storage keys"};
  for (int part = 0; part < 5; ++part) {
    if (pos >= size) {
      emit(s, "TORCH-LEGACY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
           std::string("file ends before the ") + kParts[part] + " pickle", pos, "torch legacy");
      return part >= 4;
    }
    s.collect_storages = part == 3;
    s.collect_strings = part == 4;
    PickleResult r = parse_pickle(s, pos, size, kParts[part]);
    s.collect_storages = false;
    s.collect_strings = false;
    if (!r.complete) return false;
    pos = r.end;
  }
  // Raw storages, in the order of the key list: int64 element count, then the elements.
  for (const std::string& key : s.strings) {
    auto it = s.storages.find(key);
    if (it == s.storages.end() || it->second.element_size == 0) {
      emit(s, "TORCH-LEGACY-STORAGE-UNKNOWN", SECMLOPS_SEVERITY_MEDIUM,
           "storage '" + key + "' has no known element type in the model pickle; the rest of the file was not analysed",
           pos, "torch legacy storages");
      return false;
    }
    const uint8_t* p = s.cursor.need(pos, 8);
    if (p == nullptr) {
      emit(s, "TORCH-LEGACY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
           "file ends inside the storage of '" + key + "'", pos, "torch legacy storages");
      return true;
    }
    uint64_t numel = 0;
    std::memcpy(&numel, p, 8);
    uint64_t bytes = numel;
    if (!mul(bytes, it->second.element_size) || pos + 8 > size || bytes > size - pos - 8) {
      emit(s, "TORCH-LEGACY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
           "storage '" + key + "' (" + std::to_string(numel) + " elements) runs past the end of the file",
           pos, "torch legacy storages");
      return true;
    }
    pos += 8 + bytes;  // skipped by offset
  }
  if (pos < size) {
    const uint8_t* p = s.cursor.need(pos, std::min<uint64_t>(size - pos, 2));
    if (p != nullptr && size - pos >= 2 && p[0] == 0x80 && p[1] <= 5) {
      emit(s, "TORCH-LEGACY-TRAILING-PICKLE", SECMLOPS_SEVERITY_HIGH,
           "a pickle follows the storages (analysed)", pos, "after torch legacy storages");
      return scan_pickle_stream(s, pos, size, "after torch legacy storages");
    }
    inspect_trailing(s, pos, size, "the storages", "torch legacy");
  }
  return true;
}

}  // namespace

namespace {
// `…/data/<digits>`: a tensor storage of a PyTorch zip checkpoint. torch.load reads its bytes
// as raw tensor data, never as a pickle, so tensor bytes that happen to start like a pickle
// must not be scanned as one.
bool torch_storage_name(std::string_view name) {
  size_t slash = name.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == name.size()) return false;
  std::string_view key = name.substr(slash + 1), dir = name.substr(0, slash);
  if (!std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  return dir == "data" || (dir.size() > 5 && dir.substr(dir.size() - 5) == "/data");
}
}  // namespace

uint32_t probe_format(std::span<const uint8_t> head, const char*& format, std::string_view name) {
  if (torch_storage_name(name)) {
    // Only a complete, well-formed pickle inside the head is claimed there.
    if (head.size() < 2 || head[0] != 0x80 || head[1] > 5) return 0;
    HeadWalk w = walk_head(head.subspan(0, std::min<size_t>(head.size(), 4096)));
    if (!w.stop || w.invalid || w.ops < 4) return 0;
    format = kFormatPickle;
    return 40;
  }
  if (head.size() >= 6 && std::memcmp(head.data(), "\x93NUMPY", 6) == 0) {
    format = kFormatNumpy;
    return 100;
  }
  if (head.size() >= sizeof kTorchLegacyMagic &&
      std::memcmp(head.data(), kTorchLegacyMagic, sizeof kTorchLegacyMagic) == 0) {
    format = kFormatTorchLegacy;
    return 95;
  }
  // A pickle that turns invalid after a few opcodes is still claimed: a loader runs everything
  // before the bad opcode. Only bytes that stop parsing almost at once (tensor data that happens
  // to start with 0x80) are left alone.
  if (head.size() >= 2 && head[0] == 0x80 && head[1] <= 5) {
    HeadWalk w = walk_head(head.subspan(0, std::min<size_t>(head.size(), 4096)));
    if (w.invalid && w.ops < 4) return 0;
    format = kFormatPickle;
    return 90;
  }
  if (head.size() >= 2 && std::strchr("(]})cNIKJXUTSVFLGi", head[0]) != nullptr && head[0] != 0) {
    HeadWalk w = walk_head(head.subspan(0, std::min<size_t>(head.size(), 4096)));
    format = kFormatPickle;
    if (w.stop && w.ops >= 2) return 60;
    if (w.import && w.ops >= 3) return 50;
    if (w.ops >= 64 || w.long_string) return 40;
  }
  return 0;
}

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
    hlen = uint64_t{data[8]} | (uint64_t{data[9]} << 8) | (uint64_t{data[10]} << 16) | (uint64_t{data[11]} << 24);
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

bool scan_format(ScanState& state, std::string_view format) {
  if (format == kFormatNumpy) return scan_numpy(state);
  if (format == kFormatTorchLegacy) return scan_torch_legacy(state);
  return scan_pickle_stream(state, 0, state.cursor.size(), "");
}

}  // namespace secmlops::plugins::pickle
