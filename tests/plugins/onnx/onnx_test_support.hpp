// Runs the ONNX walker over a fixture file held in memory, collecting findings.
#pragma once

#include "onnx_walker.hpp"
#include "scan_job.hpp"  // stat_sibling_in: the host's own answer, for realistic sibling checks

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace secmlops::test {

inline std::string fixture(const std::string& rel) {
  return std::string(ONNX_FIXTURE_DIR) + "/" + rel;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct OnnxRun {
  std::vector<sdk::Finding> findings;
  plugins::onnx::WalkStats stats;

  [[nodiscard]] std::vector<sdk::Finding> with_rule(const std::string& rule) const {
    std::vector<sdk::Finding> out;
    std::copy_if(findings.begin(), findings.end(), std::back_inserter(out),
                 [&](const auto& f) { return f.rule_id == rule; });
    return out;
  }
  [[nodiscard]] int max_severity() const {
    int m = 0;
    for (const auto& f : findings) m = std::max<int>(m, f.severity);
    return m;
  }
};

inline std::string evidence(const sdk::Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.evidence)
    if (k == key) return v;
  return {};
}

// `with_dir`: answer stat_sibling from the file's directory (as the host does for files on
// disk); otherwise as for an upload (NO_CONTEXT).
inline OnnxRun run_onnx_bytes(const std::string& bytes,
                              const std::filesystem::path* dir = nullptr) {
  OnnxRun run;
  sdk::MemorySource src(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  plugins::onnx::WalkContext ctx;
  ctx.emit = [&](const sdk::Finding& f) { run.findings.push_back(f); };
  if (dir != nullptr)
    ctx.stat_sibling = [dir](const std::string& rel) { return host::stat_sibling_in(*dir, rel); };
  run.stats = plugins::onnx::walk_model(src, ctx);
  return run;
}

inline OnnxRun run_onnx(const std::string& rel, bool with_dir = true) {
  std::filesystem::path dir = std::filesystem::path(fixture(rel)).parent_path();
  return run_onnx_bytes(slurp(fixture(rel)), with_dir ? &dir : nullptr);
}

}  // namespace secmlops::test
