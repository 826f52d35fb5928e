// safetensors files through `secmlops scan`, routed by content.
#include "support/cli_scan_json.hpp"

#include <gtest/gtest.h>

namespace {

using secmlops::test::cli_scan;

std::string fixture(const std::string& name) { return std::string(FIXTURE_DIR) + "/" + name; }

TEST(SafetensorsCli, BenignFileExitsZeroWithoutMediumFindings) {
  auto s = cli_scan(fixture("benign.safetensors"));
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.status, "SCANNED");
  EXPECT_TRUE(s.max_severity == "" || s.max_severity == "INFO" || s.max_severity == "LOW")
      << s.max_severity;
}

TEST(SafetensorsCli, PolyglotFileFails) {
  auto s = cli_scan(fixture("trailing_data.safetensors"));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.rules.count("ST-TRAILING-DATA"), 1u);
}

TEST(SafetensorsCli, RoutedByContentNotExtension) {
  auto s = secmlops::test::cli_scan_renamed(fixture("overlap.safetensors"), "weights.bin");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.rules.count("ST-OVERLAP"), 1u);
  EXPECT_EQ(s.report["files"][0]["streams"][0].value("format", ""), "safetensors");
}

TEST(SafetensorsCli, GapIsMediumBelowDefaultThreshold) {
  auto s = cli_scan(fixture("gap.safetensors"));
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.rules.count("ST-GAP"), 1u);
  EXPECT_EQ(cli_scan("--fail-on MEDIUM " + fixture("gap.safetensors")).exit_code, 1);
}

TEST(SafetensorsCli, OversizedHeaderIsReportedNotRead) {
  auto s = cli_scan(fixture("header_too_large.safetensors"));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.rules.count("ST-HEADER-TOO-LARGE"), 1u);
}

}  // namespace
