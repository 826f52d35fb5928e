// RunRecorder: what a command did becomes reporter events, in order, with the documented names.
#include "secmlops/host/run_recorder.hpp"
#include "secmlops/v1/report.pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace secmlops::host;
using ::testing::Contains;
using ::testing::ElementsAre;

const Registry& fixtures() {
  static Registry* registry = [] {
    auto* r = new Registry();
    r->load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-cpp.so");
    return r;
  }();
  return *registry;
}

// The fixture reporter echoes each event as "type:key".
std::vector<std::string> events(const RunRecorder& r) {
  std::vector<std::string> out;
  for (const auto& [k, v] : r.emitted().properties)
    if (k == "event") out.push_back(v);
  return out;
}

TEST(RunRecorder, MissingReporterIsAClearError) {
  try {
    RunRecorder r(fixtures(), {}, "mlflow");
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("'mlflow' reporter plugin is not installed"));
  }
}

TEST(RunRecorder, SendsEventsInOrderAndFlushesOnFinish) {
  RunRecorder r(fixtures(), {}, "fixture-reporter");
  r.start("exp", "run");
  r.param("p", "1");
  r.metric("m", 0.5, 2);
  r.tag("t", "v");
  r.dataset("d", "digest", "/src");
  r.artifact("/tmp/x.json", "reports");
  r.finish("FINISHED");
  EXPECT_TRUE(r.finished());
  EXPECT_THAT(events(r), ElementsAre("1:exp", "2:p", "3:m", "4:t", "5:d", "6:reports", "7:"));
  EXPECT_EQ(r.property("flushed"), "yes");
}

TEST(RunRecorder, AttackMetricsUseOneStepPerEps) {
  RunRecorder r(fixtures(), {}, "fixture-reporter");
  r.start("exp", "attack");
  secmlops::v1::AttackReport report;
  report.set_attack("fgsm");
  report.set_model("logreg");
  report.set_clean_accuracy(0.9);
  for (double eps : {0.1, 0.3}) {
    auto* p = report.add_curve();
    p->set_eps(eps);
    p->set_adversarial_accuracy(0.6 - eps);
    p->mutable_perturbation()->set_mean_l2(eps * 5);
  }
  report.set_empirical_robustness(0.42);
  record_attack(r, report);
  auto ev = events(r);
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "3:attack.adversarial_accuracy"), 2);
  EXPECT_THAT(ev, Contains("3:attack.success_rate"));
  EXPECT_THAT(ev, Contains("3:attack.perturbation.l2_mean"));
  EXPECT_THAT(ev, Contains("3:attack.perturbation.linf_mean"));
  EXPECT_THAT(ev, Contains("3:attack.empirical_robustness"));
  EXPECT_THAT(ev, Contains("4:secmlops.kind"));
}

TEST(RunRecorder, ModelMetricsIncludeTheOverfittingGapAndComplexity) {
  RunRecorder r(fixtures(), {}, "fixture-reporter");
  r.start("exp", "train");
  Emitted description;
  description.metrics.push_back({"n_parameters", {31, 0}});
  description.properties.push_back({"solver", "lbfgs"});
  record_model(r, "logreg", 0.99, 0.9, description);
  auto ev = events(r);
  EXPECT_THAT(ev, Contains("3:model.overfitting_gap"));
  EXPECT_THAT(ev, Contains("3:model.complexity.n_parameters"));
  EXPECT_THAT(ev, Contains("2:model.solver"));
}

}  // namespace
