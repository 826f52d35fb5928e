// The ONNX scanner plugin: SDK glue around the wire-level walker (onnx_walker.cpp).
#include "onnx_walker.hpp"
#include "probe.hpp"

#include <secmlops/sdk/plugin.hpp>
#include <secmlops/sdk/source.hpp>

namespace {

using secmlops::sdk::Error;

class OnnxScanner : public secmlops::sdk::Scanner {
 public:
  static constexpr const char* name = "onnx";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Flags custom and Python operators, external-data path traversal and inconsistent tensors in "
      "ONNX models";
  static constexpr const char* license = "Apache-2.0";
  static constexpr const char* formats[] = {"onnx", nullptr};
  static constexpr secmlops_option options[] = {secmlops::sdk::option(
      SECMLOPS_OPTION_INT, "onnx.max_graph_depth", "nesting of subgraphs followed", "24")};

  static uint32_t probe(secmlops::sdk::Bytes head, std::string_view, const char*& format) {
    uint32_t c = secmlops::plugins::onnx::probe_model(head.data(), head.size());
    if (c != 0) format = "onnx";
    return c;
  }

  explicit OnnxScanner(const secmlops::sdk::Config& config) {
    // Each subgraph level is three protobuf message levels; the wire reader stops at 100.
    int64_t depth = config.get_int("onnx.max_graph_depth", options_.max_graph_depth);
    if (depth < 1 || depth > 30)
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "onnx.max_graph_depth must be between 1 and 30");
    options_.max_graph_depth = static_cast<uint32_t>(depth);
  }

  void scan(secmlops::sdk::ScanJob& job) {
    secmlops::sdk::JobSource source(job);
    secmlops::plugins::onnx::WalkContext ctx;
    ctx.emit = [&](const secmlops::sdk::Finding& f) { job.emit(f); };
    ctx.stat_sibling = [&](const std::string& rel) { return job.stat_sibling(rel); };
    ctx.poll = [&] { job.check_cancelled(); };
    try {
      auto stats = secmlops::plugins::onnx::walk_model(source, ctx, options_);
      job.metric("onnx.nodes", static_cast<double>(stats.nodes));
      job.metric("onnx.tensors", static_cast<double>(stats.tensors));
      job.metric("onnx.external_tensors", static_cast<double>(stats.external_tensors));
      job.metric("onnx.bytes_read", static_cast<double>(stats.bytes_fetched));
    } catch (const secmlops::protowire::ParseError& e) {
      throw Error(SECMLOPS_ERR_PARSE, std::string("malformed ONNX protobuf: ") + e.what());
    }
    job.progress(1.0);
  }

 private:
  secmlops::plugins::onnx::WalkOptions options_;
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(OnnxScanner)
