// Keras files and .keras members through `secmlops scan`, routed by content.
#include "support/cli_scan_json.hpp"

#include <gtest/gtest.h>

namespace {

using secmlops::test::cli_scan;

std::string fixture(const std::string& name) { return std::string(FIXTURE_DIR) + "/" + name; }

TEST(KerasCli, BenignH5ExitsZeroWithInfoOnly) {
  auto s = cli_scan(fixture("benign.h5"));
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.status, "SCANNED");
  EXPECT_EQ(s.max_severity, "INFO");
}

// The sandboxed worker reads HDF5 with the libcurl that refuses transfers in place of the
// system's (host/worker/offline_curl): the same findings, none of libcurl's dependencies loaded.
TEST(KerasCli, SandboxedH5ScanUsesTheOfflineLibcurl) {
  auto r = secmlops::test::run_command(std::string(SECMLOPS_CLI) +
                                       " --plugin-dir " SECMLOPS_PLUGIN_DIR
                                       " --log-level debug scan --format json " +
                                       fixture("lambda.h5") + " 2>&1 >/dev/null");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("scan worker: opened "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("scan-worker-lib/libcurl.so.4"), std::string::npos) << r.out;
  EXPECT_EQ(cli_scan(fixture("lambda.h5")).rules.count("KERAS-LAMBDA-LAYER"), 1u);
}

TEST(KerasCli, LambdaH5IsCritical) {
  auto s = cli_scan(fixture("lambda.h5"));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.max_severity, "CRITICAL");
  EXPECT_EQ(s.rules.count("KERAS-LAMBDA-LAYER"), 1u);
  EXPECT_EQ(s.report["files"][0]["streams"][0].value("format", ""), "keras-h5");
}

TEST(KerasCli, RoutedByContentNotExtension) {
  auto s = secmlops::test::cli_scan_renamed(fixture("nested_lambda.h5"), "model.pkl");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.rules.count("KERAS-LAMBDA-LAYER"), 1u);
}

TEST(KerasCli, TruncatedH5IsACleanError) {
  auto s = cli_scan(fixture("truncated.h5"));
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_EQ(s.status, "PARTIAL");
  EXPECT_NE(s.error.find("truncated HDF5 file"), std::string::npos) << s.error;
}

TEST(KerasCli, KerasArchiveMembersScannedDirectly) {
  auto benign = cli_scan(fixture("config_benign.json") + " " + fixture("metadata.json") + " " +
                         fixture("model.weights.h5"));
  EXPECT_EQ(benign.exit_code, 0);
  EXPECT_EQ(benign.report["files"][0]["streams"][0].value("format", ""), "keras-config");
  EXPECT_EQ(benign.report["files"][1]["streams"][0].value("format", ""), "keras-metadata");
  EXPECT_EQ(benign.report["files"][2]["streams"][0].value("format", ""), "keras-h5");
  EXPECT_EQ(benign.rules.count("KERAS-METADATA"), 1u);
  auto evil = cli_scan(fixture("config_os_system.json"));
  EXPECT_EQ(evil.exit_code, 1);
  EXPECT_EQ(evil.rules.count("KERAS-DANGEROUS-MODULE"), 1u);
}

TEST(KerasCli, ArbitraryJsonIsNotClaimed) {
  auto s = cli_scan(fixture("plain.json"));
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.status, "UNSUPPORTED");
}

TEST(KerasCli, InvalidConfigIsAParseErrorWithOffset) {
  auto s = cli_scan(fixture("config_invalid.json"));
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.error.find("at byte 71"), std::string::npos) << s.error;
}

}  // namespace

namespace {

// A whole .keras archive: the host expands the zip and routes config.json, metadata.json and
// model.weights.h5 to the Keras scanner by content.
TEST(KerasCli, KerasArchiveEndToEnd) {
  auto benign = cli_scan(fixture("benign.keras"));
  EXPECT_EQ(benign.exit_code, 0);
  EXPECT_EQ(benign.status, "SCANNED");
  EXPECT_EQ(benign.max_severity, "INFO");

  auto evil = cli_scan(fixture("lambda.keras"));
  EXPECT_EQ(evil.exit_code, 1);
  EXPECT_EQ(evil.max_severity, "CRITICAL");
  EXPECT_EQ(evil.rules.count("KERAS-LAMBDA-LAYER"), 1u);
  bool found = false;
  for (const auto& f : evil.report["files"][0]["findings"])
    if (f["ruleId"] == "KERAS-LAMBDA-LAYER") {
      EXPECT_EQ(f["location"]["members"][0], "config.json");
      found = true;
    }
  EXPECT_TRUE(found);
}

}  // namespace
