// Plugins written with the C++ SDK layer, one of each kind, compiled with -DFIXTURE_SET=<n>:
//   1: a working library with a scanner, a model, an attack and a reporter (plus a slow scanner
//      and a gradient-free model with ONNX-style export/import, for the server's tests);
//   2: a library whose library_init throws (refused at load);
//   3: a library whose init lets an exception escape without the SDK's guard (refused at load).
#include <secmlops/sdk/plugin.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace sdk = secmlops::sdk;

#if FIXTURE_SET == 1
namespace {

// Flags any stream that starts with "EVIL"; throws when it starts with "CRASH" (the host must
// turn that into a clean error); "MANY" emits 60 findings of one rule, each twice.
class MagicScanner : public sdk::Scanner {
 public:
  static constexpr const char* name = "fixture-magic";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "test scanner";
  static constexpr const char* formats[] = {"magic", nullptr};
  static uint32_t probe(sdk::Bytes head, std::string_view, const char*& format) {
    format = "magic";
    auto starts = [&](std::string_view s) {
      return head.size() >= s.size() && std::equal(s.begin(), s.end(), head.begin());
    };
    return starts("EVIL") || starts("CRASH") || starts("GOOD") || starts("MANY") ? 80 : 0;
  }
  explicit MagicScanner(const sdk::Config& c)
      : severity_(c.get_int("severity", 5)),
        echo_(c.get_string("echo_config", "") == "1"),
        mode_(c.get_string("mode", "")),
        policy_(c.get_string("policy", "")) {}
  void scan(sdk::ScanJob& job) {
    // With echo_config=1, reports the mode and policy it was given (CLI option plumbing tests).
    if (echo_)
      job.emit({SECMLOPS_SEVERITY_INFO,
                "FIXTURE-CONFIG",
                "scanner configuration",
                SECMLOPS_NO_OFFSET,
                "",
                {{"mode", mode_}, {"policy", policy_}}});
    char head[5] = {};
    job.read_exact(head, 4);
    if (std::string_view(head, 4) == "CRAS") throw std::runtime_error("boom at offset 0");
    if (std::string_view(head, 4) == "MANY")
      for (uint64_t i = 0; i < 120; ++i)
        job.emit({SECMLOPS_SEVERITY_LOW,
                  "FIXTURE-MANY",
                  "item " + std::to_string(i / 2),
                  i / 2,
                  "",
                  {}});
    if (std::string_view(head, 4) == "EVIL")
      job.emit({static_cast<secmlops_severity>(severity_),
                "FIXTURE-EVIL",
                "evil magic",
                0,
                "header",
                {{"magic", "EVIL"}}});
  }

 private:
  int64_t severity_;
  bool echo_;
  std::string mode_, policy_;
};

// A one-feature threshold classifier: p(class 1) = sigmoid(w·x0).
class ThresholdModel : public sdk::Model {
 public:
  static constexpr const char* name = "fixture-model";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "test model";
  static constexpr secmlops_option options[] = {
      sdk::option(SECMLOPS_OPTION_DOUBLE, "w", "the weight", "1")};
  explicit ThresholdModel(const sdk::Config&) {}
  void fit(sdk::Job&, const sdk::Matrix& x, std::span<const int32_t> y, const sdk::Config& p) {
    w_ = p.get_double("w", 1.0);
    features_ = x.cols();
    (void)y;
  }
  sdk::ModelInfo info() const { return {features_, 2, true}; }
  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) const {
    for (uint64_t r = 0; r < x.rows(); ++r) {
      double p = 1.0 / (1.0 + std::exp(-w_ * x.row(r)[0]));
      out[2 * r] = 1 - p;
      out[2 * r + 1] = p;
    }
  }
  void loss_gradient(sdk::Job&, const sdk::Matrix& x, const int32_t* y, double* out) const {
    for (uint64_t r = 0; r < x.rows(); ++r) {
      double p = 1.0 / (1.0 + std::exp(-w_ * x.row(r)[0]));
      for (uint64_t c = 0; c < x.cols(); ++c) out[r * x.cols() + c] = 0;
      out[r * x.cols()] = (p - y[r]) * w_;
    }
  }
  void describe(sdk::Job& job) const { job.metric("parameters", 1); }

 private:
  double w_ = 1;
  uint64_t features_ = 0;
};

// Moves every sample by eps in the direction of the loss gradient's sign.
class SignAttack : public sdk::Attack {
 public:
  static constexpr const char* name = "fixture-attack";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "test attack";
  static constexpr bool needs_gradient = true;
  explicit SignAttack(const sdk::Config&) {}
  void generate(sdk::Job& job, const sdk::ModelHandle& m, const sdk::Matrix& x, const int32_t* y,
                const sdk::Config& p, double* out) {
    double eps = p.get_double("eps", 0.1);
    std::vector<double> g(x.rows() * x.cols());
    m.loss_gradient(x, y, g.data());
    for (size_t i = 0; i < g.size(); ++i) out[i] = x.data()[i] + eps * ((g[i] > 0) - (g[i] < 0));
    job.metric("queries", 1);
  }
};

// Records events in a property so that the test can see them.
class EchoReporter : public sdk::Reporter {
 public:
  static constexpr const char* name = "fixture-reporter";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "test reporter";
  explicit EchoReporter(const sdk::Config&) {}
  void on_event(sdk::Job& job, const sdk::RunEvent& e) {
    job.property("event", std::to_string(e.type) + ":" + std::string(e.key) +
                              (e.schema.empty() ? "" : " schema " + std::string(e.schema)) +
                              (e.profile.empty() ? "" : " profile " + std::string(e.profile)));
  }
  void flush(sdk::Job& job) { job.property("flushed", "yes"); }
};

// Takes its time on streams starting with "SLOW" (config "seconds", default 30) while honouring
// cancellation: lets tests cancel a scan midway.
class SlowScanner : public sdk::Scanner {
 public:
  static constexpr const char* name = "fixture-slow";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "test scanner that is slow on SLOW streams";
  static constexpr const char* formats[] = {"slow", nullptr};
  static uint32_t probe(sdk::Bytes head, std::string_view, const char*& format) {
    format = "slow";
    return head.size() >= 4 &&
                   std::string_view(reinterpret_cast<const char*>(head.data()), 4) == "SLOW"
               ? 80
               : 0;
  }
  explicit SlowScanner(const sdk::Config& c) : seconds_(c.get_double("seconds", 30)) {}
  void scan(sdk::ScanJob& job) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds_);
    while (std::chrono::steady_clock::now() < until) {
      job.check_cancelled();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  double seconds_;
};

// A gradient-free threshold model whose "ONNX" export is a tiny text blob ("fixture-model w=<w>
// features=<n>") that import reads back; anything else is answered UNSUPPORTED.
class PortableModel : public sdk::Model {
 public:
  static constexpr const char* name = "fixture-portable-model";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "test model with export/import and no gradient";
  explicit PortableModel(const sdk::Config&) {}
  void fit(sdk::Job&, const sdk::Matrix& x, std::span<const int32_t>, const sdk::Config& p) {
    w_ = p.get_double("w", 1.0);
    features_ = x.cols();
  }
  sdk::ModelInfo info() const { return {features_, 2, false}; }
  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) const {
    for (uint64_t r = 0; r < x.rows(); ++r) {
      double p = 1.0 / (1.0 + std::exp(-w_ * x.row(r)[0]));
      out[2 * r] = 1 - p;
      out[2 * r + 1] = p;
    }
  }
  std::vector<uint8_t> export_onnx(sdk::Job&) const {
    std::string s =
        "fixture-model w=" + std::to_string(w_) + " features=" + std::to_string(features_);
    return {s.begin(), s.end()};
  }
  void import_onnx(sdk::Job&, sdk::Bytes b) {
    std::string s(reinterpret_cast<const char*>(b.data()), b.size());
    double w = 0;
    unsigned long long f = 0;
    if (std::sscanf(s.c_str(), "fixture-model w=%lf features=%llu", &w, &f) != 2 || f == 0)
      throw sdk::Error(SECMLOPS_ERR_UNSUPPORTED, "not a fixture-model export");
    w_ = w;
    features_ = f;
  }

 private:
  double w_ = 1;
  uint64_t features_ = 0;
};

}  // namespace
SECMLOPS_EXPORT_PLUGINS(MagicScanner, ThresholdModel, SignAttack, EchoReporter, SlowScanner,
                        PortableModel)

#elif FIXTURE_SET == 2
namespace {
class ThrowingInit : public sdk::Scanner {
 public:
  static constexpr const char* name = "fixture-throwing-init";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "init throws";
  static constexpr const char* formats[] = {"none", nullptr};
  static void library_init() { throw std::runtime_error("model cache directory is not writable"); }
  explicit ThrowingInit(const sdk::Config&) {}
  void scan(sdk::ScanJob&) {}
};
}  // namespace
SECMLOPS_EXPORT_PLUGINS(ThrowingInit)

#elif FIXTURE_SET == 3
// Bypasses the SDK: an init that lets a C++ exception escape into the host.
namespace {
class Raw : public sdk::Scanner {
 public:
  static constexpr const char* name = "fixture-raw-throw";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description = "init throws through the ABI";
  static constexpr const char* formats[] = {"none", nullptr};
  explicit Raw(const sdk::Config&) {}
  void scan(sdk::ScanJob&) {}
};
secmlops_library patched;
secmlops_status throwing_init(const secmlops_host_services*) {
  throw std::logic_error("escaped exception");
}
}  // namespace
extern "C" SECMLOPS_EXPORT const secmlops_library* secmlops_plugin_entry_v1(uint32_t, uint32_t) {
  patched = *sdk::detail::library<Raw>();
  patched.init = &throwing_init;
  return &patched;
}
#endif
