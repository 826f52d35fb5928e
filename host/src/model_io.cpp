#include "secmlops/host/model_io.hpp"

#include "secmlops/host/scan_engine.hpp"
#include "sklearn/sklearn_import.hpp"
#include "secmlops/v1/report.pb.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace secmlops::host {

namespace {

// Minimal protobuf wire reader over a byte range; every length is checked against the range.
class Wire {
 public:
  Wire(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  [[nodiscard]] bool done() const { return p_ >= end_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("truncated varint");
      uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint too long");
  }
  // Reads a tag; returns field number and wire type.
  std::pair<uint32_t, uint32_t> tag() {
    uint64_t t = varint();
    return {static_cast<uint32_t>(t >> 3), static_cast<uint32_t>(t & 7)};
  }
  std::string_view bytes() {
    uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail("length beyond the end of the message");
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0: varint(); break;
      case 1: advance(8); break;
      case 2: bytes(); break;
      case 5: advance(4); break;
      default: fail("unsupported wire type " + std::to_string(wire_type));
    }
  }

 private:
  void advance(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) fail("truncated fixed-size field");
    p_ += n;
  }
  [[noreturn]] static void fail(const std::string& why) { throw std::runtime_error("malformed ONNX file: " + why); }
  const uint8_t* p_;
  const uint8_t* end_;
};

Wire sub(std::string_view s) { return Wire(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}
void put_bytes(std::vector<uint8_t>& out, uint32_t field, std::string_view s) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  put_varint(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

constexpr uint32_t kModelGraph = 7, kModelMetadata = 14;
constexpr uint32_t kGraphNode = 1, kNodeOpType = 4, kNodeAttribute = 5;
constexpr uint32_t kAttrName = 1, kAttrInts = 8, kAttrStrings = 9;

}  // namespace

std::map<std::string, std::string> onnx_metadata(const std::vector<uint8_t>& bytes) {
  std::map<std::string, std::string> out;
  Wire w(bytes.data(), bytes.size());
  while (!w.done()) {
    auto [field, type] = w.tag();
    if (field == kModelMetadata && type == 2) {
      Wire e = sub(w.bytes());
      std::string key, value;
      while (!e.done()) {
        auto [f, t] = e.tag();
        if (f == 1 && t == 2) key = e.bytes();
        else if (f == 2 && t == 2) value = e.bytes();
        else e.skip(t);
      }
      out[key] = value;
    } else {
      w.skip(type);
    }
  }
  return out;
}

void add_onnx_metadata(std::vector<uint8_t>& bytes, const std::string& key, const std::string& value) {
  std::vector<uint8_t> entry;
  put_bytes(entry, 1, key);
  put_bytes(entry, 2, value);
  put_bytes(bytes, kModelMetadata, std::string_view(reinterpret_cast<const char*>(entry.data()), entry.size()));
}

std::vector<std::string> onnx_class_labels(const std::vector<uint8_t>& bytes) {
  Wire w(bytes.data(), bytes.size());
  while (!w.done()) {
    auto [field, type] = w.tag();
    if (field != kModelGraph || type != 2) {
      w.skip(type);
      continue;
    }
    Wire g = sub(w.bytes());
    while (!g.done()) {
      auto [gf, gt] = g.tag();
      if (gf != kGraphNode || gt != 2) {
        g.skip(gt);
        continue;
      }
      Wire n = sub(g.bytes());
      while (!n.done()) {
        auto [nf, nt] = n.tag();
        if (nf != kNodeAttribute || nt != 2) {
          n.skip(nt);
          continue;
        }
        Wire a = sub(n.bytes());
        std::string name;
        std::vector<std::string> labels;
        while (!a.done()) {
          auto [af, at] = a.tag();
          if (af == kAttrName && at == 2) {
            name = a.bytes();
          } else if (af == kAttrStrings && at == 2) {
            labels.emplace_back(a.bytes());
          } else if (af == kAttrInts && at == 0) {
            labels.push_back(std::to_string(static_cast<int64_t>(a.varint())));
          } else if (af == kAttrInts && at == 2) {  // packed
            Wire packed = sub(a.bytes());
            while (!packed.done()) labels.push_back(std::to_string(static_cast<int64_t>(packed.varint())));
          } else {
            a.skip(at);
          }
          if (labels.size() > 1000000) throw std::runtime_error("malformed ONNX file: too many class labels");
        }
        if ((name == "classlabels_strings" || name == "classlabels_ints") && !labels.empty()) return labels;
      }
    }
  }
  (void)kNodeOpType;
  return {};
}

namespace {

// `preferred` (a plugin name, or empty) is offered the model first: the scikit-learn mapping
// writes for one plugin, and the others need not parse it.
LoadedModel load_onnx(const Registry& registry, const std::vector<uint8_t>& bytes, const std::string& source,
                      const std::string& preferred = {}) {
  LoadedModel out;
  try {
    out.metadata = onnx_metadata(bytes);
  } catch (const std::exception& e) {
    throw PluginError(SECMLOPS_ERR_PARSE, source + ": " + e.what());
  }
  std::string tried;
  std::optional<PluginError> first_error;
  // Offers the file to one plugin; true when it represents it.
  auto offer = [&](const Plugin& plugin) {
    if ((plugin.capability_bits() & SECMLOPS_CAP_ONNX_IMPORT) == 0) return false;
    tried += (tried.empty() ? "" : ", ") + plugin.name();
    try {
      auto session = std::make_unique<ModelSession>(plugin);
      if (!session->import_onnx(bytes)) {
        std::string why = session->last_error();
        spdlog::debug("{}: {} does not represent it: {}", source, plugin.name(), why);
        if (!why.empty()) tried += " (" + why + ")";
        return false;
      }
      spdlog::debug("{}: imported by model plugin {}", source, plugin.name());
      out.session = std::move(session);
      return true;
    } catch (const PluginError& e) {
      spdlog::debug("{}: {} rejected it: {}", source, plugin.name(), e.what());
      if (!first_error) first_error.emplace(e.status(), source + ": " + e.what());
      return false;
    }
  };
  // The plugin the caller prefers (the scikit-learn mapping writes for one plugin), else the one
  // the file names (its exporter), is offered it first, so that the other model libraries are
  // not loaded when it represents it; the name only orders the offers.
  auto named = out.metadata.find("secmlops.model");
  const std::string first = !preferred.empty() ? preferred : named != out.metadata.end() ? named->second : "";
  auto exporter = first.empty() ? std::nullopt : registry.find(SECMLOPS_KIND_MODEL, first);
  if (!exporter || !offer(*exporter))
    for (const auto& plugin : registry.by_kind(SECMLOPS_KIND_MODEL))
      if ((!exporter || plugin.name() != first) && offer(plugin)) break;
  if (!out.session) {
    if (first_error) throw *first_error;
    throw PluginError(SECMLOPS_ERR_UNSUPPORTED,
                      source + ": no model plugin represents this ONNX graph (tried: " +
                          (tried.empty() ? std::string("none loaded") : tried) + ")");
  }
  name_classes_and_features(out, bytes);
  return out;
}

}  // namespace

void name_classes_and_features(LoadedModel& out, const std::vector<uint8_t>& bytes) {
  const uint32_t k = out.session->info().n_classes;
  auto json_list = [&](const char* key) {
    std::vector<std::string> list;
    auto it = out.metadata.find(key);
    if (it == out.metadata.end()) return list;
    auto j = nlohmann::json::parse(it->second, nullptr, false);
    if (j.is_array())
      for (const auto& v : j)
        if (v.is_string()) list.push_back(v.get<std::string>());
    return list;
  };
  out.class_labels = json_list(kMetaClassLabels);
  out.features = json_list(kMetaFeatures);
  if (out.class_labels.size() != k) {
    try {
      out.class_labels = onnx_class_labels(bytes);
    } catch (const std::exception&) {
      out.class_labels.clear();
    }
  }
  if (out.class_labels.size() != k) {
    out.class_labels.clear();
    for (uint32_t c = 0; c < k; ++c) out.class_labels.push_back(std::to_string(c));
  }
}

namespace {

// The first pickle-scanner finding at or above MEDIUM, as a sentence; empty when the scan is clean.
// The bytes in memory are scanned, not the path: the import sees exactly what was scanned even if
// the file changes in between.
std::string scan_verdict(const Registry& registry, const std::vector<uint8_t>& bytes, const std::string& source) {
  ScanEngine engine(registry, ScanOptions{});
  v1::FileReport report = engine.scan_stream(std::make_shared<MemoryStream>(bytes), source);
  bool scanned = false;
  for (const auto& s : report.streams())
    if (s.scanner() == "pickle") scanned = true;
  if (!scanned) return "the pickle scanner did not scan this file (is the pickle plugin loaded?)";
  for (const auto& f : report.findings()) {
    if (f.severity() < v1::MEDIUM) continue;
    std::string where = f.location().has_offset() ? " at offset " + std::to_string(f.location().offset()) : "";
    return "the pickle scanner reports " + f.rule_id() + " (" + v1::Severity_Name(f.severity()) + ")" + where + ": " +
           f.message();
  }
  if (report.status() != v1::SCANNED)
    return "the pickle scan did not complete (" + (report.error().empty() ? std::string("partial") : report.error()) + ")";
  return {};
}

// The data-only machine runs first: it never executes anything, and says what the file is even
// when the scan refuses it. A model is loaded only when the scan is clean as well.
LoadedModel load_pickle(const Registry& registry, const std::vector<uint8_t>& bytes, const std::string& source) {
  std::optional<sklearn::Converted> converted;
  std::optional<PluginError> refusal;
  try {
    converted = sklearn::import_pickle(bytes);
  } catch (const sklearn::ImportError& e) {
    refusal.emplace(e.unsupported() ? SECMLOPS_ERR_UNSUPPORTED : SECMLOPS_ERR_PARSE, e.what());
  } catch (const std::bad_alloc&) {
    refusal.emplace(SECMLOPS_ERR_NO_MEMORY, "out of memory rebuilding the pickle");
  }
  const std::string verdict = scan_verdict(registry, bytes, source);
  // Refused either way; a file the rebuild found malformed (truncated, inconsistent) is a PARSE
  // error whatever the scanner adds, a well-formed one the scan refuses is UNSUPPORTED.
  if (!verdict.empty())
    throw PluginError(refusal && refusal->status() == SECMLOPS_ERR_PARSE ? SECMLOPS_ERR_PARSE : SECMLOPS_ERR_UNSUPPORTED,
                      source + ": refused: " + verdict + "; a pickle is imported only when no finding is at or above MEDIUM" +
                          (refusal ? std::string("; besides, ") + refusal->what() : std::string()));
  if (refusal) throw PluginError(refusal->status(), source + ": " + refusal->what());
  spdlog::debug("{}: scikit-learn {} {} mapped to ONNX ({} bytes)", source, converted->version, converted->estimator,
                converted->onnx.size());
  LoadedModel out = load_onnx(registry, converted->onnx, source + " (" + converted->estimator + ")", converted->plugin);
  out.imported_from = "scikit-learn " + converted->version + " " + converted->estimator;
  return out;
}

std::vector<uint8_t> read_model_file(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw PluginError(SECMLOPS_ERR_IO, path.string() + ": cannot read (" + ec.message() + ")");
  if (size > (1ull << 30)) throw PluginError(SECMLOPS_ERR_LIMIT, path.string() + ": larger than 1 GiB");
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!in) throw PluginError(SECMLOPS_ERR_IO, path.string() + ": read failed");
  return bytes;
}

}  // namespace

ModelFileFormat sniff_model_format(const std::vector<uint8_t>& bytes) {
  return sklearn::looks_like_pickle(bytes) ? ModelFileFormat::pickle : ModelFileFormat::onnx;
}

LoadedModel load_model_bytes(const Registry& registry, const std::vector<uint8_t>& bytes, const std::string& source) {
  if (sniff_model_format(bytes) == ModelFileFormat::pickle) return load_pickle(registry, bytes, source);
  if (std::string other = sklearn::other_format(bytes); !other.empty())
    throw PluginError(SECMLOPS_ERR_UNSUPPORTED, source + ": this file is " + other +
                                                    ", not an ONNX model or a scikit-learn pickle/joblib file; secmlops "
                                                    "never unpickles or loads it (scan it with `secmlops scan`)");
  return load_onnx(registry, bytes, source);
}

LoadedModel load_model_file(const Registry& registry, const std::filesystem::path& path) {
  return load_model_bytes(registry, read_model_file(path), path.string());
}

LoadedModel load_model_onnx(const Registry& registry, const std::vector<uint8_t>& bytes, const std::string& source) {
  return load_model_bytes(registry, bytes, source);
}

LoadedModel load_model_onnx(const Registry& registry, const std::filesystem::path& path) {
  return load_model_file(registry, path);
}

}  // namespace secmlops::host
