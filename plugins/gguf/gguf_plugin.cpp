// GGUF scanner: validates the header of a GGUF file (llama.cpp format) without reading tensors.
#include "gguf_parser.hpp"
#include "tokenizer_config.hpp"

#include <secmlops/sdk/plugin.hpp>
#include <secmlops/sdk/source.hpp>

#include <string>

namespace {

using secmlops::sdk::Error;
namespace gg = secmlops::plugins::gguf;

class GgufScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "gguf";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Validates GGUF headers (counts, lengths, value types, tensor bounds, alignment) and judges "
      "what chat templates reach (GGUF, tokenizer_config.json, .jinja)";
  static constexpr const char* license = "Apache-2.0";
  static constexpr const char* formats[] = {"gguf", "chat-template-json", "chat-template-jinja",
                                            nullptr};
  static constexpr secmlops::sdk::NoOptions options{};

  static uint32_t probe(secmlops::sdk::Bytes head, std::string_view name, const char*& format) {
    if (uint32_t c = gg::probe(head)) {
      format = "gguf";
      return c;
    }
    return gg::probe_template_doc(head, name, format);
  }

  explicit GgufScanner(const secmlops::sdk::Config&) {}

  void scan(secmlops::sdk::ScanJob& job) {
    std::string format(job.format());
    if (format == "chat-template-json" || format == "chat-template-jinja")
      return scan_template_doc(job, format);
    auto cancelled = [&job] { return job.cancelled(); };
    // A mapped file is read in place: only the header pages are touched.
    secmlops::sdk::JobSource src(job);
    gg::Result r = gg::validate(src, {}, cancelled);
    for (const auto& f : r.findings) job.emit(f);
    if (!r.error.empty()) {
      if (r.error == "cancelled") throw Error(SECMLOPS_ERR_CANCELLED, "cancelled by the host");
      throw Error(SECMLOPS_ERR_PARSE,
                  r.error + " (at byte " + std::to_string(r.error_offset) + ")");
    }
  }

 private:
  // Tokenizer configs and template files are text of at most this size (real ones: KBs).
  static constexpr uint64_t kMaxTemplateDoc = 64ull << 20;

  static void scan_template_doc(secmlops::sdk::ScanJob& job, const std::string& format) {
    const uint64_t size = job.size();
    if (size > kMaxTemplateDoc)
      throw Error(SECMLOPS_ERR_LIMIT, "a " + format + " document of " + std::to_string(size) +
                                          " bytes exceeds the " + std::to_string(kMaxTemplateDoc) +
                                          "-byte limit");
    secmlops::sdk::JobSource src(job, kMaxTemplateDoc);
    auto bytes = src.bytes(0, size, "the document");
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto r = format == "chat-template-json" ? gg::analyse_tokenizer_config(text)
                                            : gg::analyse_jinja_file(text);
    for (const auto& f : r.findings) job.emit(f);
    if (!r.error.empty())
      throw Error(SECMLOPS_ERR_PARSE, r.error + " (at byte " + std::to_string(r.error_at) + ")");
  }
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(GgufScanner)
