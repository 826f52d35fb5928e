// Scanning through the engine: routing by content, findings with locations, plugin failures
// and limits turned into statuses, and the legacy ABI plugin using host services.
#include "secmlops/host/scan_engine.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;

class ScanEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-cpp.so");
    registry_.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_legacy-v1-0.so");
  }
  Registry registry_;
  test::TempDir dir_;
};

TEST_F(ScanEngineTest, RoutesByContentNotByName) {
  // Named like a pickle, but the content says "magic".
  auto path = dir_.write("model.pkl", "EVIL payload");
  ScanEngine engine(registry_, {});
  auto r = engine.scan_file(path);
  EXPECT_EQ(r.status(), v1::SCANNED);
  ASSERT_EQ(r.findings_size(), 1);
  const auto& f = r.findings(0);
  EXPECT_EQ(f.rule_id(), "FIXTURE-EVIL");
  EXPECT_EQ(f.severity(), v1::CRITICAL);
  EXPECT_EQ(f.scanner(), "fixture-magic");
  EXPECT_EQ(f.location().file(), path.string());
  EXPECT_EQ(f.location().offset(), 0u);
  EXPECT_EQ(f.location().detail(), "header");
  ASSERT_EQ(f.evidence_size(), 1);
  EXPECT_EQ(f.evidence(0).value(), "EVIL");
  ASSERT_EQ(r.streams_size(), 1);
  EXPECT_EQ(r.streams(0).format(), "magic");
}

TEST_F(ScanEngineTest, ScannerConfigReachesThePlugin) {
  auto path = dir_.write("a.bin", "EVIL");
  ScanOptions o;
  o.scanner_config = {{"severity", "2"}};
  auto r = ScanEngine(registry_, o).scan_file(path);
  ASSERT_EQ(r.findings_size(), 1);
  EXPECT_EQ(r.findings(0).severity(), v1::LOW);
}

TEST_F(ScanEngineTest, LegacyAbiPluginReadsThroughHostServices) {
  auto path = dir_.write("x.fix", "FIXTURE with 27 bytes total");
  auto r = ScanEngine(registry_, {}).scan_file(path);
  EXPECT_EQ(r.status(), v1::SCANNED);
  ASSERT_EQ(r.findings_size(), 1);
  EXPECT_EQ(r.findings(0).rule_id(), "FIXTURE-SEEN");
  EXPECT_EQ(r.findings(0).message(), "legacy-v1-0 read 27 bytes");
}

TEST_F(ScanEngineTest, ThrowingScannerBecomesPartialWithItsMessage) {
  auto path = dir_.write("crash.bin", "CRASH");
  auto r = ScanEngine(registry_, {}).scan_file(path);
  EXPECT_EQ(r.status(), v1::PARTIAL);
  EXPECT_THAT(r.error(), HasSubstr("INTERNAL: boom at offset 0"));
  EXPECT_THAT(r.error(), HasSubstr(path.string()));
}

TEST_F(ScanEngineTest, UnrecognisedContentIsUnsupported) {
  auto path = dir_.write("readme.txt", "hello");
  auto r = ScanEngine(registry_, {}).scan_file(path);
  EXPECT_EQ(r.status(), v1::UNSUPPORTED);
  EXPECT_EQ(r.findings_size(), 0);
}

TEST_F(ScanEngineTest, MissingFileIsAnError) {
  auto r = ScanEngine(registry_, {}).scan_file(dir_.path() / "nope.pt");
  EXPECT_EQ(r.status(), v1::ERROR);
  EXPECT_THAT(r.error(), HasSubstr("nope.pt: cannot open"));
}

TEST_F(ScanEngineTest, DirectoriesAreScannedRecursivelyInOrder) {
  dir_.write("b/evil.bin", "EVIL");
  dir_.write("a/good.bin", "GOOD");
  dir_.write("a/deeper/evil2.bin", "EVIL");
  std::vector<std::string> seen;
  auto report = ScanEngine(registry_, {}).scan_paths(
      {dir_.path()}, [&](const v1::FileReport& f) { seen.push_back(f.path()); });
  ASSERT_EQ(report.files_size(), 3);
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_THAT(report.files(0).path(), HasSubstr("a/deeper/evil2.bin"));
  EXPECT_EQ(report.summary().files(), 3u);
  EXPECT_EQ(report.summary().findings_by_severity().at("CRITICAL"), 2u);
  EXPECT_EQ(report.summary().max_severity(), v1::CRITICAL);
}

TEST_F(ScanEngineTest, CancelledRequestStopsBeforeTheNextFile) {
  dir_.write("1.bin", "EVIL");
  dir_.write("2.bin", "EVIL");
  ScanOptions o;
  o.cancel = std::make_shared<CancelToken>();
  o.cancel->cancel();
  auto report = ScanEngine(registry_, o).scan_paths({dir_.path()});
  EXPECT_EQ(report.files_size(), 0);
}

TEST(ScanEngineExample, SignatureScannerRunsBesideTheRoutedScanner) {
  Registry registry;
  registry.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-cpp.so");
  registry.load_library(std::filesystem::path(SECMLOPS_EXAMPLE_PLUGIN_DIR) / "secmlops_signature.so");
  test::TempDir dir;
  auto path = dir.write("m.bin", "EVIL...needle...needle");
  ScanOptions o;
  o.scanner_config = {{"signature.n", "text:needle"}};
  auto r = ScanEngine(registry, o).scan_file(path);
  ASSERT_EQ(r.findings_size(), 3);
  EXPECT_EQ(r.findings(1).rule_id(), "SIG-MATCH");
  EXPECT_EQ(r.findings(1).location().offset(), 7u);
  EXPECT_EQ(r.findings(2).location().offset(), 16u);
  EXPECT_EQ(r.streams_size(), 2);
}

TEST(ScanEngineExample, BadScannerConfigIsAPartialScanNotACrash) {
  Registry registry;
  registry.load_library(std::filesystem::path(SECMLOPS_EXAMPLE_PLUGIN_DIR) / "secmlops_signature.so");
  test::TempDir dir;
  auto path = dir.write("m.bin", "abc");
  ScanOptions o;
  o.scanner_config = {{"signature.bad", "hex:zz"}};
  auto r = ScanEngine(registry, o).scan_file(path);
  EXPECT_EQ(r.status(), v1::PARTIAL);
  EXPECT_THAT(r.error(), HasSubstr("signature.bad: 'hex:' needs an even number of hex digits"));
}

}  // namespace
}  // namespace secmlops::host
