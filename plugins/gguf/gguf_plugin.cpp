// GGUF scanner: validates the header of a GGUF file (llama.cpp format) without reading tensors.
#include "gguf_parser.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <string>

namespace {

using secmlops::sdk::Error;
namespace gg = secmlops::plugins::gguf;

// Reads through the host stream when it cannot be mapped (seek + read per buffer refill).
class JobSource final : public gg::Source {
 public:
  explicit JobSource(const secmlops::sdk::ScanJob& job) : job_(job), size_(job.size()) {}
  [[nodiscard]] uint64_t size() const override { return size_; }
  bool read_at(uint64_t offset, void* buf, size_t len) override {
    job_.seek(offset);
    return job_.read_exact(buf, len);
  }

 private:
  const secmlops::sdk::ScanJob& job_;
  uint64_t size_;
};

class GgufScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "gguf";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Validates GGUF headers: counts, lengths, value types, tensor bounds, alignment and chat templates";
  static constexpr const char* license = "Apache-2.0";
  static constexpr const char* formats[] = {"gguf", nullptr};
  static constexpr secmlops::sdk::NoOptions options{};

  static uint32_t probe(secmlops::sdk::Bytes head, std::string_view, const char*& format) {
    format = "gguf";
    return gg::probe(head);
  }

  explicit GgufScanner(const secmlops::sdk::Config&) {}

  void scan(secmlops::sdk::ScanJob& job) {
    auto cancelled = [&job] { return job.cancelled(); };
    // A mapped file is read in place: only the header pages are touched.
    auto whole = job.view(0, job.size());
    gg::Result r;
    if (!whole.empty() || job.size() == 0) {
      gg::MemorySource src(whole);
      r = gg::validate(src, {}, cancelled);
    } else {
      JobSource src(job);
      r = gg::validate(src, {}, cancelled);
    }
    for (const auto& f : r.findings) job.emit(f);
    if (!r.error.empty()) {
      if (r.error == "cancelled") throw Error(SECMLOPS_ERR_CANCELLED, "cancelled by the host");
      throw Error(SECMLOPS_ERR_PARSE, r.error + " (at byte " + std::to_string(r.error_offset) + ")");
    }
  }
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(GgufScanner)
