// The pickle scanner plugin: SDK glue around the core (formats.hpp, pickle_scan.hpp).
//
// Configuration keys (from the host's scan options):
//   mode=default|allowlist   policy mode (default: default)
//   policy=<YAML text>       a user policy; its `pickle:` section extends or overrides the
//                            built-in one (docs/rules.md)
//   pickle.max_opcodes, pickle.max_memo, pickle.max_stack, pickle.max_nesting   limits
#include "formats.hpp"
#include "pickle_scan.hpp"

#include <secmlops/sdk/plugin.hpp>
#include <secmlops/sdk/source.hpp>

namespace {

using namespace secmlops::plugins::pickle;
using secmlops::sdk::Error;

class SdkSink final : public Sink {
 public:
  explicit SdkSink(secmlops::sdk::ScanJob& job) : job_(job) {}
  void emit(Finding f) override { job_.emit(f); }

 private:
  secmlops::sdk::ScanJob& job_;
};

class PickleScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "pickle";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Static analysis of pickles (raw, PyTorch zip members and legacy checkpoints, NumPy .npy, "
      "joblib): "
      "resolves every import and call without executing anything";
  static constexpr const char* license = "Apache-2.0";
  static constexpr const char* formats[] = {kFormatPickle, kFormatNumpy, kFormatTorchLegacy,
                                            nullptr};
  static constexpr secmlops_option options[] = {
      secmlops::sdk::option(SECMLOPS_OPTION_STRING, "mode",
                            "default, or allowlist: only listed globals are safe", "default"),
      secmlops::sdk::option(SECMLOPS_OPTION_STRING, "policy",
                            "policy document (YAML): extra safe/unsafe globals"),
      secmlops::sdk::option(SECMLOPS_OPTION_INT, "pickle.max_opcodes",
                            "opcodes analysed per pickle", "4000000000"),
      secmlops::sdk::option(SECMLOPS_OPTION_INT, "pickle.max_memo", "memo entries kept per pickle",
                            "33554432"),
      secmlops::sdk::option(SECMLOPS_OPTION_INT, "pickle.max_stack", "stack depth per pickle",
                            "1048576"),
      secmlops::sdk::option(SECMLOPS_OPTION_INT, "pickle.max_nesting",
                            "nesting of pickles inside pickles", "8")};

  static uint32_t probe(secmlops::sdk::Bytes head, std::string_view name, const char*& format) {
    return probe_format(head, format, name);
  }

  explicit PickleScanner(const secmlops::sdk::Config& config) {
    std::string mode = config.get_string("mode", "default");
    if (mode != "default" && mode != "allowlist")
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                  "mode must be 'default' or 'allowlist', got '" + mode + "'");
    policy_.set_allowlist(mode == "allowlist");
    if (auto text = config.get("policy"); text && !text->empty()) {
      try {
        policy_.load_yaml(*text);
      } catch (const std::exception& e) {
        throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, e.what());
      }
      // The command line's --allowlist wins over a policy file that says default.
      if (mode == "allowlist") policy_.set_allowlist(true);
    }
    auto positive = [&](const char* key, uint64_t fallback) {
      int64_t v = config.get_int(key, static_cast<int64_t>(fallback));
      if (v <= 0)
        throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, std::string(key) + " must be positive");
      return static_cast<uint64_t>(v);
    };
    limits_.max_opcodes = positive("pickle.max_opcodes", limits_.max_opcodes);
    limits_.max_memo = positive("pickle.max_memo", limits_.max_memo);
    limits_.max_stack = positive("pickle.max_stack", limits_.max_stack);
    limits_.max_nesting =
        static_cast<uint32_t>(positive("pickle.max_nesting", limits_.max_nesting));
  }

  void scan(secmlops::sdk::ScanJob& job) {
    secmlops::sdk::JobSource input(job);
    SdkSink sink(job);
    ScanState state(input, policy_, sink, limits_);
    std::string format(job.format());
    if (format.empty() || format == "*") {
      const char* f = kFormatPickle;
      auto head = input.window(0, std::min<uint64_t>(input.size(), 4096));
      probe_format({head, std::min<uint64_t>(input.size(), 4096)}, f);
      format = f;
    }
    bool complete = scan_format(state, format);
    if (state.limit_hit)
      throw Error(SECMLOPS_ERR_LIMIT,
                  state.limit_message.empty() ? "analysis limit reached" : state.limit_message);
    if (!complete)
      throw Error(SECMLOPS_ERR_PARSE,
                  "the " + format + " structure could not be followed to its end (see findings)");
  }

 private:
  Policy policy_;
  Limits limits_;
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(PickleScanner)
