// The TensorFlow SavedModel scanner plugin: SDK glue around savedmodel_walker.cpp.
#include "probe.hpp"
#include "savedmodel_walker.hpp"

#include <secmlops/sdk/plugin.hpp>
#include <secmlops/sdk/source.hpp>

namespace {

using secmlops::sdk::Error;

class SavedModelScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "savedmodel";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Flags Python, file-system and network operations in TensorFlow SavedModel graphs";
  static constexpr const char* license = "Apache-2.0";
  static constexpr const char* formats[] = {"tf-savedmodel", nullptr};
  static constexpr secmlops::sdk::NoOptions options{};

  static uint32_t probe(secmlops::sdk::Bytes head, std::string_view name, const char*& format) {
    uint32_t c = secmlops::plugins::savedmodel::probe_saved_model(head.data(), head.size(), name);
    if (c != 0) format = "tf-savedmodel";
    return c;
  }

  explicit SavedModelScanner(const secmlops::sdk::Config&) {}

  void scan(secmlops::sdk::ScanJob& job) {
    secmlops::sdk::JobSource source(job);
    secmlops::plugins::savedmodel::WalkContext ctx;
    ctx.emit = [&](const secmlops::sdk::Finding& f) { job.emit(f); };
    ctx.poll = [&] { job.check_cancelled(); };
    try {
      auto stats = secmlops::plugins::savedmodel::walk_saved_model(source, ctx);
      job.metric("savedmodel.nodes", static_cast<double>(stats.nodes));
      job.metric("savedmodel.functions", static_cast<double>(stats.functions));
    } catch (const secmlops::protowire::ParseError& e) {
      throw Error(SECMLOPS_ERR_PARSE, std::string("malformed SavedModel protobuf: ") + e.what());
    }
    job.progress(1.0);
  }
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(SavedModelScanner)
