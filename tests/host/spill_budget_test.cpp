// Inflated members spilled to temp files count against a process-wide budget: a bomb stops with
// HOST-LIMIT-SPILL, and every spilled byte is released when the scan is over.
#include "containers/spill_stream.hpp"
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"
#include "support/temp_dir.hpp"

#include <zlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace secmlops::host {
namespace {

TEST(SpillBudget, BombStopsAtTheBudgetAndNothingStaysSpilled) {
  test::TempDir dir;
  auto path = dir.path() / "zeros.gz";
  gzFile gz = gzopen(path.c_str(), "wb9");
  ASSERT_NE(gz, nullptr);
  std::vector<char> zeros(1 << 20, 0);
  for (int i = 0; i < 64; ++i) gzwrite(gz, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(gz);

  Registry registry;
  registry.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) /
                        "secmlops_fixture-cpp.so");
  ScanOptions o;
  o.isolation = Isolation::in_process;  // the budget is per process: observe this one
  o.limits.containers.memory_threshold = 1 << 20;
  o.limits.containers.max_spill_bytes = 8 << 20;
  o.limits.containers.ratio_floor = 1ull << 40;  // let the spill budget be what stops it
  auto r = ScanEngine(registry, o).scan_file(path);
  bool hit = false;
  for (const auto& f : r.findings()) hit |= f.rule_id() == "HOST-LIMIT-SPILL";
  EXPECT_TRUE(hit) << r.DebugString();
  EXPECT_EQ(containers::spilled_bytes(), 0u);

  // The ratio limit counts the compressed bytes read so far: 64 MiB of zeros stop early.
  o.limits.containers.ratio_floor = 1 << 20;
  o.limits.containers.max_spill_bytes = 1ull << 30;
  auto q = ScanEngine(registry, o).scan_file(path);
  bool ratio = false;
  for (const auto& f : q.findings()) ratio |= f.rule_id() == "HOST-LIMIT-RATIO";
  EXPECT_TRUE(ratio);
  EXPECT_EQ(containers::spilled_bytes(), 0u);
}

}  // namespace
}  // namespace secmlops::host
