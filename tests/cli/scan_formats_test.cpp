// `secmlops scan` output formats and options: SARIF 2.1.0 structure (GitHub code scanning),
// --policy / --allowlist / --option plumbing, exit codes with archives.
#include "host/containers_fixtures.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

namespace {

using nlohmann::json;
using secmlops::test::archive_fixture;
using secmlops::test::run_command;
using ::testing::HasSubstr;

std::string cli(const std::string& args) {
  return std::string(SECMLOPS_CLI) + " --plugin-dir " SECMLOPS_FIXTURE_PLUGIN_DIR " " + args +
         " 2>/dev/null";
}

// Structural SARIF 2.1.0 checks: what GitHub code scanning requires to ingest a file.
void expect_valid_sarif(const json& doc) {
  ASSERT_EQ(doc.at("version"), "2.1.0");
  ASSERT_TRUE(doc.at("$schema").is_string());
  ASSERT_EQ(doc.at("runs").size(), 1u);
  const auto& run = doc["runs"][0];
  const auto& driver = run.at("tool").at("driver");
  EXPECT_EQ(driver.at("name"), "secmlops");
  std::set<std::string> rule_ids;
  for (const auto& r : driver.at("rules")) {
    ASSERT_TRUE(r.at("id").is_string());
    EXPECT_TRUE(r.at("shortDescription").at("text").is_string());
    EXPECT_TRUE(r.at("properties").at("security-severity").is_string());
    rule_ids.insert(r["id"].get<std::string>());
  }
  for (const auto& res : run.at("results")) {
    std::string id = res.at("ruleId");
    EXPECT_TRUE(rule_ids.count(id)) << id;
    EXPECT_EQ(driver["rules"][res.at("ruleIndex").get<size_t>()]["id"], id);
    EXPECT_THAT(res.at("level").get<std::string>(), ::testing::AnyOf("error", "warning", "note"));
    EXPECT_FALSE(res.at("message").at("text").get<std::string>().empty());
    ASSERT_GE(res.at("locations").size(), 1u);
    const auto& phys = res["locations"][0].at("physicalLocation");
    EXPECT_FALSE(phys.at("artifactLocation").at("uri").get<std::string>().empty());
    EXPECT_GE(phys.at("region").at("startLine").get<int>(), 1);
    EXPECT_EQ(res.at("partialFingerprints").at("secmlopsFinding/v1").get<std::string>().size(),
              16u);
  }
  EXPECT_TRUE(run.at("invocations")[0].at("executionSuccessful").is_boolean());
}

TEST(CliScan, SarifForAFileAndAnArchiveMember) {
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto r = run_command(cli("scan --format sarif " + evil.string() + " " +
                           archive_fixture("hidden_member.zip").string()));
  EXPECT_EQ(r.exit_code, 1);
  json doc = json::parse(r.out);
  expect_valid_sarif(doc);
  const auto& results = doc["runs"][0]["results"];
  bool file_level = false, member_level = false, host_anomaly = false;
  for (const auto& res : results) {
    const auto& phys = res["locations"][0]["physicalLocation"];
    if (res["ruleId"] == "FIXTURE-EVIL" &&
        phys["artifactLocation"]["uri"].get<std::string>().find("evil.bin") != std::string::npos) {
      file_level = true;
      EXPECT_EQ(phys["region"]["byteOffset"], 0);
      EXPECT_EQ(res["level"], "error");
    }
    if (res["ruleId"] == "FIXTURE-EVIL" && !res["properties"]["members"].empty()) {
      member_level = true;
      EXPECT_EQ(res["properties"]["members"][0], "hidden [hidden]");
      // Offsets inside a member are not file offsets.
      EXPECT_FALSE(phys["region"].contains("byteOffset"));
    }
    host_anomaly |= res["ruleId"] == "HOST-ZIP-HIDDEN-MEMBER";
  }
  EXPECT_TRUE(file_level);
  EXPECT_TRUE(member_level);
  EXPECT_TRUE(host_anomaly);
  // Fingerprints are stable from run to run.
  auto again = json::parse(run_command(cli("scan --format sarif " + evil.string() + " " +
                                           archive_fixture("hidden_member.zip").string()))
                               .out);
  EXPECT_EQ(again["runs"][0]["results"][0]["partialFingerprints"],
            results[0]["partialFingerprints"]);
}

TEST(CliScan, SarifListsFilesThatCouldNotBeScanned) {
  secmlops::test::TempDir d;
  auto crash = d.write("crash.bin", "CRASH");
  auto r = run_command(cli("scan --format sarif " + crash.string()));
  EXPECT_EQ(r.exit_code, 2);
  json doc = json::parse(r.out);
  expect_valid_sarif(doc);
  const auto& notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0]["message"]["text"].get<std::string>(), HasSubstr("boom at offset 0"));
}

TEST(CliScan, SarifMatchesTheSchemaWhenJsonschemaIsInstalled) {
  if (run_command("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null").exit_code != 0)
    GTEST_SKIP() << "python3-jsonschema not installed; structural checks above cover SARIF";
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto out = d.path() / "out.sarif";
  run_command(cli("scan --format sarif " + evil.string() + " > " + out.string()));
  auto r = run_command(
      "/usr/bin/python3 -c 'import json,sys,jsonschema; "
      "jsonschema.validate(json.load(open(sys.argv[1])), "
      "json.load(open(sys.argv[2])))' " +
      out.string() + " " SECMLOPS_SOURCE_DIR "/tests/cli/sarif_minimal_schema.json");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(CliScan, PolicyAllowlistAndOptionsReachScanners) {
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto policy = d.write("policy.txt", "deny: os.system\n");
  auto r = run_command(cli("scan --format json --option echo_config=1 " + evil.string()));
  EXPECT_THAT(r.out, HasSubstr("\"value\": \"default\""));
  r = run_command(cli("scan --format json --allowlist --policy " + policy.string() +
                      " --option echo_config=1 " + evil.string()));
  EXPECT_THAT(r.out, HasSubstr("\"value\": \"allowlist\""));
  EXPECT_THAT(r.out, HasSubstr("deny: os.system"));
  // --option severity=2 makes the fixture scanner report LOW: below the default threshold.
  EXPECT_EQ(run_command(cli("scan --option severity=2 " + evil.string())).exit_code, 0);
  EXPECT_EQ(run_command(cli("scan --option severity=2 --fail-on low " + evil.string())).exit_code,
            1);
  // Bad usage exits 2.
  EXPECT_EQ(run_command(cli("scan --option novalue " + evil.string())).exit_code, 2);
  EXPECT_EQ(
      run_command(cli("scan --policy " + (d.path() / "missing").string() + " " + evil.string()))
          .exit_code,
      2);
  EXPECT_EQ(run_command(cli("scan --format xml " + evil.string())).exit_code, 2);
}

TEST(CliScan, ExitCodesWithArchives) {
  // A payload inside a member: 1. A truncated archive with nothing found: 2. Both: 1 wins.
  EXPECT_EQ(run_command(cli("scan " + archive_fixture("nested.zip").string())).exit_code, 1);
  EXPECT_EQ(run_command(cli("scan " + archive_fixture("gz_truncated.gz").string())).exit_code, 2);
  EXPECT_EQ(run_command(cli("scan " + archive_fixture("gz_truncated.gz").string() + " " +
                            archive_fixture("nested.zip").string()))
                .exit_code,
            1);
  EXPECT_EQ(run_command(cli("scan " + archive_fixture("benign.zip").string())).exit_code, 0);
  // Host anomalies count against the threshold like any finding.
  EXPECT_EQ(
      run_command(cli("scan --fail-on critical " + archive_fixture("duplicate_names.zip").string()))
          .exit_code,
      1);
  auto text = run_command(cli("scan " + archive_fixture("duplicate_names.zip").string()));
  EXPECT_THAT(text.out, HasSubstr("HOST-ZIP-DUPLICATE-NAME"));
}

}  // namespace
