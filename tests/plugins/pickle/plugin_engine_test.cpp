// The plugin loaded by the host's scan engine: configuration (mode, policy, limits) as the CLI
// will pass it, status and error handling, and reading through host streams.
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"
#include "support/temp_dir.hpp"
#include "test_support.hpp"

namespace {

using namespace secmlops::host;
namespace v1 = secmlops::v1;

class PluginEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        registry_.load_library(std::filesystem::path(SECMLOPS_PLUGIN_DIR) / "secmlops_pickle.so"));
  }
  v1::FileReport scan(const std::string& content, ScanOptions o = {}) {
    auto path = dir_.write("input.bin", content);
    return ScanEngine(registry_, std::move(o)).scan_file(path);
  }
  static bool has(const v1::FileReport& r, const std::string& rule,
                  const std::string& global = {}) {
    for (const auto& f : r.findings()) {
      if (f.rule_id() != rule) continue;
      if (global.empty()) return true;
      for (const auto& e : f.evidence())
        if (e.key() == "global" && e.value() == global) return true;
    }
    return false;
  }
  Registry registry_;
  secmlops::test::TempDir dir_;
};

const std::string kUnknown = "\x80\x02" + pickle_test::glob("mylib", "Thing") + ")R.";

TEST_F(PluginEngine, DefaultModeReportsUnknownCallsMedium) {
  auto r = scan(kUnknown);
  EXPECT_EQ(r.status(), v1::SCANNED);
  ASSERT_TRUE(has(r, "PICKLE-UNKNOWN-CALL", "mylib.Thing"));
  EXPECT_EQ(r.findings(0).severity(), v1::MEDIUM);
  EXPECT_EQ(r.findings(0).scanner(), "pickle");
  EXPECT_EQ(r.streams(0).format(), "pickle");
}

TEST_F(PluginEngine, AllowlistModeFromConfig) {
  ScanOptions o;
  o.scanner_config = {{"mode", "allowlist"}};
  auto r = scan(kUnknown, o);
  EXPECT_TRUE(has(r, "PICKLE-NOT-ALLOWLISTED", "mylib.Thing"));
}

TEST_F(PluginEngine, PolicyTextFromConfig) {
  ScanOptions o;
  o.scanner_config = {
      {"mode", "default"},
      {"policy", "pickle:\n  deny:\n    - global: mylib\n      severity: CRITICAL\n"}};
  auto r = scan(kUnknown, o);
  ASSERT_TRUE(has(r, "PICKLE-POLICY-DENY", "mylib.Thing"));
  EXPECT_EQ(r.findings(0).severity(), v1::CRITICAL);
}

TEST_F(PluginEngine, BadConfigurationIsAClearError) {
  ScanOptions o;
  o.scanner_config = {{"policy", "pickle:\n  deny: 3\n"}};
  auto r = scan(kUnknown, o);
  EXPECT_NE(r.status(), v1::SCANNED);
  EXPECT_NE(r.error().find("pickle.deny must be a list"), std::string::npos) << r.error();
  ScanOptions m;
  m.scanner_config = {{"mode", "paranoid"}};
  EXPECT_NE(scan(kUnknown, m).error().find("mode must be"), std::string::npos);
}

TEST_F(PluginEngine, LimitsAreConfigurableAndMakeTheScanPartial) {
  ScanOptions o;
  o.scanner_config = {{"pickle.max_memo", "2"}};
  std::string p = "\x80\x04";
  for (int i = 0; i < 5; ++i) p += "N\x94";
  auto r = scan(p + ".", o);
  EXPECT_EQ(r.status(), v1::PARTIAL);
  EXPECT_TRUE(has(r, "PICKLE-LIMIT"));
  EXPECT_NE(r.error().find("memo limit"), std::string::npos) << r.error();
}

TEST_F(PluginEngine, MalformedPickleKeepsFindingsAndIsPartial) {
  std::string p =
      "\x80\x02" + pickle_test::glob("os", "system") + "(" + pickle_test::bu("x") + "tR";
  auto r = scan(p);
  EXPECT_EQ(r.status(), v1::PARTIAL);
  EXPECT_TRUE(has(r, "PICKLE-CODE-EXEC", "os.system"));
  EXPECT_TRUE(has(r, "PICKLE-MALFORMED"));
}

TEST_F(PluginEngine, TimeLimitCancelsLongScans) {
  ScanOptions o;
  o.limits.seconds_per_file = 0.001;
  std::string p = "\x80\x04" + std::string(60'000'000, 'N') + ".";  // runs for well over 1 ms
  auto r = scan(p, o);
  EXPECT_EQ(r.status(), v1::PARTIAL);
  EXPECT_NE(r.error().find("time limit"), std::string::npos) << r.error();
}

}  // namespace
