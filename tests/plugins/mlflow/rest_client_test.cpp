// The REST client against a fake MLflow server: experiments, runs, batching by MLflow's limits,
// client-side value and key handling, retries and error messages.
#include "fake_server.hpp"
#include "reporter.hpp"
#include "rest_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace secmlops::plugins::mlflow;
using nlohmann::json;
using ::testing::HasSubstr;

struct Harness {
  secmlops::test::FakeMlflowServer server;
  std::vector<double> sleeps;
  Settings settings() {
    Settings s;
    s.tracking_uri = server.uri();
    s.retry.max_retries = 3;
    s.retry.max_retries_500 = 1;
    s.retry.backoff_base_s = 0.01;
    s.http.timeout_s = 5;
    return s;
  }
  RestStore store(Settings s) {
    return RestStore(s, [this](double d) { sleeps.push_back(d); });
  }
  RestStore store() { return store(settings()); }
};

json find_run(json state, const std::string& run_id) { return state["runs"][run_id]; }

TEST(MlflowRest, ExperimentIsCreatedOnceAndFoundAfterwards) {
  Harness h;
  auto s = h.store();
  auto a = s.ensure_experiment("security-scans");
  auto b = s.ensure_experiment("security-scans");
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.artifact_location, "mlflow-artifacts:/" + a.id);
  EXPECT_EQ(h.server.count_requests("experiments/create"), 1);
}

TEST(MlflowRest, ConcurrentCreatorWinningTheRaceIsHandled) {
  Harness h;
  auto s = h.store();
  auto first = s.ensure_experiment("race");
  // The next lookup misses (as if another process had not committed yet): create answers
  // RESOURCE_ALREADY_EXISTS and the client reads the winner's experiment.
  h.server.inject("mlflow/experiments/get-by-name", "notfound", 1);
  auto second = s.ensure_experiment("race");
  EXPECT_EQ(first.id, second.id);
  EXPECT_EQ(h.server.count_requests("experiments/create"), 2);
}

TEST(MlflowRest, RunCreateAlwaysSendsStartTimeAndUpdateValidatesStatus) {
  Harness h;
  auto s = h.store();
  auto exp = s.ensure_experiment("e");
  auto run = s.create_run(exp.id, "scan-1", 1700000000123, {{"k", "v"}});
  EXPECT_EQ(run.artifact_uri, "mlflow-artifacts:/" + exp.id + "/" + run.run_id + "/artifacts");
  EXPECT_THROW(s.update_run(run.run_id, "DONE", 1), MlflowError);
  s.update_run(run.run_id, "FINISHED", 1700000000999);
  auto r = find_run(h.server.state(), run.run_id);
  EXPECT_EQ(r["start_time"], 1700000000123);
  EXPECT_EQ(r["end_time"], 1700000000999);
  EXPECT_EQ(r["status"], "FINISHED");
  EXPECT_EQ(r["tags"]["mlflow.runName"], "scan-1");
}

TEST(MlflowRest, BatchesRespectEveryLimitAndTheServerAcceptsThemAll) {
  Harness h;
  std::vector<Event> events{{EventType::RunStart, "limits", "big", "", 0, 0, 1}};
  for (int i = 0; i < 250; ++i)
    events.push_back({EventType::Param, "p" + std::to_string(i), "v", "", 0, 0, 1});
  for (int i = 0; i < 150; ++i)
    events.push_back({EventType::Tag, "t" + std::to_string(i), "v", "", 0, 0, 1});
  for (int i = 0; i < 2500; ++i)
    events.push_back({EventType::Metric, "m", "", "", i * 0.5, i, 1000 + i});
  events.push_back({EventType::RunEnd, "", "FINISHED", "", 0, 0, 5000});
  RunPlan plan = build_plan(events, {}, 1);
  auto batches = plan.batches();
  size_t metrics = 0;
  for (const auto& b : batches) {
    EXPECT_LE(b.metrics.size(), 1000u);
    EXPECT_LE(b.params.size(), 100u);
    EXPECT_LE(b.tags.size(), 100u);
    EXPECT_LE(b.items(), 1000u);
    metrics += b.metrics.size();
  }
  EXPECT_EQ(metrics, 2500u);
  auto s = h.store();
  auto exp = s.ensure_experiment("limits");
  auto run = s.create_run(exp.id, "big", 1, {});
  for (const auto& b : batches) s.log_batch(run.run_id, b, false);
  auto r = find_run(h.server.state(), run.run_id);
  EXPECT_EQ(r["params"].size(), 250u);
  EXPECT_EQ(r["metrics"].size(), 2500u);
  EXPECT_EQ(r["tags"].size(), 151u);  // + mlflow.runName
}

TEST(MlflowRest, RequestsStayUnderOneMegabyte) {
  Harness h;
  std::vector<Event> events{{EventType::RunStart, "e", "r", "", 0, 0, 1}};
  for (int i = 0; i < 100; ++i)
    events.push_back(
        {EventType::Param, "p" + std::to_string(i), std::string(6000, 'p'), "", 0, 0, 1});
  for (int i = 0; i < 99; ++i)
    events.push_back(
        {EventType::Tag, "t" + std::to_string(i), std::string(8000, 't'), "", 0, 0, 1});
  auto batches = build_plan(events, {}, 1).batches();
  ASSERT_GE(batches.size(), 2u);
  auto s = h.store();
  auto exp = s.ensure_experiment("e");
  auto run = s.create_run(exp.id, "r", 1, {});
  for (const auto& b : batches) {
    size_t bytes = 0;
    for (const auto& [k, v] : b.params) bytes += k.size() + v.size() + 30;
    for (const auto& [k, v] : b.tags) bytes += k.size() + v.size() + 30;
    EXPECT_LT(bytes, 1000000u);
    s.log_batch(run.run_id, b, false);
  }
  auto r = find_run(h.server.state(), run.run_id);
  EXPECT_EQ(r["params"].size(), 100u);
  EXPECT_EQ(r["tags"].size(), 100u);  // + mlflow.runName
}

TEST(MlflowRest, LongValuesAreShortenedAndRecordedNotTruncatedByTheServer) {
  std::string long_param(7000, 'x'), long_tag(9000, 'y');
  std::vector<Event> events{{EventType::RunStart, "e", "r", "", 0, 0, 1},
                            {EventType::Param, "config", long_param, "", 0, 0, 1},
                            {EventType::Tag, "notes", long_tag, "", 0, 0, 1}};
  RunPlan plan = build_plan(events, {}, 1);
  EXPECT_EQ(plan.params["config"].size(), 6000u);
  EXPECT_EQ(plan.tags["notes"].size(), 8000u);
  EXPECT_EQ(plan.tags["secmlops.truncated_params"], "config");
  EXPECT_EQ(plan.tags["secmlops.truncated_tags"], "notes");
  // Characters, not bytes: 6001 'é' are shortened to 6000 'é'.
  std::string accents;
  for (int i = 0; i < 6001; ++i) accents += "\xc3\xa9";
  RunPlan p2 = build_plan(
      {{EventType::RunStart, "e", "r", "", 0, 0, 1}, {EventType::Param, "a", accents, "", 0, 0, 1}},
      {}, 1);
  EXPECT_EQ(utf8_length(p2.params["a"]), 6000u);
  ValueLimits refuse;
  refuse.refuse_long_values = true;
  EXPECT_THROW(build_plan(events, refuse, 1), EventError);
}

TEST(MlflowRest, KeysAreSanitisedOrRefusedAsDocumented) {
  EXPECT_EQ(sanitise_key("scan.findings.critical"), "scan.findings.critical");
  EXPECT_EQ(sanitise_key("acc#1"), "acc_1");
  EXPECT_EQ(sanitise_key("a//b/../c/"), "a/b/__/c");
  EXPECT_EQ(sanitise_key("/lead"), "lead");
  EXPECT_EQ(sanitise_key("a:b c-d"), "a:b c-d");
  EXPECT_THROW(sanitise_key(std::string(251, 'k')), EventError);
  EXPECT_THROW(sanitise_key("//"), EventError);
  RunPlan plan = build_plan(
      {{EventType::RunStart, "e", "r", "", 0, 0, 1}, {EventType::Metric, "acc#1", "", "", 1, 0, 1}},
      {}, 1);
  EXPECT_EQ(plan.metrics[0].key, "acc_1");
  EXPECT_THAT(plan.tags["secmlops.renamed_keys"], HasSubstr("acc#1->acc_1"));
}

TEST(MlflowRest, ParamsAreNeverSentWithAnotherValue) {
  RunPlan plan = build_plan({{EventType::RunStart, "e", "r", "", 0, 0, 1},
                             {EventType::Param, "lr", "0.1", "", 0, 0, 1},
                             {EventType::Param, "lr", "0.2", "", 0, 0, 1}},
                            {}, 1);
  EXPECT_EQ(plan.params["lr"], "0.1");
  EXPECT_EQ(plan.tags["secmlops.conflicting_params"], "lr");
}

TEST(MlflowRest, DigestLongerThan36IsShortenedWithTheFullOneAsInputTag) {
  Harness h;
  std::string sha(64, 'a');
  RunPlan plan = build_plan({{EventType::RunStart, "e", "r", "", 0, 0, 1},
                             {EventType::Dataset, "model.pkl", sha, "/data/model.pkl", 0, 0, 1}},
                            {}, 1);
  auto s = h.store();
  auto exp = s.ensure_experiment("e");
  auto run = s.create_run(exp.id, "r", 1, {});
  s.log_inputs(run.run_id, plan.datasets);
  auto in = find_run(h.server.state(), run.run_id)["inputs"][0];
  EXPECT_EQ(in["dataset"]["digest"], sha.substr(0, 36));
  EXPECT_EQ(in["dataset"]["source_type"], "local");
  EXPECT_EQ(json::parse(in["dataset"]["source"].get<std::string>())["uri"], "/data/model.pkl");
  EXPECT_EQ(in["tags"][0]["value"], sha);
}

TEST(MlflowRest, RetriesOn503And429HonouringRetryAfter) {
  Harness h;
  auto s = h.store();
  auto exp = s.ensure_experiment("e");
  h.server.inject("mlflow/runs/create", "503", 2);
  auto run = s.create_run(exp.id, "r", 1, {});
  EXPECT_EQ(h.server.count_requests("runs/create"), 3);
  h.sleeps.clear();
  h.server.inject("mlflow/runs/update", "429", 1, 7);
  s.update_run(run.run_id, "FINISHED", 2);
  ASSERT_EQ(h.sleeps.size(), 1u);
  EXPECT_GE(h.sleeps[0], 7.0);
}

TEST(MlflowRest, OneRetryBudgetPerDeliveryIncludingHistoryLookups) {
  Harness h;
  auto s = h.store();
  auto exp = s.ensure_experiment("e");
  auto run = s.create_run(exp.id, "r", 1, {});
  s.begin_delivery();
  h.sleeps.clear();
  h.server.inject("mlflow/runs/log-batch", "reset", 1000);
  h.server.inject("mlflow/metrics/get-history", "reset", 1000);
  const size_t before = h.server.state()["requests"].size();
  Batch b;
  b.metrics = {{"m", 1, 1, 0}};
  try {
    s.log_batch(run.run_id, b, true);  // maybe sent: the history is read before each send
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_TRUE(e.transient());
  }
  // 1 attempt + max_retries (3) in all, not 4 log-batch rounds of 4 history lookups each.
  const json all = h.server.state();
  int sent = 0;
  for (size_t i = before; i < all["requests"].size(); ++i)
    if (all["requests"][i]["path"].get<std::string>().rfind("/api/", 0) == 0) ++sent;
  EXPECT_EQ(sent, 1 + 3);
  EXPECT_EQ(h.sleeps.size(), 3u);
  EXPECT_TRUE(s.budget().exhausted());
  // The budget stays spent for the rest of the delivery: no further retry.
  h.server.inject("mlflow/runs/update", "503", 1);
  EXPECT_THROW(s.update_run(run.run_id, "FINISHED", 2), MlflowError);
  EXPECT_EQ(h.sleeps.size(), 3u);
  // A new delivery starts with a fresh budget.
  h.server.clear_injections();
  s.begin_delivery();
  h.server.inject("mlflow/runs/update", "503", 1);
  s.update_run(run.run_id, "FINISHED", 2);
  EXPECT_EQ(h.sleeps.size(), 4u);
}

TEST(MlflowRest, RetryTimeIsPartOfTheBudget) {
  Harness h;
  Settings st = h.settings();
  st.retry.max_retry_time_s = 5;
  auto s = h.store(st);
  auto exp = s.ensure_experiment("e");
  // Waiting 7 s as asked would exceed the 5 s budget: no retry, the answer is final.
  h.server.inject("mlflow/runs/create", "429", 1, 7);
  try {
    s.create_run(exp.id, "r", 1, {});
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_EQ(e.http_status(), 429);
    EXPECT_TRUE(e.transient());
  }
  EXPECT_TRUE(h.sleeps.empty());
  RetryPolicy p;
  p.max_retry_time_s = 3;
  p.backoff_base_s = 1;
  RetryBudget b(p);
  EXPECT_TRUE(b.charge(RetryClass::Normal, 0.5, std::nullopt));   // 0.5 + [1, 2) ≤ 3
  EXPECT_FALSE(b.charge(RetryClass::Normal, 0.1, std::nullopt));  // + [2, 3): over
  EXPECT_FALSE(b.charge(RetryClass::Normal, 0, std::nullopt));
}

TEST(MlflowRest, RetryAfterIsCappedAndBackoffGrows) {
  RetryPolicy p;
  p.backoff_base_s = 1;
  p.backoff_max_s = 30;
  EXPECT_GE(backoff_seconds(p, 0, std::nullopt), 1.0);
  EXPECT_LT(backoff_seconds(p, 0, std::nullopt), 2.0);
  EXPECT_GE(backoff_seconds(p, 3, std::nullopt), 8.0);
  EXPECT_EQ(backoff_seconds(p, 0, 600.0), 30.0);
}

TEST(MlflowRest, NoRetryOn4xxAndFewOn500WithReadableHtmlErrors) {
  Harness h;
  auto s = h.store();
  try {
    s.create_run("999", "r", 1, {});
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_EQ(e.http_status(), 404);
    EXPECT_EQ(e.error_code(), "RESOURCE_DOES_NOT_EXIST");
    EXPECT_FALSE(e.transient());
  }
  EXPECT_EQ(h.server.count_requests("runs/create"), 1);
  auto exp = s.ensure_experiment("e");
  h.server.inject("mlflow/runs/create", "html500", 5);
  try {
    s.create_run(exp.id, "r", 1, {});
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 500"));
    EXPECT_THAT(e.what(), HasSubstr("Internal Server Error"));
    EXPECT_THAT(std::string(e.what()), ::testing::Not(HasSubstr("<")));
  }
  EXPECT_EQ(h.server.count_requests("runs/create"), 1 + 2);  // 1 + max_retries_500
}

TEST(MlflowRest, WrongBaseUrlGivesAClearMessage) {
  Harness h;
  Settings st = h.settings();
  st.tracking_uri = h.server.uri() + "/not-mlflow";
  auto s = h.store(st);
  try {
    s.ensure_experiment("e");
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 404"));
    EXPECT_THAT(e.what(), HasSubstr("no such endpoint"));
  }
}

TEST(MlflowRest, ConnectionResetsAndTimeoutsAreRetried) {
  Harness h;
  Settings st = h.settings();
  st.http.timeout_s = 1;
  auto s = h.store(st);
  auto exp = s.ensure_experiment("e");
  h.server.inject("mlflow/runs/create", "reset", 1);
  h.server.inject("mlflow/runs/create", "timeout", 1);
  auto run = s.create_run(exp.id, "r", 1, {});
  EXPECT_FALSE(run.run_id.empty());
  EXPECT_EQ(h.sleeps.size(), 2u);
}

TEST(MlflowRest, UnreachableServerIsTransient) {
  Settings st;
  st.tracking_uri = "http://127.0.0.1:9";  // discard port: connection refused
  st.retry.max_retries = 1;
  st.retry.backoff_base_s = 0.001;
  RestStore s(st, [](double) {});
  try {
    s.ensure_experiment("e");
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_TRUE(e.transient());
    EXPECT_EQ(e.http_status(), 0);
  }
}

TEST(MlflowRest, BasicAuthWinsOverBearerLikeMlflowsClient) {
  Harness h;
  Settings st = h.settings();
  st.http.token = "tok-123";
  h.store(st).ensure_experiment("a");
  st.http.username = "alice";
  st.http.password = "s3cret";
  h.store(st).ensure_experiment("b");
  std::vector<std::string> auth;
  const json state = h.server.state();
  for (const auto& r : state["requests"])
    if (r["path"].get<std::string>().ends_with("get-by-name")) auth.push_back(r["auth"]);
  ASSERT_GE(auth.size(), 2u);
  EXPECT_EQ(auth.front(), "Bearer tok-123");
  EXPECT_EQ(auth.back(), "Basic YWxpY2U6czNjcmV0");  // base64("alice:s3cret")
}

TEST(MlflowRest, TlsVerifiesAgainstTheCaBundleOrIsExplicitlyInsecure) {
  secmlops::test::FakeMlflowServer server(true);
  Settings st;
  st.tracking_uri = server.uri();
  st.retry.max_retries = 3;
  std::vector<double> sleeps;
  auto sleeper = [&](double d) { sleeps.push_back(d); };
  {
    RestStore untrusted(st, sleeper);
    try {
      untrusted.ensure_experiment("tls");
      FAIL();
    } catch (const MlflowError& e) {
      EXPECT_FALSE(e.transient());  // a certificate problem is not retried nor spooled
      EXPECT_THAT(e.what(), HasSubstr("MLFLOW_TRACKING_SERVER_CERT_PATH"));
    }
    EXPECT_TRUE(sleeps.empty());
  }
  Settings with_ca = st;
  with_ca.http.ca_bundle = server.ca_file();
  EXPECT_FALSE(RestStore(with_ca, sleeper).ensure_experiment("tls").id.empty());
  Settings insecure = st;
  insecure.http.insecure_tls = true;
  EXPECT_FALSE(RestStore(insecure, sleeper).ensure_experiment("tls").id.empty());
}

TEST(MlflowRest, ArtifactUploadUsesTheRunsArtifactUri) {
  Harness h;
  auto s = h.store();
  EXPECT_EQ(s.artifact_url("mlflow-artifacts:/1/abc/artifacts", "reports/scan report.json"),
            h.server.uri() +
                "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/reports/scan%20report.json");
  EXPECT_EQ(s.artifact_url("mlflow-artifacts://other:5000/1/abc/artifacts", "a.json"),
            "http://other:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a.json");
  try {
    (void)s.artifact_url("s3://bucket/1/abc/artifacts", "a.json");
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'s3' scheme"));
  }
  auto exp = s.ensure_experiment("e");
  auto run = s.create_run(exp.id, "r", 1, {});
  char tmpl[] = "/tmp/artifact-XXXXXX";
  int fd = ::mkstemp(tmpl);
  std::string content(300000, 'z');
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
  s.upload_artifact(run, {tmpl, "reports"});
  std::string key = exp.id + "/" + run.run_id + "/artifacts/reports/" +
                    std::filesystem::path(tmpl).filename().string();
  EXPECT_EQ(h.server.state()["artifacts"][key], 300000);
  std::filesystem::remove(tmpl);
}

TEST(MlflowRest, VerdictTagsOnAModelVersion) {
  Harness h;
  h.server.post("/_test/create-model-version", {{"name", "fraud"}, {"version", "3"}});
  auto s = h.store();
  s.set_model_version_tag("fraud", "3", "secmlops.scan.verdict", "fail");
  EXPECT_EQ(h.server.state()["models"]["fraud/3"]["secmlops.scan.verdict"], "fail");
  EXPECT_THROW(s.set_model_version_tag("fraud", "4", "k", "v"), MlflowError);
}

TEST(MlflowRest, NonFiniteMetricsUseMlflowsSpellings) {
  Harness h;
  auto s = h.store();
  auto exp = s.ensure_experiment("e");
  auto run = s.create_run(exp.id, "r", 1, {});
  Batch b;
  b.metrics = {{"nan", NAN, 1, 0}, {"inf", INFINITY, 1, 0}};
  s.log_batch(run.run_id, b, false);
  auto ms = find_run(h.server.state(), run.run_id)["metrics"];
  EXPECT_EQ(ms[0]["value"], "NaN");
  EXPECT_GT(ms[1]["value"].get<double>(), 1e300);
}

}  // namespace
