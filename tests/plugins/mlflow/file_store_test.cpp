// The embedded file store: a run written in MLflow's mlruns/ layout, validated by a Python
// checker that reads it the way MLflow's FileStore does.
#include "reporter.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace secmlops::plugins::mlflow;
using nlohmann::json;

json check_layout(const std::filesystem::path& root) {
  auto r = secmlops::test::run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                                       "/tests/plugins/mlflow/check_file_store.py " +
                                       root.string());
  EXPECT_EQ(r.exit_code, 0);
  return json::parse(r.out);
}

TEST(MlflowFileStore, RunLayoutIsWhatMlflowReads) {
  secmlops::test::TempDir tmp;
  auto artifact = tmp.write("report.json", "{\"summary\": {}}");
  Settings s;
  s.tracking_uri = "file:" + (tmp.path() / "mlruns").string();
  s.user = "ci";
  Reporter r(s);
  std::vector<std::pair<std::string, std::string>> props;
  Sink sink{[](int, const std::string&) {},
            [&](const std::string& k, const std::string& v) { props.emplace_back(k, v); }};
  r.on_event({EventType::RunStart, "security-scans", "scan model.pkl", "", 0, 0, 1700000000000},
             sink);
  r.on_event({EventType::Param, "scan.paths", "model.pkl", "", 0, 0, 0}, sink);
  r.on_event({EventType::Metric, "scan.findings.critical", "", "", 2, 0, 1700000000500}, sink);
  r.on_event({EventType::Metric, "attack/adv_accuracy", "", "", 0.25, 3, 1700000000600}, sink);
  r.on_event({EventType::Metric, "attack/adv_accuracy", "", "", 0.125, 4, 1700000000700}, sink);
  r.on_event({EventType::Tag, "secmlops.scan.verdict", "fail", "", 0, 0, 0}, sink);
  r.on_event({EventType::Dataset, "model.pkl", std::string(64, 'f'), "/m/model.pkl", 0, 0, 0,
              R"({"mlflow_colspec": [{"type": "string", "name": "it's"}]})", R"({"num_rows": 3})"},
             sink);
  r.on_event({EventType::Artifact, "reports", "", artifact.string(), 0, 0, 0}, sink);
  r.on_event({EventType::RunEnd, "", "FAILED", "", 0, 0, 1700000001000}, sink);
  r.flush(sink);
  ASSERT_FALSE(props.empty());
  EXPECT_EQ(props[0].first, "mlflow.run_id");

  json layout = check_layout(tmp.path() / "mlruns");
  json exp;
  for (const auto& e : layout["experiments"])
    if (e["name"] == "security-scans") exp = e;
  ASSERT_EQ(exp["runs"].size(), 1u);
  const auto& run = exp["runs"][0];
  EXPECT_EQ(run["run_id"], props[0].second);
  EXPECT_EQ(run["run_name"], "scan model.pkl");
  EXPECT_EQ(run["status"], 4);  // FAILED
  EXPECT_EQ(run["params"]["scan.paths"], "model.pkl");
  EXPECT_EQ(run["tags"]["secmlops.scan.verdict"], "fail");
  EXPECT_EQ(run["tags"]["mlflow.user"], "ci");
  EXPECT_EQ(run["metrics"]["scan.findings.critical"],
            json::array({json::array({1700000000500, 2.0, 0})}));
  EXPECT_EQ(run["metrics"]["attack/adv_accuracy"].size(), 2u);
  EXPECT_EQ(run["metrics"]["attack/adv_accuracy"][1][2], 4);
  std::ifstream metric_file(tmp.path() / "mlruns" / exp["id"].get<std::string>() / props[0].second /
                            "metrics" / "attack" / "adv_accuracy");
  std::string text((std::istreambuf_iterator<char>(metric_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "1700000000600 0.25 3\n1700000000700 0.125 4\n");
  ASSERT_EQ(run["inputs"].size(), 1u);
  EXPECT_EQ(run["inputs"][0]["digest"], std::string(36, 'f'));
  EXPECT_EQ(run["inputs"][0]["schema"],
            R"({"mlflow_colspec": [{"type": "string", "name": "it's"}]})");
  EXPECT_EQ(run["inputs"][0]["profile"], R"({"num_rows": 3})");
  EXPECT_EQ(run["artifacts"], json::array({"reports/report.json"}));

  // A second run lands in the same experiment.
  Reporter r2(s);
  r2.on_event({EventType::RunStart, "security-scans", "again", "", 0, 0, 0}, sink);
  r2.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, sink);
  r2.flush(sink);
  layout = check_layout(tmp.path() / "mlruns");
  for (const auto& e : layout["experiments"]) {
    if (e["name"] == "security-scans") {
      EXPECT_EQ(e["runs"].size(), 2u);
    }
  }
}

TEST(MlflowFileStore, NamesWithLineBreaksReadBackExactly) {
  // Run names come from file names: YAML must not fold their line breaks into spaces.
  secmlops::test::TempDir tmp;
  Settings s;
  s.tracking_uri = "file:" + (tmp.path() / "mlruns").string();
  s.user = "ci";
  Reporter r(s);
  Sink sink{[](int, const std::string&) {}, [](const std::string&, const std::string&) {}};
  const std::string experiment = "exp\n'two'";
  const std::string name =
      "sign m\n\"<b>\" \\ 'q'\ttab\r\x01 nel\xC2\x85 ls\xE2\x80\xA8 ps\xE2\x80\xA9 \xC3\xA9";
  r.on_event({EventType::RunStart, experiment, name, "", 0, 0, 1700000000000}, sink);
  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 1700000001000}, sink);
  r.flush(sink);
  json layout = check_layout(tmp.path() / "mlruns");
  json exp;
  for (const auto& e : layout["experiments"])
    if (e["name"] == experiment) exp = e;
  ASSERT_EQ(exp["runs"].size(), 1u) << layout.dump();
  EXPECT_EQ(exp["runs"][0]["run_name"], name);
  EXPECT_EQ(exp["runs"][0]["tags"]["mlflow.runName"], name);
}

TEST(MlflowFileStore, CheckerRejectsABrokenLayout) {
  secmlops::test::TempDir tmp;
  tmp.write("mlruns/0/meta.yaml",
            "experiment_id: '0'\nname: Default\nartifact_location: x\nlifecycle_stage: "
            "active\ncreation_time: 1\n");
  tmp.write("mlruns/0/abc/meta.yaml", "run_uuid: abc\nstatus: FINISHED\n");
  auto r = secmlops::test::run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                                       "/tests/plugins/mlflow/check_file_store.py " +
                                       (tmp.path() / "mlruns").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ::testing::HasSubstr("missing"));
}

TEST(MlflowFileStore, SettingsPickTheBackendFromTheUri) {
  Settings s;
  EXPECT_TRUE(s.is_file_store());
  s.tracking_uri = "file:./mlruns";
  EXPECT_TRUE(s.is_file_store());
  EXPECT_EQ(s.file_store_root(), std::filesystem::absolute("mlruns").lexically_normal());
  s.tracking_uri = "/var/mlruns";
  EXPECT_TRUE(s.is_file_store());
  s.tracking_uri = "https://mlflow.example:5000/";
  EXPECT_FALSE(s.is_file_store());
  EXPECT_EQ(s.rest_base(), "https://mlflow.example:5000");
  EXPECT_THROW(parse_settings({{"nope", "1"}}), std::invalid_argument);
  EXPECT_THROW(parse_settings({{"timeout", "soon"}}), std::invalid_argument);
  EXPECT_THROW(parse_settings({{"model_name", "m"}}), std::invalid_argument);
}

}  // namespace
