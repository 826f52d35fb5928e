// safetensors scanner: validates the header of a safetensors file without reading tensor data.
#include "safetensors_header.hpp"

#include <secmlops/sdk/plugin.hpp>
#include <secmlops/sdk/source.hpp>

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
    secmlops::sdk::JobSource src(job, st::kMaxHeaderBytes);
    const uint64_t size = src.size();
    st::Result r;
    const uint64_t n = size >= 8 ? src.u64le(0, "the 8-byte prefix") : 0;
    if (st::check_header_length(n, size, r)) {
      auto bytes = src.bytes(8, n, "the header");
      std::string_view header(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      st::validate_header(header, size, r);
      job.metric("safetensors.tensors", static_cast<double>(r.tensors));
    }
    for (const auto& f : r.findings) job.emit(f);
    if (!r.error.empty())
      throw Error(SECMLOPS_ERR_PARSE,
                  r.error + " (at byte " + std::to_string(r.error_offset) + ")");
  }
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(SafetensorsScanner)
