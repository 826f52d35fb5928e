// Scanning through the engine: routing by content, findings with locations, plugin failures
// and limits turned into statuses, and the legacy ABI plugin using host services.
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;

class ScanEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) /
                           "secmlops_fixture-cpp.so");
    registry_.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) /
                           "secmlops_legacy-v1-0.so");
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

TEST_F(ScanEngineTest, RepeatedFindingsAreDroppedAndEachRuleIsCapped) {
  // The scanner emits 60 findings of one rule, each twice: the host lists one of each identical
  // pair, the first 50, and counts the rest in one summary finding of the scanner.
  auto path = dir_.write("many.bin", "MANY");
  ScanEngine engine(registry_, {});
  auto report = engine.scan_file(path);
  int listed = 0;
  const v1::Finding* summary = nullptr;
  for (const auto& f : report.findings()) {
    if (f.rule_id() == "FIXTURE-MANY") ++listed;
    if (f.rule_id() == "FIXTURE-MAGIC-FINDINGS-CAPPED") summary = &f;
  }
  EXPECT_EQ(listed, 50);
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(summary->scanner(), "fixture-magic");
  EXPECT_EQ(summary->severity(), v1::INFO);
  EXPECT_EQ(summary->message(), "10 more FIXTURE-MANY findings of the same kind are not listed");
  ASSERT_EQ(summary->evidence_size(), 2);
  EXPECT_EQ(summary->evidence(0).value(), "FIXTURE-MANY");
  EXPECT_EQ(summary->evidence(1).value(), "60");
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
  auto report = ScanEngine(registry_, {}).scan_paths({dir_.path()}, [&](const v1::FileReport& f) {
    seen.push_back(f.path());
  });
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
  registry.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) /
                        "secmlops_fixture-cpp.so");
  registry.load_library(std::filesystem::path(SECMLOPS_EXAMPLE_PLUGIN_DIR) /
                        "secmlops_signature.so");
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
  registry.load_library(std::filesystem::path(SECMLOPS_EXAMPLE_PLUGIN_DIR) /
                        "secmlops_signature.so");
  test::TempDir dir;
  auto path = dir.write("m.bin", "abc");
  ScanOptions o;
  o.scanner_config = {{"signature.bad", "hex:zz"}};
  auto r = ScanEngine(registry, o).scan_file(path);
  EXPECT_EQ(r.status(), v1::PARTIAL);
  EXPECT_THAT(r.error(), HasSubstr("signature.bad: 'hex:' needs an even number of hex digits"));
}

// Declared options (ABI 1.3): checked by the host before any scanner is created, on every door.
class DeclaredOptionsTest : public ::testing::Test {
 protected:
  static std::filesystem::path fixture(const char* name) {
    return std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) /
           (std::string("secmlops_") + name + ".so");
  }
  static std::string check(const Registry& r,
                           std::vector<std::pair<std::string, std::string>> config) {
    ScanOptions o;
    o.isolation = Isolation::in_process;
    o.scanner_config = std::move(config);
    return ScanEngine(r, o).config_error();
  }
};

TEST_F(DeclaredOptionsTest, UnknownOptionIsRefusedWithTheValidOnes) {
  Registry r;
  ASSERT_TRUE(r.load_library(fixture("fixture-c")));
  auto why = check(r, {{"fixture.levle", "3"}});
  EXPECT_THAT(why, HasSubstr("unknown scanner option 'fixture.levle'"));
  EXPECT_THAT(why, HasSubstr("fixture.level (integer, fixture-c)"));
  EXPECT_THAT(why, HasSubstr("fixture.verbose (boolean, fixture-c)"));
  EXPECT_EQ(check(r, {{"fixture.level", "3"}, {"fixture.verbose", "true"}}), "");
  EXPECT_EQ(check(r, {}), "");
}

TEST_F(DeclaredOptionsTest, MistypedValueIsRefused) {
  Registry r;
  ASSERT_TRUE(r.load_library(fixture("fixture-c")));
  EXPECT_THAT(
      check(r, {{"fixture.level", "high"}}),
      HasSubstr("scanner option 'fixture.level' must be an integer (fixture-c), got 'high'"));
  EXPECT_THAT(check(r, {{"fixture.verbose", "yes"}}), HasSubstr("must be true or false"));
}

TEST_F(DeclaredOptionsTest, OlderPluginsWithoutDeclarationsGetOptionsPassedThrough) {
  Registry r;
  ASSERT_TRUE(r.load_library(fixture("fixture-c")));
  ASSERT_TRUE(r.load_library(fixture("legacy-v1-1")));
  // legacy-v1-1 may read any key: nothing is refused for being unknown...
  EXPECT_EQ(check(r, {{"legacy.anything", "x"}}), "");
  Registry r12;
  ASSERT_TRUE(r12.load_library(fixture("fixture-c")));
  ASSERT_TRUE(r12.load_library(fixture("legacy-v1-2")));
  EXPECT_EQ(check(r12, {{"legacy.anything", "x"}}), "");  // so may one built against 1.2
  // ...but a key a current plugin declares still has to have the declared type.
  EXPECT_THAT(check(r, {{"fixture.level", "high"}}), HasSubstr("must be an integer"));
}

TEST_F(DeclaredOptionsTest, AttackerChosenKeysAreShownPrintableAndBounded) {
  Registry r;
  ASSERT_TRUE(r.load_library(fixture("fixture-c")));
  auto why = check(r, {{std::string("evil\n\x1b[31m") + std::string(500, 'k'), "1"}});
  EXPECT_EQ(why.find('\n'), std::string::npos);
  EXPECT_EQ(why.find('\x1b'), std::string::npos);
  EXPECT_LT(why.size(), 400u);
}

}  // namespace
}  // namespace secmlops::host
