// All four plugin kinds through the host: a model fitted and queried, an attack run on it with
// host-mediated gradients, a reporter receiving events, and plugin errors turned into clean
// exceptions.
#include "secmlops/host/attack_runner.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/host/reporter_session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;

Plugin get(secmlops_kind kind, const std::string& name) {
  static Registry* registry = [] {
    auto* r = new Registry();
    r->load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-cpp.so");
    return r;
  }();
  auto p = registry->find(kind, name);
  if (!p) throw std::runtime_error(name + " not loaded");
  return *p;
}

TEST(ModelKind, FitPredictGradientDescribe) {
  ModelSession m(get(SECMLOPS_KIND_MODEL, "fixture-model"));
  DenseMatrix x(2, 3, {1, 0, 0, -1, 0, 0});
  m.fit(x, {1, 0}, {{"w", "2"}});
  auto info = m.info();
  EXPECT_EQ(info.n_features, 3u);
  EXPECT_EQ(info.n_classes, 2u);
  auto p = m.predict_proba(x);
  EXPECT_NEAR(p(0, 1), 1 / (1 + std::exp(-2.0)), 1e-12);
  EXPECT_NEAR(p(0, 0) + p(0, 1), 1.0, 1e-12);
  EXPECT_EQ(m.predict(x), (std::vector<int32_t>{1, 0}));
  ASSERT_TRUE(m.has_gradient());
  auto g = m.loss_gradient(x, {1, 0});
  EXPECT_NEAR(g(0, 0), (p(0, 1) - 1) * 2, 1e-12);
  auto d = m.describe();
  ASSERT_EQ(d.metrics.size(), 1u);
  EXPECT_EQ(d.metrics[0].first, "parameters");
}

TEST(ModelKind, HostValidatesShapesAndLabelsBeforeTheAbi) {
  ModelSession m(get(SECMLOPS_KIND_MODEL, "fixture-model"));
  DenseMatrix x(2, 3, {1, 0, 0, -1, 0, 0});
  EXPECT_THROW(m.fit(x, {1}, {}), PluginError);
  EXPECT_THROW(m.fit(x, {1, -1}, {}), PluginError);
  m.fit(x, {1, 0}, {});
  try {
    (void)m.predict_proba(DenseMatrix(1, 2, {0, 0}));
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input has 2 features, the model expects 3"));
  }
  EXPECT_THROW((void)m.loss_gradient(x, {1, 5}), PluginError);
}

TEST(ModelKind, PluginParameterErrorsCarryThePluginsMessage) {
  // A model that declares nothing: its parameters reach it unchecked, and its own refusal crosses
  // the boundary (a declaring model's are refused by the host first: plugin_config_test).
  ModelSession m(get(SECMLOPS_KIND_MODEL, "fixture-portable-model"));
  DenseMatrix x(1, 1, {1});
  try {
    m.fit(x, {1}, {{"w", "lots"}});
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("parameter 'w' must be a number, got 'lots'"));
  }
}

TEST(AttackKind, RunsThroughHostMediatedGradients) {
  ModelSession m(get(SECMLOPS_KIND_MODEL, "fixture-model"));
  DenseMatrix x(2, 1, {0.5, -0.5});
  m.fit(x, {1, 0}, {});
  auto out =
      run_attack(get(SECMLOPS_KIND_ATTACK, "fixture-attack"), m, x, {1, 0}, {{"eps", "0.25"}});
  // Gradient of the loss pushes class-1 samples down and class-0 samples up.
  EXPECT_DOUBLE_EQ(out.x_adv(0, 0), 0.25);
  EXPECT_DOUBLE_EQ(out.x_adv(1, 0), -0.25);
  ASSERT_EQ(out.emitted.metrics.size(), 1u);
  EXPECT_EQ(out.emitted.metrics[0].first, "queries");
}

TEST(AttackKind, CancelledTokenStopsTheAttack) {
  ModelSession m(get(SECMLOPS_KIND_MODEL, "fixture-model"));
  DenseMatrix x(1, 1, {0.5});
  m.fit(x, {1}, {});
  auto cancel = std::make_shared<CancelToken>();
  cancel->cancel();
  try {
    run_attack(get(SECMLOPS_KIND_ATTACK, "fixture-attack"), m, x, {1}, {}, cancel);
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_CANCELLED);
  }
}

secmlops_run_event event(secmlops_event_type type, const char* key) {
  secmlops_run_event e{};
  e.struct_size = sizeof(e);
  e.type = type;
  e.key = key;
  return e;
}

TEST(ReporterKind, ReceivesEventsInOrder) {
  ReporterSession r(get(SECMLOPS_KIND_REPORTER, "fixture-reporter"), {});
  auto e = event(SECMLOPS_EVENT_RUN_START, "experiment");
  r.send(e);
  e.type = SECMLOPS_EVENT_METRIC;
  e.key = "accuracy";
  e.number = 0.9;
  r.send(e);
  r.flush();
  ASSERT_EQ(r.emitted().properties.size(), 3u);
  EXPECT_EQ(r.emitted().properties[0].second, "1:experiment");
  EXPECT_EQ(r.emitted().properties[1].second, "3:accuracy");
  EXPECT_EQ(r.emitted().properties[2].first, "flushed");
}

TEST(ReporterKind, DatasetSchemaAndProfileOnlyWithinTheSizeTheHostDeclared) {
  ReporterSession r(get(SECMLOPS_KIND_REPORTER, "fixture-reporter"), {});
  auto e = event(SECMLOPS_EVENT_DATASET, "d.csv");
  e.schema = "{\"mlflow_colspec\": []}";
  e.profile = "{\"num_rows\": 2}";
  r.send(e);
  // A 1.1 host's event ends before schema: whatever lies there is not read.
  e.struct_size = offsetof(secmlops_run_event, schema);
  e.schema = "past the end";
  r.send(e);
  ASSERT_EQ(r.emitted().properties.size(), 2u);
  EXPECT_EQ(r.emitted().properties[0].second,
            "5:d.csv schema {\"mlflow_colspec\": []} profile {\"num_rows\": 2}");
  EXPECT_EQ(r.emitted().properties[1].second, "5:d.csv");
}

TEST(Kinds, WrongKindIsRefused) {
  EXPECT_THROW(ModelSession(get(SECMLOPS_KIND_SCANNER, "fixture-magic")), PluginError);
  EXPECT_THROW(ReporterSession(get(SECMLOPS_KIND_MODEL, "fixture-model"), {}), PluginError);
}

}  // namespace
}  // namespace secmlops::host
