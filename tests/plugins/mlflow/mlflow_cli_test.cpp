// End to end: `secmlops scan --mlflow` and `secmlops mlflow sync` as a user runs them, against
// the fake server, the file store and — when MLFLOW_TEST_TRACKING_URI is set — a real server.
#include "fake_server.hpp"
#include "reporter.hpp"
#include "rest_store.hpp"
#include "secmlops/host/digest.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <thread>

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

json get(const std::string& url) {
  secmlops::plugins::mlflow::HttpClient http({});
  auto r = http.request("GET", url, "", "application/json");
  EXPECT_EQ(r.status, 200) << url << ": " << r.body;
  return json::parse(r.body, nullptr, false);
}

std::string download(const std::string& uri, const std::string& artifact_uri,
                     const std::string& path) {
  const std::string prefix = "mlflow-artifacts:/";
  EXPECT_EQ(artifact_uri.rfind(prefix, 0), 0u) << artifact_uri;
  secmlops::plugins::mlflow::HttpClient http({});
  auto a = http.request("GET",
                        uri + "/api/2.0/mlflow-artifacts/artifacts/" +
                            artifact_uri.substr(prefix.size()) + "/" + path,
                        "", "application/json");
  EXPECT_EQ(a.status, 200) << path;
  return a.body;
}

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Checks a scan run of `scanned` through MLflow's own REST API, as MLflow's client would show it
// (works on the fake and on a real server). `report_json`: the scan's --format json output, which
// the reports/scan-report.json artifact must equal byte for byte ("" to skip).
void expect_complete_scan_run(const std::string& uri, const std::string& run_id,
                              const std::string& exp, const std::filesystem::path& scanned,
                              const std::string& report_json = "") {
  json run = get(uri + "/api/2.0/mlflow/runs/get?run_id=" + run_id)["run"];
  const json& info = run["info"];
  EXPECT_EQ(info["status"], "FINISHED");
  EXPECT_EQ(info["run_name"], "scan evil.bin");
  int64_t start = info["start_time"].get<int64_t>(), end = info["end_time"].get<int64_t>();
  EXPECT_GT(start, 1600000000000);
  EXPECT_GE(end, start);
  json experiment = get(uri + "/api/2.0/mlflow/experiments/get?experiment_id=" +
                        info["experiment_id"].get<std::string>())["experiment"];
  EXPECT_EQ(experiment["name"], exp);
  std::map<std::string, json> metrics, params, tags;
  for (const auto& m : run["data"]["metrics"]) metrics[m["key"]] = m["value"];
  for (const auto& p : run["data"]["params"]) params[p["key"]] = p["value"];
  for (const auto& t : run["data"]["tags"]) tags[t["key"]] = t["value"];
  EXPECT_EQ(metrics["scan.findings.critical"], 1.0);
  EXPECT_EQ(metrics["scan.files"], 1.0);
  EXPECT_EQ(metrics["scan.findings.total"], 1.0);
  EXPECT_EQ(params["scan.fail_on"], "HIGH");
  EXPECT_EQ(params["scan.paths"], "file://" + scanned.string());
  EXPECT_EQ(params["scanner.fixture-magic.version"], "1.0.0");
  EXPECT_EQ(tags["secmlops.scan.verdict"], "fail");
  EXPECT_EQ(tags["secmlops.scan.max_severity"], "CRITICAL");
  EXPECT_EQ(tags["mlflow.runName"], "scan evil.bin");
  EXPECT_FALSE(tags["mlflow.user"].get<std::string>().empty());  // "Created by"
  // The metric history: one point at step 0, stamped while the run ran.
  json history = get(uri + "/api/2.0/mlflow/metrics/get-history?run_id=" + run_id +
                     "&metric_key=scan.findings.critical")["metrics"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["step"].get<int64_t>(), 0);
  EXPECT_GE(history[0]["timestamp"].get<int64_t>(), start);
  EXPECT_LE(history[0]["timestamp"].get<int64_t>(), end);
  // The scanned file as a dataset input with its digest and an absolute file:// source.
  ASSERT_EQ(run["inputs"]["dataset_inputs"].size(), 1u);
  const json& dataset = run["inputs"]["dataset_inputs"][0]["dataset"];
  const std::string sha = secmlops::host::sha256_file(scanned);
  EXPECT_EQ(dataset["name"], "evil.bin");
  EXPECT_EQ(dataset["digest"], sha.substr(0, 36));
  EXPECT_EQ(json::parse(dataset["source"].get<std::string>())["uri"], "file://" + scanned.string());
  EXPECT_EQ(run["inputs"]["dataset_inputs"][0]["tags"][0]["value"], sha);
  // Every artifact, byte for byte.
  const std::string artifacts = info["artifact_uri"];
  std::string report = download(uri, artifacts, "reports/scan-report.json");
  EXPECT_THAT(report, HasSubstr("FIXTURE-EVIL"));
  if (!report_json.empty()) {
    EXPECT_EQ(report, report_json);
  }
  std::string sarif = download(uri, artifacts, "reports/scan-report.sarif");
  EXPECT_EQ(download(uri, artifacts, "reports/scan-report.sarif.json"), sarif);
  EXPECT_EQ(json::parse(sarif)["version"], "2.1.0");
}

// A run produced live through the reporter core: RUNNING with its metrics while it runs, the
// metric history with steps and timestamps, dataset digests and artifact bytes once it ended.
void expect_live_run(const std::string& uri) {
  using namespace secmlops::plugins::mlflow;
  secmlops::test::TempDir d;
  Settings s;
  s.tracking_uri = uri;
  s.experiment = "secmlops-live";
  s.spool_dir = d.path() / "spool";
  s.user = "e2e";
  s.batch_interval_s = 0.2;
  Reporter r(s);
  std::vector<std::pair<std::string, std::string>> props;
  Sink sink{[](int, const std::string&) {},
            [&](const std::string& k, const std::string& v) { props.emplace_back(k, v); }};
  int64_t t0 = now_millis();
  r.on_event({EventType::RunStart, "", "live attack", "", 0, 0, t0}, sink);
  ASSERT_FALSE(props.empty());
  std::string id = props[0].second;
  auto run = [&] { return get(uri + "/api/2.0/mlflow/runs/get?run_id=" + id)["run"]; };
  EXPECT_EQ(run()["info"]["status"], "RUNNING");
  EXPECT_EQ(run()["info"]["run_name"], "live attack");
  EXPECT_EQ(get(uri + "/api/2.0/mlflow/experiments/get?experiment_id=" +
                run()["info"]["experiment_id"].get<std::string>())["experiment"]["name"],
            "secmlops-live");
  std::vector<std::pair<int64_t, int64_t>> sent;  // (step, timestamp)
  for (int step = 0; step < 5; ++step) {
    int64_t ts = t0 + 1000 * (step + 1);
    sent.emplace_back(step, ts);
    r.on_event({EventType::Metric, "attack.success_rate", "", "", 0.1 * step, step, ts}, sink);
  }
  auto history = [&] {
    return get(uri + "/api/2.0/mlflow/metrics/get-history?run_id=" + id +
               "&metric_key=attack.success_rate")["metrics"];
  };
  for (int i = 0; i < 100 && history().size() < sent.size(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(run()["info"]["status"], "RUNNING");  // the points are there while it runs
  std::vector<std::pair<int64_t, int64_t>> got;
  for (const auto& m : history())
    got.emplace_back(m["step"].get<int64_t>(), m["timestamp"].get<int64_t>());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, sent);
  auto data = d.write("data.csv", "x,y\n1,2\n");
  auto adv = d.write("adversarial.csv", std::string(100000, 'a') + "\n");
  std::string sha = secmlops::host::sha256_file(data);
  r.on_event({EventType::Dataset, "data.csv", sha, data.string(), 0, 0, 0}, sink);
  r.on_event({EventType::Artifact, "adversarial", "", adv.string(), 0, 0, 0}, sink);
  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, sink);
  r.flush(sink);
  json done = run();
  EXPECT_EQ(done["info"]["status"], "FINISHED");
  EXPECT_GE(done["info"]["end_time"].get<int64_t>(), t0);
  ASSERT_EQ(done["inputs"]["dataset_inputs"].size(), 1u);
  EXPECT_EQ(done["inputs"]["dataset_inputs"][0]["dataset"]["digest"], sha.substr(0, 36));
  EXPECT_EQ(download(uri, done["info"]["artifact_uri"], "adversarial/adversarial.csv"),
            file_text(adv));
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
  expect_complete_scan_run(server.uri(), id, "cli-e2e", evil);
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
  EXPECT_EQ(run["artifacts"], json::array({"reports/scan-report.json", "reports/scan-report.sarif",
                                           "reports/scan-report.sarif.json"}));
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
  d.write("evil.bin", "EVIL");  // the same bytes again, to check the digest against
  expect_complete_scan_run(server.uri(), id, "secmlops", evil);
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

TEST(MlflowCli, ScanRunIsCreatedByTheLoginNameWithoutUser) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto r =
      run_command(cli("env -u USER -u LOGNAME -u LNAME -u USERNAME SECMLOPS_MLFLOW_SPOOL_DIR=" +
                          (d.path() / "spool").string(),
                      "scan --mlflow=" + server.uri() + " " + evil.string() + " 2>&1"));
  std::string id = printed_run_id(r.out);
  ASSERT_FALSE(id.empty()) << r.out;
  json run = server.state()["runs"][id];
  const passwd* pw = ::getpwuid(::getuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(run["tags"]["mlflow.user"], pw->pw_name);
  EXPECT_EQ(run["user_id"], pw->pw_name);
}

TEST(MlflowCli, LiveRunOnTheFakeServer) {
  secmlops::test::FakeMlflowServer server;
  expect_live_run(server.uri());
}

// A scan through the CLI with its JSON report on stdout; returns (run id, stdout).
std::pair<std::string, std::string> scan_to(const std::string& uri,
                                            const secmlops::test::TempDir& d,
                                            const std::filesystem::path& file) {
  auto err = d.path() / "stderr.txt";
  auto r =
      run_command(cli("SECMLOPS_MLFLOW_SPOOL_DIR=" + (d.path() / "spool").string(),
                      "scan --format json --mlflow=" + uri + " --mlflow-experiment secmlops-e2e " +
                          file.string() + " 2>" + err.string()));
  EXPECT_EQ(r.exit_code, 1);
  return {printed_run_id(file_text(err)), r.out};
}

TEST(MlflowCli, ScanReportArtifactIsTheJsonTheCommandPrinted) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto [id, out] = scan_to(server.uri(), d, evil);
  ASSERT_FALSE(id.empty());
  expect_complete_scan_run(server.uri(), id, "secmlops-e2e", evil, out);
}

// A run of the CLI on `uri`; returns its run id (from stderr) and fails the test on a bad exit.
std::string cli_run(const std::string& uri, const secmlops::test::TempDir& d,
                    const std::string& args) {
  auto err = d.path() / "stderr.txt";
  auto r = run_command(cli("SECMLOPS_MLFLOW_SPOOL_DIR=" + (d.path() / "spool").string(),
                           args + " --mlflow=" + uri +
                               " --mlflow-experiment secmlops-e2e >/dev/null 2>" + err.string()));
  EXPECT_EQ(r.exit_code, 0) << file_text(err);
  return printed_run_id(file_text(err));
}

// The dataset input of a finished run: its digest, absolute source, schema (MLflow's colspec of
// the CSV's columns) and profile (rows, full digest, personal data found).
void expect_dataset(const json& run, const std::filesystem::path& file,
                    const std::vector<std::string>& columns, int rows) {
  ASSERT_EQ(run["inputs"]["dataset_inputs"].size(), 1u);
  const json& dataset = run["inputs"]["dataset_inputs"][0]["dataset"];
  const std::string sha = secmlops::host::sha256_file(file);
  EXPECT_EQ(dataset["name"], file.filename().string());
  EXPECT_EQ(dataset["digest"], sha.substr(0, 36));
  EXPECT_EQ(json::parse(dataset["source"].get<std::string>())["uri"], "file://" + file.string());
  ASSERT_TRUE(dataset.contains("schema") && dataset.contains("profile")) << dataset.dump();
  std::vector<std::string> names;
  const json schema = json::parse(dataset["schema"].get<std::string>());
  for (const auto& c : schema["mlflow_colspec"]) names.push_back(c["name"]);
  EXPECT_EQ(names, columns);
  json profile = json::parse(dataset["profile"].get<std::string>());
  EXPECT_EQ(profile["num_rows"], rows);
  EXPECT_EQ(profile["sha256"], sha);
  EXPECT_EQ(profile["personal_data"], false);
}

// `train` then `attack` with --mlflow: both runs complete with the data's digest, the model and
// the adversarial examples byte for byte, and the robustness curve as a metric history whose
// points were stamped while the attack ran.
void expect_train_and_attack_runs(const std::string& uri) {
  secmlops::test::TempDir d;
  std::string csv = "income,debt,verdict\n";
  for (int i = 0; i < 200; ++i)
    csv += std::to_string(0.3 + 0.4 * (i % 2) + 0.001 * (i % 17)) + "," +
           std::to_string(0.7 - 0.4 * (i % 2) + 0.002 * (i % 13)) + "," + (i % 2 ? "good" : "bad") +
           "\n";
  auto data = d.write("data.csv", csv);
  auto model = d.path() / "m.onnx", adv = d.path() / "adv.csv";
  std::string train_id = cli_run(
      uri, d,
      "train --model logreg --data " + data.string() + " --label verdict --out " + model.string());
  ASSERT_FALSE(train_id.empty());
  json train = get(uri + "/api/2.0/mlflow/runs/get?run_id=" + train_id)["run"];
  EXPECT_EQ(train["info"]["status"], "FINISHED");
  expect_dataset(train, data, {"income", "debt", "verdict"}, 200);
  EXPECT_EQ(download(uri, train["info"]["artifact_uri"], "model/m.onnx"), file_text(model));

  std::string attack_id =
      cli_run(uri, d,
              "attack --model " + model.string() + " --attack fgsm --eps 0.05,0.1,0.2 --data " +
                  data.string() + " --label verdict --out " + adv.string());
  ASSERT_FALSE(attack_id.empty());
  json attack = get(uri + "/api/2.0/mlflow/runs/get?run_id=" + attack_id)["run"];
  EXPECT_EQ(attack["info"]["status"], "FINISHED");
  expect_dataset(attack, data, {"income", "debt", "verdict"}, 200);
  EXPECT_EQ(download(uri, attack["info"]["artifact_uri"], "adversarial/adv.csv"), file_text(adv));
  std::map<std::string, json> params;
  for (const auto& p : attack["data"]["params"]) params[p["key"]] = p["value"];
  EXPECT_EQ(params["attack.eps"], "0.05,0.1,0.2");
  json curve = get(uri + "/api/2.0/mlflow/metrics/get-history?run_id=" + attack_id +
                   "&metric_key=attack.adversarial_accuracy")["metrics"];
  ASSERT_EQ(curve.size(), 3u);
  std::vector<std::pair<int64_t, int64_t>> points;
  for (const auto& m : curve)
    points.emplace_back(m["step"].get<int64_t>(), m["timestamp"].get<int64_t>());
  std::sort(points.begin(), points.end());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].first, static_cast<int64_t>(i));
    EXPECT_GE(points[i].second, attack["info"]["start_time"].get<int64_t>());
    EXPECT_LE(points[i].second, attack["info"]["end_time"].get<int64_t>());
    if (i > 0) {
      EXPECT_GE(points[i].second, points[i - 1].second);
    }
  }
}

TEST(MlflowCli, TrainAndAttackRunsOnTheFakeServer) {
  secmlops::test::FakeMlflowServer server;
  expect_train_and_attack_runs(server.uri());
}

// The same end-to-end checks against a real MLflow tracking server (>= 2.0, --serve-artifacts).
std::string real_server() {
  const char* uri = std::getenv("MLFLOW_TEST_TRACKING_URI");
  return uri == nullptr ? "" : uri;
}

TEST(MlflowRealServer, ScanRunIsComplete) {
  if (real_server().empty())
    GTEST_SKIP()
        << "set MLFLOW_TEST_TRACKING_URI=http://host:port to run against a real MLflow server";
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto [id, out] = scan_to(real_server(), d, evil);
  ASSERT_FALSE(id.empty());
  expect_complete_scan_run(real_server(), id, "secmlops-e2e", evil, out);
}

TEST(MlflowRealServer, TrainAndAttackRunsAreComplete) {
  if (real_server().empty())
    GTEST_SKIP()
        << "set MLFLOW_TEST_TRACKING_URI=http://host:port to run against a real MLflow server";
  expect_train_and_attack_runs(real_server());
}

TEST(MlflowRealServer, LiveRunIsVisibleWhileItRuns) {
  if (real_server().empty())
    GTEST_SKIP()
        << "set MLFLOW_TEST_TRACKING_URI=http://host:port to run against a real MLflow server";
  expect_live_run(real_server());
}

}  // namespace
