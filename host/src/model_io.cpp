#include "secmlops/host/model_io.hpp"

#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"
#include "sklearn/sklearn_import.hpp"

#include "secmlops/protowire/reader.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace secmlops::host {

namespace {

namespace pw = protowire;

// Reads a model in memory with the scanners' wire reader: every length is checked against its
// message, and an error names the byte offset.
template <class Fn>
auto read_model(const std::vector<uint8_t>& bytes, Fn&& fn) {
  sdk::MemorySource src(bytes.data(), bytes.size());
  sdk::WindowReader whole(src, std::max<uint64_t>(bytes.size(), 1));  // one window: the buffer
  try {
    return fn(pw::MessageReader(whole, 0, bytes.size()));
  } catch (const pw::ParseError& e) {
    throw std::runtime_error(std::string("malformed ONNX file: ") + e.what());
  }
}

// The whole payload of a string or bytes field (the reader's default caps evidence strings).
std::string text(const pw::MessageReader& r, const pw::Field& f) { return r.string(f, f.length); }

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
constexpr uint32_t kGraphNode = 1, kNodeAttribute = 5;
constexpr uint32_t kAttrName = 1, kAttrInts = 8, kAttrStrings = 9;

}  // namespace

std::map<std::string, std::string> onnx_metadata(const std::vector<uint8_t>& bytes) {
  return read_model(bytes, [](pw::MessageReader model) {
    std::map<std::string, std::string> out;
    pw::Field f;
    while (model.next(f)) {
      if (!f.is(kModelMetadata, pw::WireType::kLen)) continue;
      pw::MessageReader entry = model.sub(f);
      std::string key, value;
      pw::Field e;
      while (entry.next(e)) {
        if (e.is(1, pw::WireType::kLen))
          key = text(entry, e);
        else if (e.is(2, pw::WireType::kLen))
          value = text(entry, e);
      }
      out[key] = value;
    }
    return out;
  });
}

void add_onnx_metadata(std::vector<uint8_t>& bytes, const std::string& key,
                       const std::string& value) {
  std::vector<uint8_t> entry;
  put_bytes(entry, 1, key);
  put_bytes(entry, 2, value);
  put_bytes(bytes, kModelMetadata,
            std::string_view(reinterpret_cast<const char*>(entry.data()), entry.size()));
}

std::vector<std::string> onnx_class_labels(const std::vector<uint8_t>& bytes) {
  constexpr size_t kMaxLabels = 1000000;
  return read_model(bytes, [](pw::MessageReader model) -> std::vector<std::string> {
    pw::Field f, g, n, a;
    while (model.next(f)) {
      if (!f.is(kModelGraph, pw::WireType::kLen)) continue;
      for (pw::MessageReader graph = model.sub(f); graph.next(g);) {
        if (!g.is(kGraphNode, pw::WireType::kLen)) continue;
        for (pw::MessageReader node = graph.sub(g); node.next(n);) {
          if (!n.is(kNodeAttribute, pw::WireType::kLen)) continue;
          pw::MessageReader attr = node.sub(n);
          std::string name;
          std::vector<std::string> labels;
          auto add = [&](std::string label) {
            if (labels.size() == kMaxLabels)
              throw std::runtime_error("malformed ONNX file: too many class labels");
            labels.push_back(std::move(label));
          };
          while (attr.next(a)) {
            if (a.is(kAttrName, pw::WireType::kLen))
              name = text(attr, a);
            else if (a.is(kAttrStrings, pw::WireType::kLen))
              add(text(attr, a));
            else if (a.number == kAttrInts)  // packed or not
              attr.varints(
                  a, [&](uint64_t v) { add(std::to_string(static_cast<int64_t>(v))); },
                  kMaxLabels + 1);
          }
          if ((name == "classlabels_strings" || name == "classlabels_ints") && !labels.empty())
            return labels;
        }
      }
    }
    return {};
  });
}

namespace {

// `preferred` (a plugin name, or empty) is offered the model first: the scikit-learn mapping
// writes for one plugin, and the others need not parse it.
LoadedModel load_onnx(const Registry& registry, const std::vector<uint8_t>& bytes,
                      const std::string& source, const std::string& preferred = {}) {
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
  const std::string first = !preferred.empty()            ? preferred
                            : named != out.metadata.end() ? named->second
                                                          : "";
  auto exporter = first.empty() ? std::nullopt : registry.find(SECMLOPS_KIND_MODEL, first);
  if (!exporter || !offer(*exporter))
    for (const auto& plugin : registry.by_kind(SECMLOPS_KIND_MODEL))
      if ((!exporter || plugin.name() != first) && offer(plugin)) break;
  if (!out.session) {
    if (first_error) throw PluginError(std::move(*first_error));
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
std::string scan_verdict(const Registry& registry, const std::vector<uint8_t>& bytes,
                         const std::string& source) {
  ScanEngine engine(registry, ScanOptions{});
  v1::FileReport report = engine.scan_stream(std::make_shared<MemoryStream>(bytes), source);
  bool scanned = false;
  for (const auto& s : report.streams())
    if (s.scanner() == "pickle") scanned = true;
  if (!scanned) return "the pickle scanner did not scan this file (is the pickle plugin loaded?)";
  for (const auto& f : report.findings()) {
    if (f.severity() < v1::MEDIUM) continue;
    std::string where =
        f.location().has_offset() ? " at offset " + std::to_string(f.location().offset()) : "";
    return "the pickle scanner reports " + f.rule_id() + " (" + v1::Severity_Name(f.severity()) +
           ")" + where + ": " + f.message();
  }
  if (report.status() != v1::SCANNED)
    return "the pickle scan did not complete (" +
           (report.error().empty() ? std::string("partial") : report.error()) + ")";
  return {};
}

// The data-only machine runs first: it never executes anything, and says what the file is even
// when the scan refuses it. A model is loaded only when the scan is clean as well.
LoadedModel load_pickle(const Registry& registry, const std::vector<uint8_t>& bytes,
                        const std::string& source) {
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
    throw PluginError(refusal && refusal->status() == SECMLOPS_ERR_PARSE ? SECMLOPS_ERR_PARSE
                                                                         : SECMLOPS_ERR_UNSUPPORTED,
                      source + ": refused: " + verdict +
                          "; a pickle is imported only when no finding is at or above MEDIUM" +
                          (refusal ? std::string("; besides, ") + refusal->what() : std::string()));
  if (refusal) throw PluginError(refusal->status(), source + ": " + refusal->what());
  spdlog::debug("{}: scikit-learn {} {} mapped to ONNX ({} bytes)", source, converted->version,
                converted->estimator, converted->onnx.size());
  LoadedModel out = load_onnx(registry, converted->onnx, source + " (" + converted->estimator + ")",
                              converted->plugin);
  out.imported_from = "scikit-learn " + converted->version + " " + converted->estimator;
  return out;
}

std::vector<uint8_t> read_model_file(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec)
    throw PluginError(SECMLOPS_ERR_IO, path.string() + ": cannot read (" + ec.message() + ")");
  if (size > (1ull << 30))
    throw PluginError(SECMLOPS_ERR_LIMIT, path.string() + ": larger than 1 GiB");
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

LoadedModel load_model_bytes(const Registry& registry, const std::vector<uint8_t>& bytes,
                             const std::string& source) {
  if (sniff_model_format(bytes) == ModelFileFormat::pickle)
    return load_pickle(registry, bytes, source);
  if (std::string other = sklearn::other_format(bytes); !other.empty())
    throw PluginError(SECMLOPS_ERR_UNSUPPORTED,
                      source + ": this file is " + other +
                          ", not an ONNX model or a scikit-learn pickle/joblib file; secmlops "
                          "never unpickles or loads it (scan it with `secmlops scan`)");
  return load_onnx(registry, bytes, source);
}

LoadedModel load_model_file(const Registry& registry, const std::filesystem::path& path) {
  return load_model_bytes(registry, read_model_file(path), path.string());
}

LoadedModel load_model_onnx(const Registry& registry, const std::vector<uint8_t>& bytes,
                            const std::string& source) {
  return load_model_bytes(registry, bytes, source);
}

LoadedModel load_model_onnx(const Registry& registry, const std::filesystem::path& path) {
  return load_model_file(registry, path);
}

}  // namespace secmlops::host
