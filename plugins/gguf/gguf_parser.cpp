#include "gguf_parser.hpp"

#include "ggml_types.hpp"
#include "jinja_reach.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

namespace secmlops::plugins::gguf {
namespace {

// 128-bit arithmetic so that size products cannot wrap around.
__extension__ using u128 = unsigned __int128;

enum ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12
};

// Fixed size in bytes of a scalar value type; 0 for string/array/unknown.
uint64_t scalar_size(uint32_t t) {
  switch (t) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
      return 8;
    default:
      return 0;
  }
}

const char* type_name(uint32_t t) {
  static const char* names[] = {"uint8",  "int8",    "uint16", "int16",  "uint32",
                                "int32",  "float32", "bool",   "string", "array",
                                "uint64", "int64",   "float64"};
  return t <= kF64 ? names[t] : "unknown";
}

// Parsing stops: the finding (if any) was already recorded.
struct Stop : std::runtime_error {
  uint64_t offset;
  Stop(const std::string& what, uint64_t at) : std::runtime_error(what), offset(at) {}
};

std::string printable(std::string s, size_t max = 120) {
  if (s.size() > max) s = s.substr(0, max) + "…";
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

// A bounds-checked little-endian reader over the source's windows.
class Cursor {
 public:
  explicit Cursor(sdk::Source& src) : win_(src), size_(src.size()) {}
  [[nodiscard]] uint64_t pos() const { return pos_; }
  [[nodiscard]] uint64_t remaining() const { return size_ - pos_; }
  [[nodiscard]] uint64_t size() const { return size_; }

  void read(void* out, size_t n, const char* what) {
    if (n > remaining()) throw Stop(std::string("file ends inside ") + what, pos_);
    if (n != 0) std::memcpy(out, win_.at(pos_, n, what), n);
    pos_ += n;
  }
  template <class T>
  T get(const char* what) {
    uint8_t b[sizeof(T)];
    read(b, sizeof(T), what);
    uint64_t v = 0;
    for (size_t i = sizeof(T); i-- > 0;) v = (v << 8) | b[i];
    T out;
    if constexpr (sizeof(T) == 8) {
      std::memcpy(&out, &v, 8);
    } else {
      auto narrow =
          static_cast<std::conditional_t<sizeof(T) == 4, uint32_t,
                                         std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>(v);
      std::memcpy(&out, &narrow, sizeof(T));
    }
    return out;
  }
  void skip(uint64_t n, const char* what) {
    if (n > remaining()) throw Stop(std::string("file ends inside ") + what, pos_);
    pos_ += n;
  }

 private:
  sdk::WindowReader win_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

class Parser {
 public:
  Parser(sdk::Source& src, const Limits& limits, const std::function<bool()>& cancelled, Result& r)
      : in_(src), limits_(limits), cancelled_(cancelled), r_(r) {}

  void run() {
    char magic[4];
    in_.read(magic, 4, "the magic");
    if (std::memcmp(magic, "GGUF", 4) != 0)
      throw Stop("not a GGUF file: the magic is not \"GGUF\"", 0);
    r_.version = in_.get<uint32_t>("the version");
    if (r_.version < 1 || r_.version > 3) {
      uint32_t swapped = __builtin_bswap32(r_.version);
      add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-UNSUPPORTED-VERSION",
          "GGUF version " + std::to_string(r_.version) +
              (swapped >= 1 && swapped <= 3 ? " (a big-endian file)" : "") +
              " is not one of 1, 2, 3; the header cannot be interpreted",
          4);
      throw Stop("unsupported GGUF version " + std::to_string(r_.version), 4);
    }
    wide = r_.version >= 2;
    const uint64_t counts_at = in_.pos();
    r_.tensor_count =
        wide ? in_.get<uint64_t>("the tensor count") : in_.get<uint32_t>("the tensor count");
    r_.kv_count =
        wide ? in_.get<uint64_t>("the metadata count") : in_.get<uint32_t>("the metadata count");
    // Smallest encodings: a key/value is a length, a type and a 1-byte value; a tensor info a
    // name length, n_dims (a scalar has no dims), a type and an offset.
    const uint64_t len_size = wide ? 8 : 4;
    check_count(r_.kv_count, limits_.max_kv, len_size + 4 + 1, "metadata key/value", counts_at);
    check_count(r_.tensor_count, limits_.max_tensors, len_size + 4 + 4 + 8, "tensor info",
                counts_at);

    for (uint64_t i = 0; i < r_.kv_count; ++i) read_kv();
    for (uint64_t i = 0; i < r_.tensor_count; ++i) read_tensor_info();
    check_layout();
  }

 private:
  void add(secmlops_severity sev, const std::string& rule, std::string message, uint64_t offset,
           std::string detail = {},
           std::vector<std::pair<std::string, std::string>> evidence = {}) {
    r_.findings.push_back(
        {sev, rule, std::move(message), offset, std::move(detail), std::move(evidence)});
  }

  void poll() {
    if ((++work_ & 0xfff) == 0 && cancelled_ && cancelled_()) throw Stop("cancelled", in_.pos());
  }

  void check_count(uint64_t n, uint64_t limit, uint64_t min_bytes, const char* what, uint64_t at) {
    if (n > limit) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-COUNT-LIMIT",
          std::string(what) + " count " + std::to_string(n) + " exceeds the limit of " +
              std::to_string(limit),
          at, {}, {{"count", std::to_string(n)}});
      throw Stop(std::string(what) + " count beyond limit", at);
    }
    if (min_bytes != 0 && n > in_.remaining() / min_bytes) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-COUNT-BEYOND-FILE",
          std::string(what) + " count " + std::to_string(n) + " cannot fit in the " +
              std::to_string(in_.remaining()) + " bytes left in the file",
          at, {}, {{"count", std::to_string(n)}});
      throw Stop(std::string(what) + " count larger than the file", at);
    }
  }

  uint64_t read_len(const char* what) {
    return wide ? in_.get<uint64_t>(what) : in_.get<uint32_t>(what);
  }

  // Reads a string of at most `keep` bytes (the rest is skipped) after checking its length.
  std::string read_string(uint64_t max, uint64_t keep, const char* what) {
    const uint64_t at = in_.pos();
    const uint64_t n = read_len(what);
    if (n > max) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-STRING-LIMIT",
          std::string(what) + " length " + std::to_string(n) + " exceeds the limit of " +
              std::to_string(max),
          at, {}, {{"length", std::to_string(n)}});
      throw Stop(std::string(what) + " too long", at);
    }
    if (n > in_.remaining()) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-STRING-OUT-OF-BOUNDS",
          std::string(what) + " length " + std::to_string(n) + " runs past the end of the file", at,
          {}, {{"length", std::to_string(n)}});
      throw Stop(std::string(what) + " runs past the end of the file", at);
    }
    std::string s(std::min(n, keep), '\0');
    in_.read(s.data(), s.size(), what);
    in_.skip(n - s.size(), what);
    return s;
  }

  void read_kv() {
    poll();
    const uint64_t at = in_.pos();
    std::string key = read_string(limits_.max_key, limits_.max_key, "a metadata key");
    if (!keys_.insert(key).second)
      add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-DUPLICATE-KEY",
          "metadata key '" + printable(key) +
              "' appears more than once; readers disagree on which counts",
          at, printable(key));
    const uint32_t type = in_.get<uint32_t>("a metadata value type");
    const uint64_t value_at = in_.pos();
    const bool is_template = key.rfind("tokenizer.chat_template", 0) == 0;
    if (key == "general.alignment") {
      if (type != kU32) {
        add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-BAD-ALIGNMENT",
            std::string("general.alignment has type ") + type_name(type) + " instead of uint32",
            at);
      } else {
        uint32_t a = in_.get<uint32_t>("general.alignment");
        if (a == 0 || (a & (a - 1)) != 0)
          add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-BAD-ALIGNMENT",
              "general.alignment " + std::to_string(a) + " is not a power of two", value_at);
        else
          alignment_ = a;
        return;
      }
    }
    if (type == kString && (is_template || key.rfind("general.", 0) == 0)) {
      std::string v = read_string(limits_.max_string, is_template ? limits_.max_template_read : 256,
                                  "a metadata string");
      if (is_template)
        check_template(key, v, value_at);
      else if (info_.size() < 12)
        info_.emplace_back(printable(key, 64), printable(v));
      return;
    }
    skip_value(type, 0, value_at);
  }

  void check_template(const std::string& key, const std::string& text, uint64_t at) {
    for (auto& f : template_findings(analyse_template(text), "GGUF-CHAT-TEMPLATE",
                                     "chat template '" + printable(key) + "'", at, printable(key)))
      add(f.severity, f.rule_id, std::move(f.message), f.offset, std::move(f.detail),
          std::move(f.evidence));
  }

  void skip_value(uint32_t type, uint32_t depth, uint64_t at) {
    if (uint64_t s = scalar_size(type)) {
      in_.skip(s, "a metadata value");
      return;
    }
    if (type == kString) {
      read_string(limits_.max_string, 0, "a metadata string");
      return;
    }
    if (type != kArray) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-BAD-VALUE-TYPE",
          "metadata value type " + std::to_string(type) +
              " is unknown; the rest of the header cannot be read",
          at - 4, {}, {{"type", std::to_string(type)}});
      throw Stop("unknown metadata value type " + std::to_string(type), at - 4);
    }
    const uint64_t arr_at = in_.pos();
    const uint32_t elem = in_.get<uint32_t>("an array element type");
    const uint64_t count = read_len("an array length");
    if (elem == kArray) {
      if (depth == 0)
        add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-NESTED-ARRAY",
            "metadata holds arrays of arrays, which GGUF readers do not support", arr_at);
      if (depth + 1 >= limits_.max_array_depth) {
        add(SECMLOPS_SEVERITY_HIGH, "GGUF-ARRAY-LIMIT",
            "arrays nested deeper than " + std::to_string(limits_.max_array_depth), arr_at);
        throw Stop("arrays nested too deeply", arr_at);
      }
    }
    if (count > limits_.max_array) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-ARRAY-LIMIT",
          "array of " + std::to_string(count) + " elements exceeds the limit of " +
              std::to_string(limits_.max_array),
          arr_at, {}, {{"count", std::to_string(count)}});
      throw Stop("array too long", arr_at);
    }
    uint64_t min = scalar_size(elem);
    if (elem == kString || elem == kArray) min = wide ? 8 : 4;
    if (min == 0) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-BAD-VALUE-TYPE",
          "array element type " + std::to_string(elem) +
              " is unknown; the rest of the header cannot be read",
          arr_at, {}, {{"type", std::to_string(elem)}});
      throw Stop("unknown array element type " + std::to_string(elem), arr_at);
    }
    if (count > in_.remaining() / min) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-COUNT-BEYOND-FILE",
          "array of " + std::to_string(count) + " " + type_name(elem) +
              " elements cannot fit in the " + std::to_string(in_.remaining()) +
              " bytes left in the file",
          arr_at, {}, {{"count", std::to_string(count)}});
      throw Stop("array larger than the file", arr_at);
    }
    if (elem != kString && elem != kArray) {
      in_.skip(count * min, "an array");
      return;
    }
    for (uint64_t i = 0; i < count; ++i) {
      poll();
      if (elem == kString)
        read_string(limits_.max_string, 0, "an array string");
      else
        skip_value(kArray, depth + 1, in_.pos());
    }
  }

  void read_tensor_info() {
    poll();
    const uint64_t at = in_.pos();
    std::string name = read_string(limits_.max_key, limits_.max_key, "a tensor name");
    const std::string where = "tensor '" + printable(name) + "'";
    if (!tensor_names_.insert(name).second)
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-DUPLICATE-TENSOR", where + " is declared more than once",
          at, where);
    const uint32_t n_dims = in_.get<uint32_t>("a tensor's dimension count");
    if (n_dims > 64) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-TENSOR-DIMS",
          where + " declares " + std::to_string(n_dims) +
              " dimensions; the header cannot be read further",
          at, where);
      throw Stop("tensor with " + std::to_string(n_dims) + " dimensions", at);
    }
    bool bad = false;
    std::string why;
    if (n_dims > limits_.max_dims)
      bad = true, why = std::to_string(n_dims) + " dimensions (ggml allows " +
                        std::to_string(limits_.max_dims) + ")";
    u128 elements = 1;
    uint64_t ne0 = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t v =
          wide ? in_.get<uint64_t>("a tensor dimension") : in_.get<uint32_t>("a tensor dimension");
      if (d == 0) ne0 = v;
      elements *= v;
      if (elements > static_cast<u128>(INT64_MAX)) elements = static_cast<u128>(INT64_MAX) + 1;
    }
    if (elements > static_cast<u128>(INT64_MAX))
      bad = true, why = "an element count that overflows 64-bit arithmetic";
    const uint32_t type = in_.get<uint32_t>("a tensor type");
    const uint64_t offset = in_.get<uint64_t>("a tensor offset");
    auto t = ggml_type(type);
    if (!t) {
      add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-UNKNOWN-TENSOR-TYPE",
          where + " has unknown or removed ggml type " + std::to_string(type), at, where,
          {{"type", std::to_string(type)}});
    } else if (!bad && ne0 % t->block_elements != 0) {
      bad = true;
      why = "a first dimension (" + std::to_string(ne0) + ") that is not a multiple of the " +
            std::string(t->name) + " block size " + std::to_string(t->block_elements);
    }
    if (bad) {
      add(SECMLOPS_SEVERITY_HIGH, "GGUF-TENSOR-DIMS", where + " has " + why, at, where);
      return;
    }
    if (!t) return;
    u128 bytes = elements / t->block_elements * t->block_bytes;
    tensors_.push_back({offset, bytes, name, at});
  }

  struct Tensor {
    uint64_t offset;
    u128 bytes;
    std::string name;
    uint64_t info_at;
  };

  void check_layout() {
    const uint64_t header_end = in_.pos();
    const uint64_t data_start = (header_end + alignment_ - 1) / alignment_ * alignment_;
    const uint64_t file_size = in_.size();
    if (!info_.empty())
      add(SECMLOPS_SEVERITY_INFO, "GGUF-METADATA",
          "GGUF v" + std::to_string(r_.version) + " with " + std::to_string(r_.tensor_count) +
              " tensors and " + std::to_string(r_.kv_count) + " metadata entries",
          SECMLOPS_NO_OFFSET, {}, info_);
    struct Span {
      u128 begin, end;
      const Tensor* t;
    };
    std::vector<Span> spans;
    for (const auto& t : tensors_) {
      const std::string where = "tensor '" + printable(t.name) + "'";
      if (t.offset % alignment_ != 0)
        add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-TENSOR-MISALIGNED",
            where + " starts at data offset " + std::to_string(t.offset) +
                ", not a multiple of the alignment " + std::to_string(alignment_),
            t.info_at, where);
      u128 begin = static_cast<u128>(data_start) + t.offset;
      u128 end = begin + t.bytes;
      if (end > file_size) {
        add(SECMLOPS_SEVERITY_HIGH, "GGUF-TENSOR-OUT-OF-BOUNDS",
            where + " ends past the end of the " + std::to_string(file_size) + "-byte file",
            t.info_at, where, {{"offset", std::to_string(t.offset)}});
        continue;
      }
      spans.push_back({begin, end, &t});
    }
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.begin < b.begin; });
    u128 covered = data_start;
    const Span* last = nullptr;
    for (const auto& s : spans) {
      if (s.begin < covered && s.begin != s.end && last != nullptr) {
        add(SECMLOPS_SEVERITY_HIGH, "GGUF-TENSOR-OVERLAP",
            "tensor '" + printable(s.t->name) + "' overlaps tensor '" + printable(last->t->name) +
                "'",
            s.t->info_at, "tensor '" + printable(s.t->name) + "'");
      } else if (s.begin > (covered + alignment_ - 1) / alignment_ * alignment_) {
        // Writers pad each tensor to the alignment; more than that is bytes nobody reads.
        auto gap = static_cast<uint64_t>(s.begin - covered);
        add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-GAP",
            std::to_string(gap) + " bytes of the data section belong to no tensor",
            static_cast<uint64_t>(covered), {}, {{"length", std::to_string(gap)}});
      }
      if (s.end > covered) {
        covered = s.end;
        last = &s;
      }
    }
    const uint64_t padded_end =
        static_cast<uint64_t>((covered + alignment_ - 1) / alignment_ * alignment_);
    if (r_.tensor_count > 0 && file_size > padded_end)
      add(SECMLOPS_SEVERITY_MEDIUM, "GGUF-TRAILING-DATA",
          std::to_string(file_size - padded_end) +
              " bytes after the last tensor belong to no tensor (hidden payload / polyglot file)",
          padded_end, {}, {{"length", std::to_string(file_size - padded_end)}});
  }

  Cursor in_;
  const Limits& limits_;
  const std::function<bool()>& cancelled_;
  Result& r_;
  bool wide = true;  // v2+ widened counts and lengths to 64 bits
  uint64_t alignment_ = 32;
  uint64_t work_ = 0;
  std::set<std::string> keys_, tensor_names_;
  std::vector<Tensor> tensors_;
  std::vector<std::pair<std::string, std::string>> info_;
};

}  // namespace

uint32_t probe(sdk::Bytes head) {
  if (head.size() < 8 || std::memcmp(head.data(), "GGUF", 4) != 0) return 0;
  return 90;
}

Result validate(sdk::Source& source, const Limits& limits, const std::function<bool()>& cancelled) {
  Result r;
  Parser p(source, limits, cancelled, r);
  try {
    p.run();
  } catch (const Stop& s) {
    r.error = s.what();
    r.error_offset = s.offset;
  }
  return r;
}

}  // namespace secmlops::plugins::gguf
