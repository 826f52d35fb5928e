// safetensors scanner: validates the header of a safetensors file without reading tensor data.
#include "safetensors_header.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <string>

namespace {

using secmlops::sdk::Error;
namespace st = secmlops::plugins::safetensors;

class SafetensorsScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "safetensors";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Validates safetensors headers: bounds, dtypes, sizes, overlaps, gaps and trailing bytes";
  static constexpr const char* license = "Apache-2.0";
  static constexpr const char* formats[] = {"safetensors", nullptr};
  static constexpr secmlops::sdk::NoOptions options{};

  static uint32_t probe(secmlops::sdk::Bytes head, std::string_view, const char*& format) {
    format = "safetensors";
    return st::probe(head);
  }

  explicit SafetensorsScanner(const secmlops::sdk::Config&) {}

  void scan(secmlops::sdk::ScanJob& job) {
    const uint64_t size = job.size();
    st::Result r;
    uint8_t prefix[8] = {};
    uint64_t n = 0;
    bool readable = false;
    if (size >= 8) {
      job.seek(0);
      if (!job.read_exact(prefix, 8)) throw Error(SECMLOPS_ERR_IO, "stream ended inside the 8-byte prefix");
      for (int i = 7; i >= 0; --i) n = (n << 8) | prefix[i];
    }
    readable = st::check_header_length(n, size, r);
    if (readable) {
      std::string owned;
      std::string_view header;
      auto v = job.view(8, n);
      if (!v.empty() || n == 0) {
        header = std::string_view(reinterpret_cast<const char*>(v.data()), n);
      } else {
        owned.resize(n);
        job.seek(8);
        if (!job.read_exact(owned.data(), n)) throw Error(SECMLOPS_ERR_IO, "stream ended inside the header");
        header = owned;
      }
      st::validate_header(header, size, r);
      job.metric("safetensors.tensors", static_cast<double>(r.tensors));
    }
    for (const auto& f : r.findings) job.emit(f);
    if (!r.error.empty())
      throw Error(SECMLOPS_ERR_PARSE, r.error + " (at byte " + std::to_string(r.error_offset) + ")");
  }
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(SafetensorsScanner)
