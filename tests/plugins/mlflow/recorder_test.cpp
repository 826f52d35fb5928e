// The host's RunRecorder and record_* helpers through the real mlflow plugin: scan digests even
// when the report has none, exact numeric params, file URIs, previewable SARIF, nested runs.
#include "fake_server.hpp"
#include "secmlops/host/digest.hpp"
#include "secmlops/host/run_recorder.hpp"
#include "secmlops/v1/report.pb.h"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace {

using namespace secmlops::host;
using nlohmann::json;

const Registry& plugins() {
  static Registry* registry = [] {
    auto* r = new Registry();
    r->load_library(std::filesystem::path(SECMLOPS_PLUGIN_DIR) / "secmlops_mlflow.so");
    return r;
  }();
  return *registry;
}

KeyValues file_store(const secmlops::test::TempDir& tmp) {
  return {{"tracking_uri", (tmp.path() / "mlruns").string()}, {"experiment", "recorded"}};
}

// The runs of experiment "recorded", as check_file_store.py reads them.
json runs(const secmlops::test::TempDir& tmp) {
  auto r = secmlops::test::run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                                       "/tests/plugins/mlflow/check_file_store.py " +
                                       (tmp.path() / "mlruns").string());
  EXPECT_EQ(r.exit_code, 0);
  const json layout = json::parse(r.out);  // alive for the whole loop
  for (const auto& e : layout["experiments"])
    if (e["name"] == "recorded") return e["runs"];
  return json::array();
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(MlflowRecorder, ScanRunsCarryDigestsEvenWhenTheReportHasNone) {
  secmlops::test::TempDir tmp;
  auto hashed = tmp.write("given.pkl", "GIVEN");
  auto unhashed = tmp.write("model dir/plain.pkl", "PLAIN");
  secmlops::v1::ScanReport report;
  auto* a = report.add_files();
  a->set_path(hashed.string());
  a->set_sha256(sha256_file(hashed));
  auto* b = report.add_files();
  b->set_path(unhashed.string());  // no digest in the report: the file is hashed
  auto* gone = report.add_files();
  gone->set_path((tmp.path() / "vanished.pkl").string());  // no digest, no file: left out
  RunRecorder run(plugins(), file_store(tmp));
  run.start("", "scan");
  record_scan(run, report, plugins(), "HIGH", "pass");
  run.finish();
  json r = runs(tmp)[0];
  std::map<std::string, json> inputs;
  for (const auto& in : r["inputs"]) inputs[in["name"]] = in;
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_EQ(inputs["given.pkl"]["digest"], sha256_file(hashed).substr(0, 36));
  EXPECT_EQ(inputs["plain.pkl"]["digest"], sha256_file(unhashed).substr(0, 36));
  EXPECT_EQ(inputs["plain.pkl"]["tags"]["secmlops.digest"], sha256_file(unhashed));
  EXPECT_EQ(json::parse(inputs["plain.pkl"]["source"].get<std::string>())["uri"],
            "file://" + (tmp.path() / "model%20dir/plain.pkl").string());
  std::string paths = r["params"]["scan.paths"];
  EXPECT_EQ(paths, "file://" + hashed.string() + ",file://" +
                       (tmp.path() / "model%20dir/plain.pkl").string() + ",file://" +
                       (tmp.path() / "vanished.pkl").string());
}

TEST(MlflowRecorder, NumericParamsAreExact) {
  secmlops::test::TempDir tmp;
  secmlops::v1::AttackReport report;
  report.set_attack("pgd");
  report.set_model("mlp");
  (*report.mutable_params())["eps_step"] = "0.10000000000000001";  // {:.17g} of 0.1
  (*report.mutable_params())["max_iter"] = "40";
  (*report.mutable_params())["seed"] = "18446744073709551615";
  for (double eps : {1e-7, 0.05, 0.3}) report.add_curve()->set_eps(eps);
  RunRecorder run(plugins(), file_store(tmp));
  run.start("", "attack");
  record_attack(run, report);
  run.param_number("learning_rate", 1.0 / 3);
  run.finish();
  json r = runs(tmp)[0];
  EXPECT_EQ(r["params"]["attack.eps"], "1e-07,0.05,0.3");
  EXPECT_EQ(r["params"]["attack.param.eps_step"], "0.1");
  EXPECT_EQ(r["params"]["attack.param.max_iter"], "40");
  EXPECT_EQ(r["params"]["attack.param.seed"], "18446744073709551615");
  EXPECT_EQ(r["params"]["learning_rate"], "0.3333333333333333");
  EXPECT_EQ(std::stod(r["params"]["learning_rate"].get<std::string>()), 1.0 / 3);
  EXPECT_EQ(r["metrics"]["attack.eps"].size(), 3u);
  EXPECT_EQ(number_text(0.1 + 0.2), "0.30000000000000004");
}

TEST(MlflowRecorder, LiveCurvePointsKeepTheirOwnTimestamps) {
  secmlops::test::TempDir tmp;
  secmlops::v1::AttackReport report;
  report.set_attack("pgd");
  RunRecorder run(plugins(), file_store(tmp));
  run.start("", "attack");
  for (int i = 0; i < 3; ++i) {
    auto* p = report.add_curve();
    p->set_eps(0.1 * (i + 1));
    record_attack_point(run, i, *p);  // as AttackRequest::on_point would, while the attack runs
  }
  record_attack(run, report, true);
  run.metric_at("custom", 1.5, 7, 1700000000123);
  run.finish();
  json r = runs(tmp)[0];
  ASSERT_EQ(r["metrics"]["attack.eps"].size(), 3u);  // not logged twice
  EXPECT_EQ(r["metrics"]["attack.eps"][2][2], 2);
  EXPECT_EQ(r["metrics"]["custom"], json::array({json::array({1700000000123, 1.5, 7})}));
}

TEST(MlflowRecorder, SarifIsAlsoLoggedUnderANameMlflowPreviews) {
  secmlops::test::TempDir tmp;
  secmlops::v1::ScanReport report;
  report.add_files()->set_path("model.pkl");
  RunRecorder run(plugins(), file_store(tmp));
  run.start("", "scan");
  record_scan_reports(run, report);
  run.finish();
  json r = runs(tmp)[0];
  EXPECT_EQ(r["artifacts"], json::array({"reports/scan-report.json", "reports/scan-report.sarif",
                                         "reports/scan-report.sarif.json"}));
  auto dir = std::filesystem::path(run.run_location()) / "artifacts" / "reports";
  EXPECT_EQ(read(dir / "scan-report.sarif.json"), read(dir / "scan-report.sarif"));
  EXPECT_EQ(json::parse(read(dir / "scan-report.sarif.json"))["version"], "2.1.0");
  EXPECT_EQ(json::parse(read(dir / "scan-report.json"))["files"][0]["path"], "model.pkl");
}

TEST(MlflowRecorder, RunIdIsKnownRightAfterStartAndNestsAChild) {
  secmlops::test::TempDir tmp;
  RunRecorder parent(plugins(), file_store(tmp));
  parent.start("", "pipeline");
  ASSERT_EQ(parent.run_id().size(), 32u);
  EXPECT_FALSE(parent.experiment_id().empty());
  EXPECT_EQ(std::filesystem::path(parent.run_location()).filename(), parent.run_id());
  RunRecorder child(plugins(), file_store(tmp));
  child.start("", "step: scan", parent.run_id());
  child.finish();
  parent.finish();
  for (const auto& r : runs(tmp)) {
    if (r["run_id"] == child.run_id()) {
      EXPECT_EQ(r["tags"]["mlflow.parentRunId"], parent.run_id());
    }
  }
}

TEST(MlflowRecorder, OverRestTheRunIsRunningWithItsIdRightAfterStart) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  KeyValues config = {{"tracking_uri", server.uri()},
                      {"experiment", "recorded"},
                      {"spool_dir", (tmp.path() / "spool").string()}};
  RunRecorder parent(plugins(), config);
  parent.start("", "pipeline");
  ASSERT_EQ(parent.run_id().size(), 32u);
  EXPECT_EQ(parent.run_location(),
            server.uri() + "/#/experiments/" + parent.experiment_id() + "/runs/" + parent.run_id());
  EXPECT_EQ(server.state()["runs"][parent.run_id()]["status"], "RUNNING");
  RunRecorder child(plugins(), config);
  child.start("", "step: attack", parent.run_id());
  child.finish();
  json state = server.state();
  EXPECT_EQ(state["runs"][child.run_id()]["tags"]["mlflow.parentRunId"], parent.run_id());
  EXPECT_EQ(state["runs"][child.run_id()]["status"], "FINISHED");
  EXPECT_EQ(state["runs"][parent.run_id()]["status"], "RUNNING");
  parent.finish("FAILED");
  EXPECT_EQ(server.state()["runs"][parent.run_id()]["status"], "FAILED");
}

}  // namespace
