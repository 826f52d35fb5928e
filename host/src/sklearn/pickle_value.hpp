// Plain data rebuilt from a pickle stream: what the allowlist VM (pickle_vm.hpp) produces and
// the estimator mapping (estimators.hpp) reads. Nothing here can run code: an "object" is a class
// name with the arguments and state the stream gave it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secmlops::host::sklearn {

// A refusal: the file is not imported. `offset` is the byte offset in the pickle stream (or the
// decompressed stream), when one applies.
class ImportError : public std::runtime_error {
 public:
  ImportError(const std::string& what, uint64_t offset, bool unsupported = false)
      : std::runtime_error(what), offset_(offset), unsupported_(unsupported) {}
  [[nodiscard]] uint64_t offset() const { return offset_; }
  // True when the stream is well-formed but holds something no plugin represents.
  [[nodiscard]] bool unsupported() const { return unsupported_; }

 private:
  uint64_t offset_;
  bool unsupported_;
};

// A NumPy element type: the scalar types and the structured node record of trees.
struct DType {
  char kind = 0;  // 'f' float, 'i' int, 'u' unsigned, 'b' bool, 'U' unicode, 'S' bytes, 'V' record,
                  // 'O' object
  uint32_t itemsize = 0;  // bytes per element
  bool big_endian = false;
  struct Field {
    std::string name;
    char kind = 0;
    uint32_t itemsize = 0;
    bool big_endian = false;
    uint64_t offset = 0;
  };
  std::vector<Field> fields;  // record types only
  bool built = false;         // BUILD gave it its byte order and fields
};

struct Value;

struct Array {
  DType dtype;
  std::vector<uint64_t> shape;
  bool fortran = false;
  // Raw elements, C or Fortran order as `fortran` says: a view into the stream being imported
  // (or into a Value's own bytes), which outlives the values.
  std::string_view data;
  std::vector<const Value*> objects;  // object arrays: one value per element (C order)
  bool built = false;
  [[nodiscard]] uint64_t count() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;  // checked against the data when built
    return n;
  }
};

struct Object {
  std::string cls;               // "module.name" of an allowlisted class
  const Value* args = nullptr;   // constructor arguments (a tuple), or nullptr
  const Value* state = nullptr;  // what BUILD set
};

struct Value {
  enum class Kind : uint8_t {
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    Tuple,
    List,
    Dict,
    Global,
    DType,
    Array,
    Object
  };
  Kind kind = Kind::None;
  int64_t i = 0;       // Bool, Int
  double f = 0;        // Float
  std::string s;       // Str (UTF-8), Global ("module.name"); the storage of Bytes made by a call
  std::string_view b;  // Bytes: a view into the stream (no copy), or into `s`
  std::vector<const Value*> items;                          // Tuple, List
  std::vector<std::pair<const Value*, const Value*>> dict;  // Dict, in insertion order
  std::unique_ptr<sklearn::DType> dtype;
  std::unique_ptr<sklearn::Array> array;
  std::unique_ptr<sklearn::Object> object;

  // Dict lookup by string key (last assignment wins, as in Python); nullptr when absent.
  [[nodiscard]] const Value* get(const std::string& key) const {
    for (auto it = dict.rbegin(); it != dict.rend(); ++it)
      if (it->first->kind == Kind::Str && it->first->s == key) return it->second;
    return nullptr;
  }
};

const char* value_kind_name(Value::Kind kind);

// Owns every value of one import; values refer to each other by pointer, so memo sharing and
// even cycles cost nothing and are freed together.
class Arena {
 public:
  Value* make(Value::Kind kind) {
    values_.emplace_back();
    values_.back().kind = kind;
    return &values_.back();
  }
  [[nodiscard]] size_t size() const { return values_.size(); }

 private:
  std::deque<Value> values_;
};

}  // namespace secmlops::host::sklearn
