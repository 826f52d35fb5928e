// End to end: `secmlops scan --mlflow` and `secmlops mlflow sync` as a user runs them, against
// the fake server, the file store and — when MLFLOW_TEST_TRACKING_URI is set — a real server.
#include "core/rest_store.hpp"
#include "fake_server.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

namespace {

using nlohmann::json;
using secmlops::test::run_command;
using ::testing::HasSubstr;

std::string cli(const std::string& env, const std::string& args) {
  return env + " " SECMLOPS_CLI " --plugin-dir " SECMLOPS_FIXTURE_PLUGIN_DIR " " + args;
}

// The run id the CLI printed ("mlflow: run <id> (experiment <id>) <where>").
std::string printed_run_id(const std::string& out) {
  std::smatch m;
  if (std::regex_search(out, m, std::regex("mlflow: run ([0-9a-f]{32})"))) return m[1];
  return "";
}

// Checks a scan run through MLflow's own REST API (works on the fake and on a real server).
void expect_complete_scan_run(const std::string& uri, const std::string& run_id,
                              const std::string& exp) {
  secmlops::plugins::mlflow::HttpClient http({});
  auto r = http.request("GET", uri + "/api/2.0/mlflow/runs/get?run_id=" + run_id, "",
                        "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  json run = json::parse(r.body)["run"];
  EXPECT_EQ(run["info"]["status"], "FINISHED");
  EXPECT_GT(run["info"]["start_time"].get<int64_t>(), 1600000000000);
  std::map<std::string, json> metrics, params, tags;
  for (const auto& m : run["data"]["metrics"]) metrics[m["key"]] = m["value"];
  for (const auto& p : run["data"]["params"]) params[p["key"]] = p["value"];
  for (const auto& t : run["data"]["tags"]) tags[t["key"]] = t["value"];
  EXPECT_EQ(metrics["scan.findings.critical"], 1.0);
  EXPECT_EQ(metrics["scan.files"], 1.0);
  EXPECT_EQ(metrics["scan.findings.total"], 1.0);
  EXPECT_EQ(params["scan.fail_on"], "HIGH");
  EXPECT_EQ(params["scanner.fixture-magic.version"], "1.0.0");
  EXPECT_EQ(tags["secmlops.scan.verdict"], "fail");
  EXPECT_EQ(tags["secmlops.scan.max_severity"], "CRITICAL");
  EXPECT_EQ(tags["mlflow.runName"], "scan evil.bin");
  ASSERT_EQ(run["inputs"]["dataset_inputs"].size(), 1u);
  EXPECT_EQ(run["inputs"]["dataset_inputs"][0]["dataset"]["name"], "evil.bin");
  std::string artifact_uri = run["info"]["artifact_uri"];
  std::string prefix = "mlflow-artifacts:/";
  ASSERT_EQ(artifact_uri.rfind(prefix, 0), 0u) << artifact_uri;
  auto a = http.request("GET",
                        uri + "/api/2.0/mlflow-artifacts/artifacts/" +
                            artifact_uri.substr(prefix.size()) + "/reports/scan-report.json",
                        "", "application/json");
  ASSERT_EQ(a.status, 200);
  EXPECT_THAT(a.body, HasSubstr("FIXTURE-EVIL"));
  (void)exp;
}

TEST(MlflowCli, ScanToATrackingServer) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto r = run_command(cli(
      "SECMLOPS_MLFLOW_SPOOL_DIR=" + (d.path() / "spool").string(),
      "scan --mlflow=" + server.uri() + " --mlflow-experiment cli-e2e " + evil.string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 1);  // the scan's own exit status is kept
  std::string id = printed_run_id(r.out);
  ASSERT_FALSE(id.empty()) << r.out;
  EXPECT_THAT(r.out, HasSubstr(server.uri() + "/#/experiments/"));
  expect_complete_scan_run(server.uri(), id, "cli-e2e");
}

TEST(MlflowCli, ScanToTheDefaultFileStore) {
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto r = run_command("cd " + d.path().string() + " && " +
                       cli("MLFLOW_TRACKING_URI= MLFLOW_EXPERIMENT_NAME=local-scans",
                           "scan evil.bin --mlflow 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_FALSE(printed_run_id(r.out).empty()) << r.out;
  auto check = run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                           "/tests/plugins/mlflow/check_file_store.py " +
                           (d.path() / "mlruns").string());
  ASSERT_EQ(check.exit_code, 0);
  json layout = json::parse(check.out);
  json run;
  for (const auto& e : layout["experiments"])
    if (e["name"] == "local-scans") run = e["runs"][0];
  EXPECT_EQ(run["run_id"], printed_run_id(r.out));
  EXPECT_EQ(run["tags"]["secmlops.scan.verdict"], "fail");
  EXPECT_EQ(run["metrics"]["scan.findings.critical"][0][1], 1.0);
  EXPECT_EQ(run["artifacts"], json::array({"reports/scan-report.json", "reports/scan-report.sarif"}));
}

TEST(MlflowCli, UnreachableServerSpoolsAndSyncDeliversOnce) {
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  std::string env = "SECMLOPS_MLFLOW_SPOOL_DIR=" + (d.path() / "spool").string() +
                    " MLFLOW_HTTP_REQUEST_MAX_RETRIES=1 MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=0.01";
  auto r = run_command(cli(env, "scan --mlflow=http://127.0.0.1:9 " + evil.string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("secmlops mlflow sync"));
  std::filesystem::remove(evil);  // the spool keeps its own copy of the report

  secmlops::test::FakeMlflowServer server;
  auto s = run_command(cli(env, "mlflow sync --spool " + (d.path() / "spool").string() +
                                    " --tracking-uri " + server.uri() + " 2>&1"));
  EXPECT_EQ(s.exit_code, 0) << s.out;
  EXPECT_THAT(s.out, HasSubstr("1 run(s) synced, 0 still spooled"));
  json state = server.state();
  ASSERT_EQ(state["runs"].size(), 1u);
  std::string id = state["runs"].begin().key();
  expect_complete_scan_run(server.uri(), id, "secmlops");
  for (const auto& m : state["runs"][id]["metrics"]) EXPECT_EQ(m["step"], 0);
  EXPECT_EQ(state["runs"][id]["metrics"].size(), 10u);  // each scan metric exactly once

  auto again =
      run_command(cli(env, "mlflow sync --spool " + (d.path() / "spool").string() + " 2>&1"));
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("0 run(s) synced"));
  EXPECT_EQ(server.state()["runs"].size(), 1u);
}

TEST(MlflowCli, AFileIsNotTakenForTheTrackingUri) {
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  // `--mlflow evil.bin`: the file is scanned, the run goes to the default ./mlruns.
  auto r = run_command("cd " + d.path().string() + " && " +
                       cli("MLFLOW_TRACKING_URI=", "scan --mlflow evil.bin 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("FIXTURE-EVIL"));
  EXPECT_THAT(r.out, HasSubstr((d.path() / "mlruns").string()));
  EXPECT_TRUE(std::filesystem::is_regular_file(evil));
}

TEST(MlflowCli, PermanentServerErrorsArePrintedClearly) {
  secmlops::test::FakeMlflowServer server;
  server.post("/_test/configure", {{"auth", true}});
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto r = run_command(cli("SECMLOPS_MLFLOW_SPOOL_DIR=" + (d.path() / "spool").string(),
                           "scan --mlflow=" + server.uri() + " " + evil.string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("HTTP 401"));
  EXPECT_THAT(r.out, HasSubstr("You are not authenticated"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("<html")));
}

// The same end-to-end check against a real MLflow tracking server (>= 2.0, --serve-artifacts).
TEST(MlflowRealServer, ScanRunIsComplete) {
  const char* uri = std::getenv("MLFLOW_TEST_TRACKING_URI");
  if (uri == nullptr || *uri == '\0')
    GTEST_SKIP()
        << "set MLFLOW_TEST_TRACKING_URI=http://host:port to run against a real MLflow server";
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto r = run_command(cli("SECMLOPS_MLFLOW_SPOOL_DIR=" + (d.path() / "spool").string(),
                           "scan --mlflow=" + std::string(uri) +
                               " --mlflow-experiment secmlops-e2e " + evil.string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  std::string id = printed_run_id(r.out);
  ASSERT_FALSE(id.empty()) << r.out;
  expect_complete_scan_run(uri, id, "secmlops-e2e");
}

}  // namespace
