// GGUF files through `secmlops scan`, routed by content.
#include "support/cli_scan_json.hpp"

#include <gtest/gtest.h>

namespace {

using secmlops::test::cli_scan;

std::string fixture(const std::string& name) { return std::string(FIXTURE_DIR) + "/" + name; }

TEST(GgufCli, BenignFileExitsZero) {
  auto s = cli_scan(fixture("benign.gguf"));
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.status, "SCANNED");
  EXPECT_EQ(s.max_severity, "INFO");
}

TEST(GgufCli, TemplateInjectionFails) {
  auto s = cli_scan(fixture("chat_template_ssti.gguf"));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.rules.count("GGUF-CHAT-TEMPLATE-SSTI"), 1u);
}

TEST(GgufCli, TruncatedFileIsACleanErrorWithOffset) {
  auto s = cli_scan(fixture("truncated.gguf"));
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_EQ(s.status, "PARTIAL");
  EXPECT_NE(s.error.find("at byte 150"), std::string::npos) << s.error;
}

TEST(GgufCli, RoutedByContentNotExtension) {
  auto s = secmlops::test::cli_scan_renamed(fixture("overlap.gguf"), "model.safetensors");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.rules.count("GGUF-TENSOR-OVERLAP"), 1u);
  EXPECT_EQ(s.report["files"][0]["streams"][0].value("format", ""), "gguf");
}

TEST(GgufCli, HostileCountsAreFindingsAndStopParsing) {
  auto s = cli_scan(fixture("count_limit.gguf"));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.rules.count("GGUF-COUNT-LIMIT"), 1u);
  EXPECT_EQ(s.status, "PARTIAL");
}

}  // namespace
