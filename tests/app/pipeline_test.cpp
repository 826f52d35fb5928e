// Pipelines as a user writes them: validation with file:line:column, the graph, parallel steps,
// failures that stop only their dependents, cancellation, and nested MLflow runs.
#include "secmlops/app/pipeline.hpp"
#include "secmlops/app/data.hpp"
#include "support/plugin_environment.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

using namespace secmlops;
using ::testing::HasSubstr;

namespace {

using Fixture = test::PluginEnvironment;

v1::PipelineRequest request(const std::string& yaml, const std::string& out = "") {
  v1::PipelineRequest r;
  r.set_spec(yaml);
  r.set_spec_name("spec.yaml");
  r.set_output_dir(out);
  return r;
}

const char* kSmall = R"(name: small
vars:
  seed: 3
steps:
  - id: data
    dataset:
      generate: {samples: 300, features: 5, informative: 3, redundant: 1, seed: 3}
      split:
        test_size: 0.25
        seed: ${vars.seed}
  - id: models
    train:
      data: data.train
      models:
        - {name: lr, plugin: logreg}
        - {name: forest, plugin: random_forest, params: {n_estimators: 10, max_depth: 4}}
  - id: scan
    scan:
      models: models
      paths: ["@samples"]
  - id: attacks
    attack:
      models: models
      data: data.test
      rows: 30
      eps: [0.1, 0.3]
      attacks:
        - attack: fgsm
        - attack: hsj
          params: {max_iter: 2, max_eval: 50, init_eval: 10}
  - id: gate
    gate:
      max_severity: HIGH
      min_clean_accuracy: 0.6
  - id: report
    report: {}
)";

const v1::StepResult& step(const v1::PipelineReport& r, const std::string& id) {
  for (const auto& s : r.steps())
    if (s.id() == id) return s;
  throw std::runtime_error("no step " + id);
}

}  // namespace

TEST(PipelineSpec, ValidSpecHasAnOrderThatRespectsInputs) {
  Fixture f;
  auto v = app::validate_pipeline(f.env, request(kSmall));
  ASSERT_TRUE(v.valid()) << (v.errors_size() ? v.errors(0) : "");
  std::vector<std::string> order(v.order().begin(), v.order().end());
  auto pos = [&](const std::string& id) {
    return std::find(order.begin(), order.end(), id) - order.begin();
  };
  EXPECT_LT(pos("data"), pos("models"));
  EXPECT_LT(pos("models"), pos("attacks"));
  EXPECT_LT(pos("attacks"), pos("gate"));
  EXPECT_LT(pos("gate"), pos("report"));
}

TEST(PipelineSpec, MistakesNameFileLineAndColumn) {
  Fixture f;
  auto errors = [&](const std::string& yaml,
                    std::vector<std::pair<std::string, std::string>> sets = {}) {
    auto req = request(yaml);
    for (const auto& [k, v] : sets) {
      auto* kv = req.add_set();
      kv->set_key(k);
      kv->set_value(v);
    }
    auto v = app::validate_pipeline(f.env, req);
    std::string all;
    for (const auto& e : v.errors()) all += e + "\n";
    EXPECT_FALSE(v.valid());
    return all;
  };
  EXPECT_THAT(errors("name: x\nsteps:\n  - id: a\n    dataset: {csv: [\n"),
              HasSubstr("spec.yaml:5:1: YAML error"));
  EXPECT_THAT(errors("steps:\n  - id: a\n    bake: {}\n"),
              HasSubstr("spec.yaml:2:5: a step needs one of: dataset, train"));
  EXPECT_THAT(errors("steps:\n  - id: d\n    dataset: {csv: x.csv}\n  - train:\n      data: d\n    "
                     "  models:\n        - {plugin: nosuch}\n"),
              HasSubstr("spec.yaml:7:20: no model plugin named 'nosuch'"));
  EXPECT_THAT(errors("steps:\n  - train:\n      data: missing\n      models: [{plugin: logreg}]\n"),
              HasSubstr("step 'train' needs unknown step 'missing'"));
  EXPECT_THAT(errors("steps:\n  - {id: a, dataset: {csv: x.csv}, needs: [b]}\n  - {id: b, dataset: "
                     "{csv: y.csv}, needs: [a]}\n"),
              HasSubstr("spec.yaml: the steps a, b depend on each other in a cycle"));
  EXPECT_THAT(errors("steps:\n  - id: d\n    dataset: {csv: x.csv, colour: red}\n"),
              HasSubstr("spec.yaml:3:27: unknown key 'colour' in dataset step 'd'"));
  EXPECT_THAT(
      errors("steps:\n  - {id: d, dataset: {csv: x.csv}}\n  - {id: d, dataset: {csv: y.csv}}\n"),
      HasSubstr("two steps have the id 'd'"));
  EXPECT_THAT(errors("steps:\n  - {id: d, dataset: {csv: x.csv}}\n  - {id: m, train: {data: "
                     "d.train, models: [{plugin: logreg}]}}\n"),
              HasSubstr("publishes <id>, and <id>.train and <id>.test when it has split:"));
  EXPECT_THAT(errors("steps:\n  - {id: d, dataset: {csv: x.csv}}\n", {{"steps.nosuch.csv", "y"}}),
              HasSubstr("--set steps.nosuch.csv: no step or index 'nosuch'"));
  EXPECT_THAT(errors("steps:\n  - id: d\n    dataset:\n      csv: ${vars.file}\n"),
              HasSubstr("unknown variable 'file'"));
}

TEST(PipelineSpec, SetOverridesVariablesAndStepValues) {
  Fixture f;
  auto req = request(kSmall);
  auto* kv = req.add_set();
  kv->set_key("steps.models.models");
  kv->set_value("[{plugin: nosuch}]");
  auto v = app::validate_pipeline(f.env, req);
  ASSERT_FALSE(v.valid());
  EXPECT_THAT(v.errors(0), HasSubstr("no model plugin named 'nosuch'"));
}

TEST(PipelineRun, WorkshopShapeEndToEnd) {
  Fixture f;
  test::TempDir d;
  std::mutex mu;
  std::set<std::string> started, finished;
  f.env.progress = [&](const v1::ProgressEvent& e) {
    std::lock_guard l(mu);
    if (e.phase() == "started") started.insert(e.step());
    if (e.phase() == "finished") finished.insert(e.step());
  };
  std::vector<std::string> streamed;
  auto report = app::run_pipeline(f.env, request(kSmall, d.path().string()),
                                  [&](const v1::StepResult& s) { streamed.push_back(s.id()); });
  for (const auto& s : report.steps())
    EXPECT_EQ(s.status(), v1::STEP_OK) << s.id() << ": " << s.error();
  EXPECT_EQ(streamed.size(), 6u);
  EXPECT_EQ(started.size(), 6u);
  EXPECT_EQ(finished.size(), 6u);
  // The hostile samples fail the severity gate; the accuracy gates pass.
  EXPECT_EQ(report.verdict(), "fail");
  EXPECT_EQ(app::pipeline_exit_code(report), 1);
  bool severity_failed = false;
  for (const auto& g : report.gates())
    if (g.condition() == "max_severity < HIGH")
      severity_failed = !g.passed() && g.detail().find("malicious_model.pkl") != std::string::npos;
    else
      EXPECT_TRUE(g.passed()) << g.condition() << " " << g.subject() << " " << g.detail();
  EXPECT_TRUE(severity_failed);

  // Lineage: the split parts name their parent's digest.
  const auto& data = step(report, "data");
  ASSERT_EQ(data.datasets_size(), 3);
  EXPECT_EQ(data.datasets(1).name(), "data.train");
  EXPECT_EQ(data.datasets(1).lineage().parent_digests(0), data.datasets(0).sha256());
  EXPECT_EQ(data.datasets(0).lineage().generator(), "synthetic_classification");
  EXPECT_EQ(data.datasets(0).lineage().parameters().at("seed"), "3");
  EXPECT_EQ(data.datasets(2).rows(), 75u);

  // Attacks by capability: FGSM on the differentiable model, HopSkipJump on the forest.
  const auto& attacks = step(report, "attacks");
  ASSERT_EQ(attacks.attacks_size(), 2);
  for (const auto& a : attacks.attacks()) {
    EXPECT_EQ(a.samples(), 30u);
    EXPECT_EQ(a.model_name(), a.attack() == "fgsm" ? "lr" : "forest");
    EXPECT_EQ(a.curve_size(), 2);
  }
  // The models' files were scanned with the samples; analyses were written.
  EXPECT_EQ(step(report, "scan").scan().files_size(), 4);
  ASSERT_EQ(report.analyses_size(), 2);
  for (const auto& a : report.analyses()) {
    EXPECT_TRUE(std::filesystem::exists(a.text_file())) << a.text_file();
    EXPECT_TRUE(std::filesystem::exists(a.json_file()));
  }
  EXPECT_TRUE(std::filesystem::exists(d.path() / "pipeline-report.json"));
  EXPECT_TRUE(std::filesystem::exists(d.path() / "reports" / "scan.sarif"));
  EXPECT_GT(report.plugins_size(), 3);
}

TEST(PipelineRun, AFailingStepStopsOnlyItsDependents) {
  Fixture f;
  test::TempDir d;
  const char* spec = R"(steps:
  - id: data
    dataset: {generate: {samples: 100, features: 4, informative: 2, redundant: 0}}
  - id: models
    train:
      data: data
      models: [{name: bad, plugin: logreg, params: {C: -1}}]
  - id: attacks
    attack: {models: models, data: data, eps: [0.1], attacks: [{attack: fgsm}]}
  - id: scan
    scan: {paths: ["@samples"]}
)";
  auto report = app::run_pipeline(f.env, request(spec, d.path().string()));
  EXPECT_EQ(step(report, "data").status(), v1::STEP_OK);
  EXPECT_EQ(step(report, "models").status(), v1::STEP_FAILED);
  EXPECT_THAT(step(report, "models").error(), HasSubstr("bad:"));
  EXPECT_EQ(step(report, "attacks").status(), v1::STEP_SKIPPED);
  EXPECT_THAT(step(report, "attacks").error(), HasSubstr("input step 'models' did not succeed"));
  EXPECT_EQ(step(report, "scan").status(), v1::STEP_OK);
  EXPECT_EQ(report.verdict(), "error");
  EXPECT_EQ(app::pipeline_exit_code(report), 2);
}

TEST(PipelineRun, CancellationStopsPromptlyAndMarksSteps) {
  Fixture f;
  test::TempDir d;
  f.env.cancel = std::make_shared<host::CancelToken>();
  auto token = f.env.cancel;
  // Cancel as soon as the attack step reports progress.
  f.env.progress = [token](const v1::ProgressEvent& e) {
    if (e.kind() == "attack" && e.phase() == "progress") token->cancel();
  };
  auto report = app::run_pipeline(f.env, request(kSmall, d.path().string()));
  EXPECT_EQ(step(report, "attacks").status(), v1::STEP_CANCELLED);
  EXPECT_EQ(step(report, "gate").status(), v1::STEP_CANCELLED);
  EXPECT_EQ(step(report, "report").status(), v1::STEP_CANCELLED);
  EXPECT_EQ(report.verdict(), "error");
}

TEST(PipelineRun, MlflowParentRunWithOneNestedRunPerOperation) {
  Fixture f;
  test::TempDir d;
  auto req = request(kSmall, (d.path() / "out").string());
  req.mutable_mlflow()->set_enabled(true);
  req.mutable_mlflow()->set_tracking_uri((d.path() / "mlruns").string());
  req.mutable_mlflow()->set_experiment("pipeline-test");
  auto report = app::run_pipeline(f.env, req);
  ASSERT_FALSE(report.mlflow_run_id().empty());
  // The file store: one directory per run under the experiment; children carry the parent's id.
  size_t runs = 0, children = 0;
  std::set<std::string> names;
  for (const auto& exp : std::filesystem::directory_iterator(d.path() / "mlruns")) {
    if (!exp.is_directory() || !std::filesystem::exists(exp.path() / "meta.yaml")) continue;
    for (const auto& run : std::filesystem::directory_iterator(exp.path())) {
      if (!run.is_directory() || !std::filesystem::exists(run.path() / "tags")) continue;
      ++runs;
      auto parent = run.path() / "tags" / "mlflow.parentRunId";
      if (std::filesystem::exists(parent)) {
        std::ifstream in(parent);
        std::string id;
        std::getline(in, id);
        EXPECT_EQ(id, report.mlflow_run_id());
        ++children;
      }
      std::ifstream name(run.path() / "tags" / "mlflow.runName");
      std::string n;
      std::getline(name, n);
      EXPECT_TRUE(names.insert(n).second) << "run recorded twice: " << n;
    }
  }
  // 2 trainings, 1 scan, 2 attacks, and the pipeline's own run.
  EXPECT_EQ(children, 5u);
  EXPECT_EQ(runs, 6u);
  EXPECT_TRUE(names.count("pipeline small"));
}

TEST(PipelineRun, ScaledDatasetsRecordTheScalerFittedOnTheTrainPart) {
  Fixture f;
  test::TempDir d;
  const char* spec = R"(steps:
  - id: data
    dataset:
      generate: {samples: 200, features: 3, informative: 2, redundant: 0, class_sep: 3, seed: 4}
      split: {test_size: 0.25, seed: 1}
      scale: standard
  - id: models
    train: {data: data.train, models: [{name: lr, plugin: logreg}]}
)";
  auto report = app::run_pipeline(f.env, request(spec, d.path().string()));
  for (const auto& s : report.steps())
    ASSERT_EQ(s.status(), v1::STEP_OK) << s.id() << ": " << s.error();
  const auto& data = step(report, "data");
  ASSERT_EQ(data.datasets_size(), 4);
  const auto &raw = data.datasets(0), &scaled = data.datasets(1), &train = data.datasets(2);
  EXPECT_EQ(raw.name(), "data.raw");
  EXPECT_EQ(scaled.name(), "data");
  EXPECT_EQ(train.name(), "data.train");
  ASSERT_EQ(scaled.lineage().parent_digests_size(), 1);
  EXPECT_EQ(scaled.lineage().parent_digests(0), raw.sha256());
  EXPECT_NE(scaled.sha256(), raw.sha256());
  ASSERT_EQ(scaled.lineage().transformations_size(), 1);
  EXPECT_THAT(scaled.lineage().transformations(0),
              HasSubstr("standard_scaler(fit on the train part"));
  EXPECT_EQ(train.lineage().parent_digests(0), scaled.sha256());
  EXPECT_EQ(train.rows(), 150u);

  // The train part has mean 0 and population standard deviation 1 in every feature column, as
  // StandardScaler fitted on it gives; the label column is untouched.
  app::LocalFiles files;
  v1::CsvData csv;
  csv.set_path((d.path() / "data.train.csv").string());
  csv.set_has_header(true);
  csv.set_label_column("label");
  auto t =
      app::load_csv(app::Environment{f.registry, files}, csv, app::LabelRule::none_unless_named);
  ASSERT_EQ(t.x.cols, 3u);
  for (size_t j = 0; j < t.x.cols; ++j) {
    double mean = 0, sq = 0;
    for (size_t r = 0; r < t.x.rows; ++r) mean += t.x(r, j);
    mean /= static_cast<double>(t.x.rows);
    for (size_t r = 0; r < t.x.rows; ++r) sq += (t.x(r, j) - mean) * (t.x(r, j) - mean);
    EXPECT_NEAR(mean, 0.0, 1e-9) << j;
    EXPECT_NEAR(std::sqrt(sq / static_cast<double>(t.x.rows)), 1.0, 1e-9) << j;
  }
  EXPECT_EQ(app::label_names(t).size(), 150u);
  EXPECT_GT(step(report, "models").models(0).train().accuracy(), 0.9);

  auto bad = app::validate_pipeline(
      f.env, request("steps:\n  - id: d\n    dataset: {generate: {}, scale: robust}\n"));
  EXPECT_FALSE(bad.valid());
  std::string errors;
  for (const auto& e : bad.errors()) errors += e + "\n";
  EXPECT_THAT(errors, HasSubstr("scale must be standard or minmax"));
}

TEST(PipelineRun, ThirdPartyPluginsTakePartByName) {
  // fixture-linear is built like a third party's plugin and cannot export ONNX: the pipeline
  // keeps it in memory and attacks it like ours.
  host::Registry registry;
  registry.load_directories({SECMLOPS_PLUGIN_DIR, SECMLOPS_THIRD_PARTY_PLUGIN_DIR});
  app::LocalFiles files;
  app::Environment env{registry, files};
  test::TempDir d;
  const char* spec = R"(steps:
  - id: data
    dataset: {generate: {samples: 200, features: 2, informative: 2, redundant: 0, seed: 1}}
  - id: models
    train:
      data: data
      models:
        - {name: third, plugin: fixture-linear, params: {w: "1,-1,-1,1", b: "0,0", classes: 2}}
  - id: attacks
    attack: {models: models, data: data, rows: 50, eps: [0.1, 1.0], attacks: [{attack: fgsm}]}
)";
  auto report = app::run_pipeline(env, request(spec, d.path().string()));
  for (const auto& s : report.steps())
    ASSERT_EQ(s.status(), v1::STEP_OK) << s.id() << ": " << s.error();
  const auto& a = step(report, "attacks");
  ASSERT_EQ(a.attacks_size(), 1);
  EXPECT_EQ(a.attacks(0).model(), "fixture-linear");
  EXPECT_EQ(a.attacks(0).model_name(), "third");
  EXPECT_LT(a.attacks(0).curve(1).adversarial_accuracy(),
            a.attacks(0).curve(0).adversarial_accuracy());
  EXPECT_TRUE(step(report, "models").models(0).out().empty());
}

TEST(PipelineRun, ModelsAreSignedAndVerifiedBeforeTheScan) {
  Fixture f;
  test::TempDir d;
  const char* spec = R"(steps:
  - id: data
    dataset: {generate: {samples: 120, features: 4, informative: 2, redundant: 0}}
  - id: models
    train: {data: data, models: [{name: lr, plugin: logreg}]}
  - id: sign
    sign: {models: models, key: "@generate"}
  - id: verify
    needs: [sign]
    verify: {models: models, public_key: "@generated"}
  - id: gate
    gate: {fail_on_unverified: true}
)";
  auto report = app::run_pipeline(f.env, request(spec, d.path().string()));
  for (const auto& s : report.steps())
    ASSERT_EQ(s.status(), v1::STEP_OK) << s.id() << ": " << s.error();
  ASSERT_EQ(step(report, "sign").signatures_size(), 1);
  EXPECT_TRUE(std::filesystem::exists(step(report, "sign").signatures(0).signature_path()));
  ASSERT_EQ(step(report, "verify").verifications_size(), 1);
  EXPECT_TRUE(step(report, "verify").verifications(0).verified());
  EXPECT_EQ(step(report, "verify").verifications(0).root_digest(),
            step(report, "sign").signatures(0).root_digest());
  EXPECT_EQ(report.verdict(), "pass");
}

TEST(PipelineRun, SignAndVerifyStepsRecordIntoNestedRuns) {
  Fixture f;
  test::TempDir d;
  const char* spec = R"(steps:
  - id: data
    dataset: {generate: {samples: 120, features: 4, informative: 2, redundant: 0}}
  - id: models
    train: {data: data, models: [{name: lr, plugin: logreg}]}
  - id: sign
    sign: {models: models, key: "@generate"}
  - id: verify
    needs: [sign]
    verify: {models: models, public_key: "@generated"}
)";
  auto req = request(spec, (d.path() / "out").string());
  req.mutable_mlflow()->set_enabled(true);
  req.mutable_mlflow()->set_tracking_uri((d.path() / "mlruns").string());
  auto report = app::run_pipeline(f.env, req);
  for (const auto& s : report.steps())
    ASSERT_EQ(s.status(), v1::STEP_OK) << s.id() << ": " << s.error();
  const auto& signature = step(report, "sign").signatures(0);
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  // The file store: the child runs of the sign and verify steps, by name.
  std::map<std::string, std::filesystem::path> runs;
  for (const auto& exp : std::filesystem::directory_iterator(d.path() / "mlruns"))
    if (exp.is_directory())
      for (const auto& run : std::filesystem::directory_iterator(exp.path()))
        if (std::filesystem::exists(run.path() / "tags" / "mlflow.runName"))
          runs[read(run.path() / "tags" / "mlflow.runName")] = run.path();
  const std::string model = std::filesystem::path(signature.model_path()).filename().string();
  ASSERT_TRUE(runs.count("sign " + model)) << "no run 'sign " << model << "'";
  ASSERT_TRUE(runs.count("verify " + model));
  for (const char* name : {"sign ", "verify "}) {
    const auto& run = runs[name + model];
    EXPECT_EQ(read(run / "tags" / "mlflow.parentRunId"), report.mlflow_run_id());
    EXPECT_EQ(read(run / "artifacts" / "signature" / "model.sig"),
              read(signature.signature_path()));
    EXPECT_EQ(read(run / "tags" / "secmlops.signature.root_digest"), signature.root_digest());
    EXPECT_EQ(read(run / "tags" / "secmlops.signature.signer"), signature.signer());
    EXPECT_EQ(read(run / "tags" / "secmlops.signature.algorithm"), "ecdsa-p256-sha256");
  }
  EXPECT_EQ(read(runs["verify " + model] / "tags" / "secmlops.signature.verified"), "true");
}

TEST(PipelineRun, CancelledRunsEndKilledInMlflow) {
  Fixture f;
  test::TempDir d;
  f.env.cancel = std::make_shared<host::CancelToken>();
  auto token = f.env.cancel;
  f.env.progress = [token](const v1::ProgressEvent& e) {
    if (e.kind() == "attack" && e.phase() == "progress") token->cancel();
  };
  auto req = request(kSmall, (d.path() / "out").string());
  req.mutable_mlflow()->set_enabled(true);
  req.mutable_mlflow()->set_tracking_uri((d.path() / "mlruns").string());
  auto report = app::run_pipeline(f.env, req);
  EXPECT_EQ(step(report, "attacks").status(), v1::STEP_CANCELLED);
  // MLflow's file store: meta.yaml holds the status (5 = KILLED, 3 = FINISHED).
  std::map<std::string, std::string> status_by_name;
  for (const auto& exp : std::filesystem::directory_iterator(d.path() / "mlruns"))
    if (exp.is_directory())
      for (const auto& run : std::filesystem::directory_iterator(exp.path())) {
        if (!std::filesystem::exists(run.path() / "tags" / "mlflow.runName")) continue;
        std::ifstream name(run.path() / "tags" / "mlflow.runName"), meta(run.path() / "meta.yaml");
        std::string n, line, status;
        std::getline(name, n);
        while (std::getline(meta, line))
          if (line.rfind("status:", 0) == 0) status = line.substr(7);
        status_by_name[n] = status;
      }
  EXPECT_THAT(status_by_name["pipeline small"], HasSubstr("5"));
  bool attack_killed = false;
  for (const auto& [n, s] : status_by_name)
    if (n.rfind("attacks ", 0) == 0 && s.find('5') != std::string::npos) attack_killed = true;
  EXPECT_TRUE(attack_killed);
  EXPECT_THAT(status_by_name["models lr"], HasSubstr("3"));  // finished before the cancel
}
