// Live delivery over REST: the run exists from RUN_START, events reach the server in log-batch
// chunks while the run is produced, nested runs carry their parent, one retry budget bounds a
// delivery, and whatever fails is caught by the spool without loss or duplicates.
#include "fake_server.hpp"
#include "recorded_sink.hpp"
#include "reporter.hpp"
#include "support/run_command.hpp"
#include "support/scoped_env.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pwd.h>
#include <unistd.h>

#include <map>
#include <thread>

namespace {

using namespace secmlops::plugins::mlflow;
using nlohmann::json;
using secmlops::test::FakeMlflowServer;
using secmlops::test::RecordedSink;
using secmlops::test::ScopedEnv;
using ::testing::HasSubstr;

Settings live_settings(const std::string& uri, const std::filesystem::path& spool) {
  Settings s;
  s.tracking_uri = uri;
  s.spool_dir = spool;
  s.user = "ci-user";
  s.retry.max_retries = 3;
  s.retry.max_retries_500 = 1;
  s.retry.backoff_base_s = 0.001;
  s.http.timeout_s = 5;
  s.batch_interval_s = 0.2;
  return s;
}

int log_batches(FakeMlflowServer& server) { return server.count_requests("runs/log-batch"); }

// API requests (not the test controls) the server received after the first `skip` requests.
int api_requests_after(FakeMlflowServer& server, size_t skip) {
  const json all = server.state();
  int n = 0;
  for (size_t i = skip; i < all["requests"].size(); ++i)
    if (all["requests"][i]["path"].get<std::string>().rfind("/api/", 0) == 0) ++n;
  return n;
}

Settings file_settings(const secmlops::test::TempDir& tmp) {
  Settings s;
  s.tracking_uri = "file:" + (tmp.path() / "mlruns").string();
  return s;
}

// The runs of `experiment` in the file store of `tmp`, as check_file_store.py reads them.
json file_store_runs(const secmlops::test::TempDir& tmp, const std::string& experiment) {
  auto r = secmlops::test::run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                                       "/tests/plugins/mlflow/check_file_store.py " +
                                       (tmp.path() / "mlruns").string());
  EXPECT_EQ(r.exit_code, 0);
  const json layout = json::parse(r.out);  // alive for the whole loop
  for (const auto& e : layout["experiments"])
    if (e["name"] == experiment) return e["runs"];
  return json::array();
}

// Polls until `ok(state)` holds, for up to 10 s.
template <class F>
bool eventually(FakeMlflowServer& server, F ok) {
  for (int i = 0; i < 200; ++i) {
    if (ok(server.state())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(MlflowLive, RunIsRunningFromTheStartAndMetricsArriveAsTheyAreProduced) {
  FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  Reporter r(live_settings(server.uri(), tmp.path() / "spool"));
  RecordedSink rec;
  auto sink = rec.sink();
  int64_t t0 = now_millis();
  r.on_event({EventType::RunStart, "live", "pgd curve", "", 0, 0, t0}, sink);
  // The run exists as soon as RUN_START returns, with its id handed to the host.
  std::string id = rec.prop("mlflow.run_id");
  ASSERT_EQ(id.size(), 32u);
  EXPECT_THAT(rec.prop("mlflow.run_url"), HasSubstr("/runs/" + id));
  json run = server.state()["runs"][id];
  EXPECT_EQ(run["status"], "RUNNING");
  EXPECT_EQ(run["start_time"], t0);
  EXPECT_EQ(run["user_id"], "ci-user");
  EXPECT_EQ(run["tags"]["mlflow.user"], "ci-user");

  // A 40-step PGD loss curve for each of 5 eps, then the eps's summary metric.
  std::map<int64_t, int64_t> stamp_of_step;
  r.on_event({EventType::Param, "attack.max_iter", "40", "", 0, 0, 0}, sink);
  for (int e = 0; e < 5; ++e) {
    for (int s = 0; s < 40; ++s) {
      int64_t step = e * 40 + s, ts = now_millis();
      stamp_of_step[step] = ts;
      r.on_event({EventType::Metric, "attack.pgd.loss", "", "", 1.0 / (1 + s), step, ts}, sink);
    }
    r.on_event({EventType::Metric, "attack.success_rate", "", "", 0.2 * e, e, 0}, sink);
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  // Everything is on the server while the run is still RUNNING.
  ASSERT_TRUE(
      eventually(server, [&](const json& st) { return st["runs"][id]["metrics"].size() == 205u; }));
  run = server.state()["runs"][id];
  EXPECT_EQ(run["status"], "RUNNING");
  EXPECT_EQ(run["params"]["attack.max_iter"], "40");
  for (const auto& m : run["metrics"])
    if (m["key"] == "attack.pgd.loss") {
      EXPECT_EQ(m["timestamp"], stamp_of_step[m["step"].get<int64_t>()]) << m.dump();
    }
  // Batched: a handful of requests, not one per point.
  EXPECT_LE(log_batches(server), 8);

  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, sink);
  r.flush(sink);
  run = server.state()["runs"][id];
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_GE(run["end_time"].get<int64_t>(), t0);
  EXPECT_EQ(run["metrics"].size(), 205u);
  EXPECT_EQ(rec.prop("mlflow.spooled"), "");
  EXPECT_TRUE(list_spool(tmp.path() / "spool").empty());
}

TEST(MlflowLive, ANestedRunCarriesItsParentOverRest) {
  FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  RecordedSink parent_rec, child_rec;
  Reporter parent(live_settings(server.uri(), tmp.path() / "spool"));
  parent.on_event({EventType::RunStart, "pipelines", "pipeline", "", 0, 0, 0}, parent_rec.sink());
  std::string parent_id = parent_rec.prop("mlflow.run_id");
  ASSERT_FALSE(parent_id.empty());
  {
    Reporter child(live_settings(server.uri(), tmp.path() / "spool"));
    auto s = child_rec.sink();
    child.on_event({EventType::RunStart, "pipelines", "step 1: scan", "", 0, 0, 0}, s);
    child.on_event({EventType::Tag, "mlflow.parentRunId", parent_id, "", 0, 0, 0}, s);
    child.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, s);
    child.flush(s);
  }
  parent.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, parent_rec.sink());
  parent.flush(parent_rec.sink());
  json state = server.state();
  json child_run = state["runs"][child_rec.prop("mlflow.run_id")];
  EXPECT_EQ(child_run["tags"]["mlflow.parentRunId"], parent_id);
  EXPECT_EQ(child_run["experiment_id"], state["runs"][parent_id]["experiment_id"]);
  EXPECT_EQ(state["runs"][parent_id]["status"], "FINISHED");
}

TEST(MlflowLive, ANestedRunCarriesItsParentInTheFileStore) {
  secmlops::test::TempDir tmp;
  RecordedSink parent_rec, child_rec;
  Reporter parent(file_settings(tmp)), child(file_settings(tmp));
  parent.on_event({EventType::RunStart, "pipelines", "pipeline", "", 0, 0, 0}, parent_rec.sink());
  std::string parent_id = parent_rec.prop("mlflow.run_id");
  child.on_event({EventType::RunStart, "pipelines", "step 1", "", 0, 0, 0}, child_rec.sink());
  child.on_event({EventType::Tag, "mlflow.parentRunId", parent_id, "", 0, 0, 0}, child_rec.sink());
  child.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, child_rec.sink());
  parent.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, parent_rec.sink());
  json runs = file_store_runs(tmp, "pipelines");
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& run : runs) {
    if (run["run_id"] == child_rec.prop("mlflow.run_id")) {
      EXPECT_EQ(run["tags"]["mlflow.parentRunId"], parent_id);
    } else {
      EXPECT_EQ(run["run_id"], parent_id);
    }
  }
}

TEST(MlflowLive, TheFileStoreShowsEventsAsTheyArrive) {
  secmlops::test::TempDir tmp;
  Reporter r(file_settings(tmp));
  RecordedSink rec;
  r.on_event({EventType::RunStart, "e", "r", "", 0, 0, 0}, rec.sink());
  r.on_event({EventType::Metric, "loss", "", "", 0.5, 3, 1700000000000}, rec.sink());
  std::ifstream metric(std::filesystem::path(rec.prop("mlflow.run_dir")) / "metrics" / "loss");
  std::string line;
  std::getline(metric, line);
  EXPECT_EQ(line, "1700000000000 0.5 3");
}

TEST(MlflowLive, AServerDyingMidRunCostsOneRetryBudgetThenTheSpoolCatchesEverything) {
  FakeMlflowServer server;
  secmlops::test::TempDir tmp;
  std::vector<double> sleeps;
  Settings st = live_settings(server.uri(), tmp.path() / "spool");
  Reporter r(st, [&](double d) { sleeps.push_back(d); });
  RecordedSink rec;
  auto sink = rec.sink();
  r.on_event({EventType::RunStart, "outage", "r", "", 0, 0, 0}, sink);
  std::string id = rec.prop("mlflow.run_id");
  for (int i = 0; i < 50; ++i)
    r.on_event({EventType::Metric, "m", "", "", i * 1.0, i, 1700000000000 + i}, sink);
  ASSERT_TRUE(
      eventually(server, [&](const json& s) { return s["runs"][id]["metrics"].size() == 50u; }));
  size_t before = server.state()["requests"].size();
  // Every API call now has its connection reset: the server is gone.
  server.inject("mlflow/", "reset", 100000);
  for (int i = 50; i < 1500; ++i)
    r.on_event({EventType::Metric, "m", "", "", i * 1.0, i, 1700000000000 + i}, sink);
  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, sink);
  r.flush(sink);
  EXPECT_NE(rec.prop("mlflow.spooled"), "");
  // One budget for the whole delivery: 1 attempt + 3 retries, get-history included.
  EXPECT_LE(api_requests_after(server, before), 1 + st.retry.max_retries);
  EXPECT_LE(sleeps.size(), static_cast<size_t>(st.retry.max_retries));
  EXPECT_EQ(server.state()["runs"][id]["status"], "RUNNING");

  server.clear_injections();
  Settings sync = st;
  sync.mode = "sync";
  Reporter syncer(sync, [](double) {});
  RecordedSink srec;
  syncer.flush(srec.sink());
  EXPECT_EQ(srec.prop("mlflow.synced"), id);
  json run = server.state()["runs"][id];
  EXPECT_EQ(run["status"], "FINISHED");
  std::map<int64_t, int> seen;
  for (const auto& m : run["metrics"]) seen[m["step"].get<int64_t>()]++;
  EXPECT_EQ(seen.size(), 1500u);
  for (const auto& [step, n] : seen) EXPECT_EQ(n, 1) << "step " << step;
  EXPECT_TRUE(list_spool(tmp.path() / "spool").empty());
}

TEST(MlflowLive, AServerDownFromTheStartSpoolsTheRunAndTheCommandGoesOn) {
  secmlops::test::TempDir tmp;
  Settings st = live_settings("http://127.0.0.1:9", tmp.path() / "spool");
  std::vector<double> sleeps;
  Reporter r(st, [&](double d) { sleeps.push_back(d); });
  RecordedSink rec;
  auto sink = rec.sink();
  r.on_event({EventType::RunStart, "down", "r", "", 0, 0, 0}, sink);
  EXPECT_EQ(rec.prop("mlflow.run_id"), "");
  r.on_event({EventType::Metric, "m", "", "", 1, 0, 0}, sink);
  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, sink);
  r.flush(sink);
  EXPECT_NE(rec.prop("mlflow.spooled"), "");
  EXPECT_EQ(sleeps.size(), static_cast<size_t>(st.retry.max_retries));  // one budget in all

  FakeMlflowServer server;
  Settings sync = st;
  sync.mode = "sync";
  sync.tracking_uri = server.uri();
  Reporter syncer(sync, [](double) {});
  RecordedSink srec;
  syncer.flush(srec.sink());
  json run = server.state()["runs"][srec.prop("mlflow.synced")];
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(run["metrics"].size(), 1u);
  EXPECT_EQ(run["user_id"], "ci-user");  // the producer's user, not the syncer's
}

TEST(MlflowLive, AnUnwritableSpoolFailsTheStartAndNothingAfterIt) {
  secmlops::test::TempDir tmp;
  auto blocker = tmp.write("not-a-dir", "x");  // the spool directory would have to be below a file
  Settings st = live_settings("http://127.0.0.1:9", blocker / "spool");
  Reporter r(st, [](double) {});
  RecordedSink rec;
  EXPECT_THROW(r.on_event({EventType::RunStart, "e", "r", "", 0, 0, 0}, rec.sink()),
               std::runtime_error);
  EXPECT_THROW(r.on_event({EventType::Metric, "m", "", "", 1, 0, 0}, rec.sink()), EventError);
  r.flush(rec.sink());  // nothing started: nothing to do, no crash
}

TEST(MlflowLive, DatasetSourcesBecomeAbsoluteFileUris) {
  secmlops::test::TempDir tmp;
  Reporter r(file_settings(tmp));
  RecordedSink rec;
  r.on_event({EventType::RunStart, "e", "r", "", 0, 0, 0}, rec.sink());
  r.on_event({EventType::Dataset, "a b.csv", "abc", "data/a b.csv", 0, 0, 0}, rec.sink());
  r.on_event({EventType::Dataset, "web", "def", "https://example.org/x.csv", 0, 0, 0}, rec.sink());
  r.on_event({EventType::RunEnd, "", "FINISHED", "", 0, 0, 0}, rec.sink());
  std::map<std::string, json> sources;
  for (const auto& run : file_store_runs(tmp, "e"))
    for (const auto& in : run["inputs"])
      sources[in["name"]] = json::parse(in["source"].get<std::string>());
  std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(sources["a b.csv"]["uri"], "file://" + cwd + "/data/a%20b.csv");
  EXPECT_EQ(sources["web"]["url"], "https://example.org/x.csv");
}

TEST(MlflowSettings, UserFallsBackToTheLoginNameOfTheUid) {
  ScopedEnv env;
  for (const char* v : {"LOGNAME", "USER", "LNAME", "USERNAME"}) env.unset(v);
  const passwd* pw = ::getpwuid(::getuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(default_user(), pw->pw_name);
  EXPECT_EQ(parse_settings({}).user, pw->pw_name);
  EXPECT_EQ(parse_settings({{"user", "alice"}}).user, "alice");
  env.set("USER", "bob");
  EXPECT_EQ(parse_settings({}).user, "bob");
}

// The commands' configuration: MLflow's variables fill only the keys not given.
TEST(MlflowSettings, EnvironmentFillsOnlyWhatIsNotGiven) {
  ScopedEnv env;
  env.set("MLFLOW_TRACKING_URI", "http://127.0.0.1:9");
  env.set("MLFLOW_EXPERIMENT_NAME", "from-env");
  env.set("MLFLOW_TRACKING_TOKEN", "tok");
  auto value = [](const KeyValues& kv, const std::string& key) {
    std::string out = "<absent>";
    for (const auto& [k, v] : kv)
      if (k == key) out = v;
    return out;
  };
  auto filled = with_environment({{"environment", "true"}, {"tracking_uri", "file:given"}});
  EXPECT_EQ(value(filled, "tracking_uri"), "file:given");
  EXPECT_EQ(value(filled, "experiment"), "from-env");
  EXPECT_EQ(value(filled, "token"), "tok");
  EXPECT_EQ(value(filled, "environment"), "<absent>");
  EXPECT_EQ(parse_settings(filled).http.token, "tok");
  // Without the key (a host of its own), nothing is read.
  auto plain = with_environment({{"experiment", "e"}});
  EXPECT_EQ(plain, (KeyValues{{"experiment", "e"}}));
  env.unset("MLFLOW_EXPERIMENT_NAME");
  EXPECT_EQ(value(with_environment({{"environment", "true"}}), "experiment"), "secmlops");
  EXPECT_EQ(value(with_environment({{"environment", "false"}}), "tracking_uri"), "<absent>");
}

}  // namespace
