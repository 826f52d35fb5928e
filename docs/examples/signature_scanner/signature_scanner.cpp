// An example secmlops scanner: flags byte signatures anywhere in a file.
//
// It shows everything a third-party scanner needs: metadata, configuration with validation,
// reading the input through the host (zero-copy when the host offers it), cancellation,
// progress, and findings with offsets and evidence. Build it against an installed SDK with
// find_package(secmlops_sdk CONFIG) and secmlops_add_plugin() — see CMakeLists.txt.
//
// Configuration (scan --option KEY=VALUE):
//   signature.<name>=text:<literal>   or   signature.<name>=hex:<hex bytes>
//   signature_severity=CRITICAL|HIGH|MEDIUM|LOW|INFO   (default HIGH)
// Without any signature.* option it looks for the EICAR anti-virus test string.
#include <secmlops/sdk/plugin.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <string>
#include <vector>

namespace {

using secmlops::sdk::Error;

struct Signature {
  std::string name;
  std::string bytes;
};

std::string decode(const std::string& key, const std::string& value) {
  if (value.rfind("text:", 0) == 0) return value.substr(5);
  if (value.rfind("hex:", 0) == 0) {
    std::string hex;
    for (char c : value.substr(4))
      if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
    if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                  key + ": 'hex:' needs an even number of hex digits");
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2)
      out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
  }
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, key + ": value must start with 'text:' or 'hex:'");
}

secmlops_severity parse_severity(const std::string& s) {
  if (s == "CRITICAL") return SECMLOPS_SEVERITY_CRITICAL;
  if (s == "HIGH") return SECMLOPS_SEVERITY_HIGH;
  if (s == "MEDIUM") return SECMLOPS_SEVERITY_MEDIUM;
  if (s == "LOW") return SECMLOPS_SEVERITY_LOW;
  if (s == "INFO") return SECMLOPS_SEVERITY_INFO;
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
              "signature_severity must be CRITICAL, HIGH, MEDIUM, LOW or INFO");
}

class SignatureScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "signature";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Flags user-given byte signatures anywhere in a stream";
  static constexpr const char* license = "Apache-2.0";
  // "*": the host runs this scanner on every stream, beside the scanner routed by content.
  static constexpr const char* formats[] = {"*", nullptr};
  // Declared options (ABI 1.3; defaults since 1.4): the host refuses any other key, naming these,
  // and hands this scanner only these. A name ending in ".*" declares a family of keys.
  static constexpr secmlops_option options[] = {
      secmlops::sdk::option(SECMLOPS_OPTION_STRING, "signature.*",
                            "text:<literal> or hex:<bytes> to look for"),
      secmlops::sdk::option(SECMLOPS_OPTION_STRING, "signature_severity",
                            "CRITICAL, HIGH, MEDIUM, LOW or INFO", "HIGH")};

  explicit SignatureScanner(const secmlops::sdk::Config& config) {
    for (const auto& [key, value] : config.entries())
      if (key.rfind("signature.", 0) == 0) {
        std::string bytes = decode(key, value);
        if (bytes.empty()) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, key + ": empty signature");
        signatures_.push_back({key.substr(10), std::move(bytes)});
      }
    if (signatures_.empty())
      signatures_.push_back(
          {"eicar", R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!)"});
    severity_ = parse_severity(config.get_string("signature_severity", "HIGH"));
  }

  void scan(secmlops::sdk::ScanJob& job) {
    const uint64_t size = job.size();
    size_t longest = 0;
    for (const auto& s : signatures_) longest = std::max(longest, s.bytes.size());
    // Chunks overlap by longest-1 bytes so a match across a chunk boundary is still seen once.
    constexpr uint64_t kChunk = 4 << 20;
    std::vector<char> buffer;
    std::vector<size_t> hits(signatures_.size(), 0);
    for (uint64_t start = 0; start < size;) {
      job.check_cancelled();
      uint64_t len = std::min<uint64_t>(kChunk + longest - 1, size - start);
      auto view = job.view(start, len);
      const char* data;
      if (!view.empty()) {
        data = reinterpret_cast<const char*>(view.data());
      } else {
        buffer.resize(len);
        job.seek(start);
        if (!job.read_exact(buffer.data(), len)) throw Error(SECMLOPS_ERR_IO, "stream ended early");
        data = buffer.data();
      }
      const uint64_t own_end = std::min<uint64_t>(kChunk, size - start);  // matches starting here
      for (size_t i = 0; i < signatures_.size(); ++i) {
        const auto& sig = signatures_[i];
        std::boyer_moore_horspool_searcher searcher(sig.bytes.begin(), sig.bytes.end());
        for (auto it = std::search(data, data + len, searcher); it != data + len;
             it = std::search(it + 1, data + len, searcher)) {
          uint64_t at = static_cast<uint64_t>(it - data);
          if (at >= own_end) break;
          if (++hits[i] > kMaxHitsPerSignature) break;
          job.emit({severity_,
                    "SIG-MATCH",
                    "content matches signature '" + sig.name + "'",
                    start + at,
                    {},
                    {{"signature", sig.name}}});
        }
      }
      start += own_end;
      job.progress(static_cast<double>(start) / static_cast<double>(size));
    }
  }

 private:
  static constexpr size_t kMaxHitsPerSignature = 100;
  std::vector<Signature> signatures_;
  secmlops_severity severity_ = SECMLOPS_SEVERITY_HIGH;
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(SignatureScanner)
