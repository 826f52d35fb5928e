// No result lost: runs that cannot be delivered stay spooled, and `sync` replays them without
// duplicating metric points or runs, even when the server stored a request whose answer was lost.
#include "fake_server.hpp"
#include "recorded_sink.hpp"
#include "reporter.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace {

using namespace secmlops::plugins::mlflow;
using nlohmann::json;
using ::testing::HasSubstr;

using Recorded = secmlops::test::RecordedSink;

Settings settings_for(const std::string& uri, const std::filesystem::path& spool) {
  Settings s;
  s.tracking_uri = uri;
  s.spool_dir = spool;
  s.retry.max_retries = 1;
  s.retry.max_retries_500 = 0;
  s.retry.backoff_base_s = 0.001;
  s.http.timeout_s = 5;
  // Everything is sent at flush, so that the chunks (and the failures injected into them) do not
  // depend on timing; live delivery has its own tests.
  s.batch_interval_s = 60;
  return s;
}

// A run with 3 batches worth of metrics (2500 points), params, a dataset and an artifact.
void report_run(Reporter& r, Recorded& rec, const std::filesystem::path& artifact) {
  auto s = rec.sink();
  r.on_event({EventType::RunStart, "spool-exp", "scan-42", "", 0, 0, 1700000000000}, s);
  r.on_event({EventType::Param, "scanner.pickle.version", "1.2.0", "", 0, 0, 0}, s);
  for (int i = 0; i < 2500; ++i)
    r.on_event({EventType::Metric, "loss", "", "", 1.0 / (i + 1), i, 1700000000000 + i}, s);
  r.on_event({EventType::Tag, "secmlops.verdict", "fail", "", 0, 0, 0}, s);
  r.on_event({EventType::Dataset, "model.pkl", "abc123", "/models/model.pkl", 0, 0, 0}, s);
  r.on_event({EventType::Artifact, "reports", "", artifact.string(), 0, 0, 0}, s);
  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 1700000009000}, s);
  r.flush(s);
}

// Each (key, step, timestamp) exactly once.
void expect_each_point_once(const json& run) {
  std::map<std::tuple<std::string, int64_t, int64_t>, int> seen;
  for (const auto& m : run["metrics"]) seen[{m["key"], m["step"], m["timestamp"]}]++;
  EXPECT_EQ(seen.size(), 2500u);
  for (const auto& [k, n] : seen) EXPECT_EQ(n, 1) << std::get<0>(k) << " step " << std::get<1>(k);
  EXPECT_EQ(run["metrics"].size(), 2500u);
}

json only_run(const json& state) {
  EXPECT_EQ(state["runs"].size(), 1u);
  return state["runs"].begin().value();
}

TEST(MlflowSpool, DeliveredRunsLeaveNothingSpooled) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  auto artifact = tmp.write("scan.json", "{\"files\": []}");
  Reporter r(settings_for(server.uri(), tmp.path() / "spool"), [](double) {});
  Recorded rec;
  report_run(r, rec, artifact);
  EXPECT_EQ(rec.prop("mlflow.spooled"), "");
  EXPECT_THAT(rec.prop("mlflow.run_url"), HasSubstr("/#/experiments/"));
  EXPECT_TRUE(list_spool(tmp.path() / "spool").empty());
  auto run = only_run(server.state());
  expect_each_point_once(run);
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(run["tags"]["secmlops.run_key"].get<std::string>().size(), 32u);
  EXPECT_EQ(run["inputs"].size(), 1u);
  EXPECT_EQ(server.state()["artifacts"].size(), 1u);
}

TEST(MlflowSpool, UnreachableServerSpoolsThenSyncDeliversExactlyOnce) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  auto artifact = tmp.write("scan.json", "{\"files\": []}");
  // The second batch keeps failing (connection resets): batch 0 is in, the rest is not.
  server.inject("mlflow/runs/log-batch", "pass", 1);
  server.inject("mlflow/runs/log-batch", "reset", 100);
  Reporter r(settings_for(server.uri(), tmp.path() / "spool"), [](double) {});
  Recorded rec;
  report_run(r, rec, artifact);
  std::filesystem::remove(artifact);  // the spool holds its own copy
  EXPECT_NE(rec.prop("mlflow.spooled"), "");
  ASSERT_EQ(list_spool(tmp.path() / "spool").size(), 1u);
  // Chunk 0: the param and 995 points (room is kept for the four record tags).
  EXPECT_EQ(only_run(server.state())["metrics"].size(), 995u);
  EXPECT_EQ(only_run(server.state())["status"], "RUNNING");

  server.clear_injections();
  Settings sync = settings_for(server.uri(), tmp.path() / "spool");
  sync.mode = "sync";
  Reporter syncer(sync, [](double) {});
  Recorded srec;
  try {
    syncer.flush(srec.sink());
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what() << ": " << ::testing::PrintToString(srec.logs);
  }
  EXPECT_NE(srec.prop("mlflow.synced"), "");
  EXPECT_TRUE(list_spool(tmp.path() / "spool").empty());
  auto run = only_run(server.state());
  expect_each_point_once(run);
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(run["params"]["scanner.pickle.version"], "1.2.0");
  EXPECT_EQ(server.state()["artifacts"].size(), 1u);

  // A second sync has nothing to do.
  Reporter again(sync, [](double) {});
  Recorded arec;
  again.flush(arec.sink());
  expect_each_point_once(only_run(server.state()));
}

TEST(MlflowSpool, LostAnswersNeitherDuplicatePointsNorRuns) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  auto artifact = tmp.write("scan.json", "{}");
  // The run is created but its answer is lost; later the second batch is stored but its answer
  // is lost too, and the server then stays unreachable.
  server.inject("mlflow/runs/create", "lost", 1);
  server.inject("mlflow/runs/create", "reset", 100);
  Reporter r(settings_for(server.uri(), tmp.path() / "spool"), [](double) {});
  Recorded rec;
  report_run(r, rec, artifact);
  EXPECT_EQ(server.state()["runs"].size(), 1u);
  ASSERT_EQ(list_spool(tmp.path() / "spool").size(), 1u);

  server.clear_injections();
  server.inject("mlflow/runs/log-batch", "pass", 1);
  server.inject("mlflow/runs/log-batch", "lost", 1);
  server.inject("mlflow/runs/log-batch", "reset", 100);
  Settings sync = settings_for(server.uri(), tmp.path() / "spool");
  sync.mode = "sync";
  {
    Reporter syncer(sync, [](double) {});
    Recorded srec;
    EXPECT_THROW(syncer.flush(srec.sink()), MlflowError);  // still unreachable: stays spooled
    EXPECT_NE(srec.prop("mlflow.sync_failed"), "");
  }
  ASSERT_EQ(list_spool(tmp.path() / "spool").size(), 1u);
  server.clear_injections();
  Reporter syncer(sync, [](double) {});
  Recorded srec;
  syncer.flush(srec.sink());
  EXPECT_TRUE(list_spool(tmp.path() / "spool").empty());
  auto run = only_run(server.state());  // the lost create was found by its key, not repeated
  expect_each_point_once(run);
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_GE(server.count_requests("metrics/get-history"), 1);
}

TEST(MlflowSpool, PermanentErrorsKeepTheRunAndSayHowToRecover) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  server.post("/_test/configure",
              {{"auth", true}});  // 401 text/html to requests without credentials
  Reporter r(settings_for(server.uri(), tmp.path() / "spool"), [](double) {});
  Recorded rec;
  auto s = rec.sink();
  r.on_event({EventType::RunStart, "e", "r", "", 0, 0, 0}, s);
  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, s);
  try {
    r.flush(s);
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 401"));
    EXPECT_THAT(e.what(), HasSubstr("MLFLOW_TRACKING_USERNAME"));
    EXPECT_THAT(e.what(), HasSubstr("mlflow sync"));
  }
  EXPECT_EQ(list_spool(tmp.path() / "spool").size(), 1u);
}

TEST(MlflowSpool, ARunWithoutEndIsSyncedAsKilledAndTornLinesAreIgnored) {
  secmlops::test::FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  auto spool = tmp.path() / "spool";
  {
    SpoolWriter w(spool, random_hex32(),
                  {{"version", 1}, {"tracking_uri", server.uri()}, {"experiment", "crash"}});
    w.append({EventType::RunStart, "crash", "died", "", 0, 0, 1700000000000});
    w.append({EventType::Metric, "m", "", "", 1, 0, 1700000000001});
    std::ofstream(w.path(), std::ios::app) << "{\"type\":\"metric\",\"key\":\"m\"";  // torn
  }
  Settings sync = settings_for(server.uri(), spool);
  sync.mode = "sync";
  Reporter syncer(sync, [](double) {});
  Recorded srec;
  syncer.flush(srec.sink());
  auto run = only_run(server.state());
  EXPECT_EQ(run["status"], "KILLED");
  EXPECT_EQ(run["metrics"].size(), 1u);
}

TEST(MlflowSpool, UnsupportedArtifactSchemeIsReportedAndTheRunCompletes) {
  secmlops::test::FakeMlflowServer server;
  server.post("/_test/configure", {{"artifact_root", "s3://bucket/"}});
  secmlops::test::TempDir tmp;
  auto artifact = tmp.write("scan.json", "{}");
  Reporter r(settings_for(server.uri(), tmp.path() / "spool"), [](double) {});
  Recorded rec;
  report_run(r, rec, artifact);
  bool warned = false;
  for (const auto& l : rec.logs) warned |= l.find("'s3' scheme") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_EQ(only_run(server.state())["status"], "FINISHED");
}

TEST(MlflowSpool, ModelVersionGetsTheVerdictTags) {
  secmlops::test::FakeMlflowServer server;
  server.post("/_test/create-model-version", {{"name", "fraud"}, {"version", "2"}});
  secmlops::test::TempDir tmp;
  auto artifact = tmp.write("scan.json", "{}");
  Settings st = settings_for(server.uri(), tmp.path() / "spool");
  st.model_name = "fraud";
  st.model_version = "2";
  Reporter r(st, [](double) {});
  Recorded rec;
  report_run(r, rec, artifact);
  auto tags = server.state()["models"]["fraud/2"];
  EXPECT_EQ(tags["secmlops.verdict"], "fail");
  EXPECT_EQ(tags["secmlops.run_id"], rec.prop("mlflow.run_id"));
}

}  // namespace
