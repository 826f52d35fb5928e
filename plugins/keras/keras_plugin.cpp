// Keras scanner: .h5 models (Keras 2 / tf.keras), and the members of a Keras 3 .keras archive
// (config.json, metadata.json, model.weights.h5) that the host expands and routes here.
#include "h5_model.hpp"
#include "keras_config.hpp"

#include <secmlops/sdk/plugin.hpp>
#include <secmlops/sdk/source.hpp>

#include <string>

namespace {

using secmlops::sdk::Error;
namespace kr = secmlops::plugins::keras;

// Largest stream copied into memory when the host cannot map it (the whole file is parsed in
// place otherwise).
constexpr uint64_t kMaxCopiedBytes = 256ull << 20;

class KerasScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "keras";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Flags Lambda layers, serialized functions and non-Keras modules in Keras H5 and .keras "
      "models";
  static constexpr const char* license = "Apache-2.0";
  static constexpr const char* formats[] = {"keras-h5", "keras-config", "keras-metadata", nullptr};
  static constexpr secmlops::sdk::NoOptions options{};

  static uint32_t probe(secmlops::sdk::Bytes head, std::string_view name, const char*& format) {
    if (uint32_t c = kr::probe_h5(head)) {
      format = "keras-h5";
      return c;
    }
    return kr::probe_json(head, name, format);
  }

  explicit KerasScanner(const secmlops::sdk::Config&) {}

  void scan(secmlops::sdk::ScanJob& job) {
    std::string format(job.format());
    if (format != "keras-h5" && format != "keras-config" && format != "keras-metadata") {
      secmlops::sdk::JobSource src(job);
      auto head = src.bytes(0, std::min<uint64_t>(src.size(), 64 * 1024), "the head");
      const char* f = nullptr;
      if (probe(head, {}, f) == 0 || f == nullptr)
        throw Error(SECMLOPS_ERR_UNSUPPORTED, "neither HDF5 nor a Keras config/metadata document");
      format = f;
    }
    if (format == "keras-h5")
      scan_h5(job);
    else
      scan_json(job, format);
  }

 private:
  static void scan_h5(secmlops::sdk::ScanJob& job) {
    secmlops::sdk::JobSource src(job, kMaxCopiedBytes);
    auto image = src.bytes(0, src.size(), "the stream");
    auto r = kr::analyze_h5(image, {}, {}, [&job] { return job.cancelled(); });
    for (const auto& f : r.findings) job.emit(f);
    if (r.cancelled) throw Error(SECMLOPS_ERR_CANCELLED, "cancelled by the host");
    if (!r.error.empty()) throw Error(SECMLOPS_ERR_PARSE, r.error);
  }

  static void scan_json(secmlops::sdk::ScanJob& job, const std::string& format) {
    const kr::WalkLimits limits;
    secmlops::sdk::JobSource src(job, limits.max_json_bytes);
    auto bytes = src.bytes(0, src.size(), "the stream");
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto r = format == "keras-config" ? kr::analyze_config_json(text, limits)
                                      : kr::analyze_metadata_json(text, limits);
    for (const auto& f : r.findings) job.emit(f);
    if (!r.error.empty())
      throw Error(SECMLOPS_ERR_PARSE, r.error + " (at byte " + std::to_string(r.error_at) + ")");
  }
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(KerasScanner)
