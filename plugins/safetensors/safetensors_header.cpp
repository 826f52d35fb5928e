#include "safetensors_header.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace secmlops::plugins::safetensors {
namespace {

using json = nlohmann::json;
// 128-bit arithmetic so that size products cannot wrap around.
__extension__ using u128 = unsigned __int128;

constexpr uint64_t kPrefix = 8;

struct TooDeep : std::runtime_error {
  TooDeep() : std::runtime_error("JSON nesting deeper than " + std::to_string(kMaxJsonDepth)) {}
};

// Appends findings (the host caps how many of one rule a report lists).
class Sink {
 public:
  explicit Sink(Result& r) : r_(r) {}
  void add(secmlops_severity sev, const std::string& rule, std::string message, uint64_t offset,
           std::string detail = {},
           std::vector<std::pair<std::string, std::string>> evidence = {}) {
    r_.findings.push_back(
        {sev, rule, std::move(message), offset, std::move(detail), std::move(evidence)});
  }

 private:
  Result& r_;
};

std::string shorten(std::string s, size_t max = 200) {
  if (s.size() > max) s = s.substr(0, max) + "…";
  return s;
}

bool is_u64(const json& v) { return v.is_number_unsigned(); }

struct Range {
  uint64_t begin, end;
  std::string name;
};

}  // namespace

uint32_t dtype_bits(std::string_view d) {
  static const std::map<std::string_view, uint32_t> bits = {
      {"BOOL", 8},    {"U8", 8},   {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8},
      {"F8_E8M0", 8}, {"I16", 16}, {"U16", 16}, {"F16", 16},    {"BF16", 16},
      {"I32", 32},    {"U32", 32}, {"F32", 32}, {"F64", 64},    {"I64", 64},
      {"U64", 64},    {"C64", 64}, {"F4", 4},   {"F6_E2M3", 6}, {"F6_E3M2", 6}};
  auto it = bits.find(d);
  return it == bits.end() ? 0 : it->second;
}

uint32_t probe(sdk::Bytes head) {
  if (head.size() < kPrefix + 2) return 0;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | head[static_cast<size_t>(i)];
  if (n < 2 || head[kPrefix] != '{') return 0;
  // The next non-blank byte opens a key or closes an empty object.
  for (size_t i = kPrefix + 1; i < head.size(); ++i) {
    uint8_t c = head[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c != '"' && c != '}') return 0;
    // An implausible length is still claimed (at lower confidence) so the scan reports it.
    return n <= kMaxHeaderBytes ? 80 : 40;
  }
  return n <= kMaxHeaderBytes ? 60 : 30;
}

bool check_header_length(uint64_t header_len, uint64_t file_size, Result& result) {
  Sink sink(result);
  if (file_size < kPrefix) {
    result.error = "file is shorter than the 8-byte header length prefix";
    result.error_offset = 0;
    return false;
  }
  if (header_len > kMaxHeaderBytes) {
    sink.add(SECMLOPS_SEVERITY_HIGH, "ST-HEADER-TOO-LARGE",
             "declared header length " + std::to_string(header_len) + " exceeds the " +
                 std::to_string(kMaxHeaderBytes) + "-byte limit loaders enforce",
             0, {}, {{"header_length", std::to_string(header_len)}});
    return false;
  }
  if (header_len > file_size - kPrefix) {
    sink.add(
        SECMLOPS_SEVERITY_HIGH, "ST-HEADER-OUT-OF-BOUNDS",
        "declared header length " + std::to_string(header_len) + " runs past the end of the " +
            std::to_string(file_size) + "-byte file",
        0, {},
        {{"header_length", std::to_string(header_len)}, {"file_size", std::to_string(file_size)}});
    return false;
  }
  return true;
}

void validate_header(std::string_view header, uint64_t file_size, Result& result) {
  Sink sink(result);
  const uint64_t data_start = kPrefix + header.size();
  const uint64_t data_size = file_size - data_start;

  if (header.empty() || header.front() != '{') {
    sink.add(SECMLOPS_SEVERITY_HIGH, "ST-HEADER-INVALID",
             "header does not start with '{' as the format requires", kPrefix);
    return;
  }

  // Parse with a depth bound and duplicate-key detection at the top level: two entries with
  // one name are read differently by different JSON parsers (last wins vs. first wins).
  std::set<std::string> seen;
  std::vector<std::string> duplicates;
  json doc;
  try {
    doc = json::parse(header.begin(), header.end(),
                      [&](int depth, json::parse_event_t event, json& parsed) {
                        if (depth > kMaxJsonDepth) throw TooDeep();
                        if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
                          const auto& k = parsed.get_ref<const std::string&>();
                          if (!seen.insert(k).second) duplicates.push_back(k);
                        }
                        return true;
                      });
  } catch (const json::parse_error& e) {
    uint64_t at = kPrefix + (e.byte > 0 ? e.byte - 1 : 0);
    sink.add(SECMLOPS_SEVERITY_HIGH, "ST-HEADER-INVALID",
             "header is not valid JSON: " + shorten(e.what()), at);
    return;
  } catch (const TooDeep& e) {
    sink.add(SECMLOPS_SEVERITY_HIGH, "ST-HEADER-INVALID", std::string("header ") + e.what(),
             kPrefix);
    return;
  } catch (const json::exception& e) {
    // Not a syntax error but still unreadable, e.g. a number too large for a double (406).
    sink.add(SECMLOPS_SEVERITY_HIGH, "ST-HEADER-INVALID",
             "header JSON cannot be read: " + shorten(e.what()), kPrefix);
    return;
  }
  if (!doc.is_object()) {
    sink.add(SECMLOPS_SEVERITY_HIGH, "ST-HEADER-INVALID", "header JSON is not an object", kPrefix);
    return;
  }
  for (const auto& k : duplicates)
    sink.add(
        SECMLOPS_SEVERITY_HIGH, "ST-DUPLICATE-KEY",
        "header names '" + shorten(k) + "' more than once; parsers disagree on which entry counts",
        kPrefix, "tensor '" + shorten(k) + "'");

  std::vector<Range> ranges;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    const std::string where = "tensor '" + shorten(name) + "'";
    if (name == "__metadata__") {
      bool ok = v.is_object();
      std::vector<std::pair<std::string, std::string>> evidence;
      if (ok)
        for (auto m = v.begin(); m != v.end(); ++m) {
          if (!m.value().is_string()) {
            ok = false;
            break;
          }
          if (evidence.size() < 16)
            evidence.emplace_back(shorten(m.key(), 64), shorten(m.value().get<std::string>()));
        }
      if (!ok)
        sink.add(SECMLOPS_SEVERITY_MEDIUM, "ST-METADATA-INVALID",
                 "__metadata__ must map strings to strings; loaders reject this file", kPrefix);
      else if (!evidence.empty())
        sink.add(SECMLOPS_SEVERITY_INFO, "ST-METADATA", "file metadata (__metadata__)", kPrefix, {},
                 std::move(evidence));
      continue;
    }
    ++result.tensors;
    const json* dtype = v.is_object() && v.contains("dtype") ? &v["dtype"] : nullptr;
    const json* shape = v.is_object() && v.contains("shape") ? &v["shape"] : nullptr;
    const json* offs = v.is_object() && v.contains("data_offsets") ? &v["data_offsets"] : nullptr;
    bool shape_ok =
        shape && shape->is_array() &&
        std::all_of(shape->begin(), shape->end(), [](const json& d) { return is_u64(d); });
    bool offs_ok =
        offs && offs->is_array() && offs->size() == 2 && is_u64((*offs)[0]) && is_u64((*offs)[1]);
    if (!dtype || !dtype->is_string() || !shape_ok || !offs_ok) {
      sink.add(SECMLOPS_SEVERITY_HIGH, "ST-TENSOR-MALFORMED",
               where +
                   " lacks a string dtype, an array of non-negative shape integers or a pair of "
                   "data_offsets",
               kPrefix, where);
      continue;
    }
    const std::string dt = dtype->get<std::string>();
    const uint64_t begin = (*offs)[0].get<uint64_t>();
    const uint64_t end = (*offs)[1].get<uint64_t>();
    if (begin > end) {
      sink.add(SECMLOPS_SEVERITY_HIGH, "ST-OFFSET-INVALID",
               where + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                   "] that end before they begin",
               kPrefix, where);
      continue;
    }
    if (end > data_size) {
      sink.add(SECMLOPS_SEVERITY_HIGH, "ST-OFFSET-OUT-OF-BOUNDS",
               where + " ends at data offset " + std::to_string(end) + ", past the " +
                   std::to_string(data_size) + "-byte data region",
               kPrefix, where,
               {{"data_offsets", std::to_string(begin) + "," + std::to_string(end)}});
    } else {
      ranges.push_back({begin, end, name});
    }
    uint32_t bits = dtype_bits(dt);
    if (bits == 0) {
      sink.add(SECMLOPS_SEVERITY_MEDIUM, "ST-UNKNOWN-DTYPE",
               where + " has unknown dtype '" + shorten(dt, 32) + "'", kPrefix, where,
               {{"dtype", shorten(dt, 32)}});
      continue;
    }
    // Element count with overflow detection: a product that wraps could otherwise match.
    u128 bytes = bits;
    bool overflow = false;
    constexpr u128 kCap = static_cast<u128>(1) << 100;  // far above any file, far below 2^128
    for (const auto& d : *shape) {
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && bytes > kCap / dim) {
        overflow = true;
        break;
      }
      bytes *= dim;
    }
    const uint64_t span = end - begin;
    if (overflow || bytes % 8 != 0 || static_cast<u128>(span) != bytes / 8) {
      std::string expect = overflow ? std::string("an overflowing size")
                           : bytes % 8
                               ? std::string("a fractional byte count")
                               : std::to_string(static_cast<uint64_t>(bytes / 8)) + " bytes";
      sink.add(SECMLOPS_SEVERITY_HIGH, "ST-SIZE-MISMATCH",
               where + " declares " + shape->dump() + " × " + dt + " (" + expect +
                   ") but its byte range holds " + std::to_string(span) + " bytes",
               kPrefix, where);
    }
  }

  // The ranges must tile [0, data_size): report overlaps, gaps and trailing bytes.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Range* last = nullptr;
  for (const auto& r : ranges) {
    if (r.begin < covered) {
      if (r.begin != r.end)
        sink.add(SECMLOPS_SEVERITY_HIGH, "ST-OVERLAP",
                 "tensor '" + shorten(r.name) + "' overlaps tensor '" + shorten(last->name) + "'",
                 data_start + r.begin, "tensor '" + shorten(r.name) + "'");
    } else if (r.begin > covered) {
      sink.add(SECMLOPS_SEVERITY_MEDIUM, "ST-GAP",
               std::to_string(r.begin - covered) + " bytes of the data region belong to no tensor",
               data_start + covered, {}, {{"length", std::to_string(r.begin - covered)}});
    }
    if (r.end > covered) {
      covered = r.end;
      last = &r;
    }
  }
  if (covered < data_size)
    sink.add(
        SECMLOPS_SEVERITY_HIGH, "ST-TRAILING-DATA",
        std::to_string(data_size - covered) +
            " bytes after the last tensor belong to no tensor (hidden payload / polyglot file)",
        data_start + covered, {}, {{"length", std::to_string(data_size - covered)}});
}

Result validate_file(sdk::Bytes file) {
  Result r;
  if (file.size() < kPrefix) {
    check_header_length(0, file.size(), r);
    return r;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[static_cast<size_t>(i)];
  if (!check_header_length(n, file.size(), r)) return r;
  validate_header(std::string_view(reinterpret_cast<const char*>(file.data()) + kPrefix, n),
                  file.size(), r);
  return r;
}

}  // namespace secmlops::plugins::safetensors
