// `secmlops attack` as a user runs it: train a model, attack it over an eps list, read the curve.
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace {

using secmlops::test::run_command;
using ::testing::HasSubstr;

std::string cli() { return std::string(SECMLOPS_CLI) + " "; }

// Two overlapping classes "good"/"bad" in three features; "age" is meant to be immutable.
std::filesystem::path write_data(const secmlops::test::TempDir& dir) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> g(0, 1);
  std::ofstream out(dir.path() / "data.csv");
  out << "income,debt,age,verdict\n";
  for (int i = 0; i < 400; ++i) {
    bool bad = i % 2;
    out << (bad ? 0.3 : 0.7) + 0.15 * g(rng) << "," << (bad ? 0.7 : 0.3) + 0.15 * g(rng) << ","
        << 0.5 + 0.1 * g(rng) << "," << (bad ? "bad" : "good") << "\n";
  }
  return dir.path() / "data.csv";
}

// Trains the logistic regression the attacks run against; empty path when training failed.
std::filesystem::path train_model(const secmlops::test::TempDir& dir,
                                  const std::filesystem::path& data) {
  auto model = dir.path() / "m.onnx";
  auto r = run_command(cli() + "train --model logreg --data " + data.string() +
                       " --label verdict --out " + model.string() + " >/dev/null 2>&1");
  return r.exit_code == 0 ? model : std::filesystem::path();
}

TEST(AttackCli, CurveOverEpsWithImmutableFeatureAndAdversarialCsv) {
  secmlops::test::TempDir dir;
  auto data = write_data(dir);
  auto model = train_model(dir, data);
  ASSERT_FALSE(model.empty());
  auto adv = dir.path() / "adv.csv";
  auto r = run_command(cli() + "attack --model " + model.string() +
                       " --attack pgd --eps 0.02,0.3 --eps-step 0.01 " + "--max-iter 40 --data " +
                       data.string() + " --label verdict --immutable age --format json --out " +
                       adv.string() + " 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["curve"].size(), 2u);
  EXPECT_GT(j["cleanAccuracy"].get<double>(), 0.9);
  EXPECT_GT(j["curve"][0]["adversarialAccuracy"].get<double>(),
            j["curve"][1]["adversarialAccuracy"].get<double>());
  EXPECT_LT(j["curve"][1]["adversarialAccuracy"].get<double>(), 0.2);
  EXPECT_TRUE(j.contains("empiricalRobustness"));
  EXPECT_EQ(j["params"]["immutable"], "2");
  // The immutable column is unchanged in the adversarial examples.
  std::ifstream a(adv), d(data);
  std::string la, ld;
  std::getline(a, la);
  std::getline(d, ld);
  EXPECT_EQ(la, "income,debt,age,adversarial_prediction");
  int rows = 0;
  while (std::getline(a, la) && std::getline(d, ld)) {
    auto third = [](const std::string& s) {
      auto p1 = s.find(','), p2 = s.find(',', p1 + 1), p3 = s.find(',', p2 + 1);
      return std::stod(s.substr(p2 + 1, p3 - p2 - 1));
    };
    EXPECT_NEAR(third(la), third(ld), 1e-12);
    ++rows;
  }
  EXPECT_EQ(rows, 400);
}

TEST(AttackCli, TargetedTextOutputAndErrors) {
  secmlops::test::TempDir dir;
  auto data = write_data(dir);
  auto model = train_model(dir, data);
  ASSERT_FALSE(model.empty());
  auto r = run_command(cli() + "attack --model " + model.string() +
                       " --attack fgsm --eps 0.5 --targeted good --data " + data.string() +
                       " --label verdict 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("targeted"));
  EXPECT_THAT(r.out, HasSubstr("adv_acc"));
  EXPECT_NE(run_command(cli() + "attack --model " + model.string() + " --attack nope --data " +
                        data.string() + " 2>/dev/null")
                .exit_code,
            0);
  EXPECT_NE(run_command(cli() + "attack --model " + model.string() + " --targeted neutral --data " +
                        data.string() + " --label verdict 2>/dev/null")
                .exit_code,
            0);
  auto bad = run_command(cli() + "attack --model " + model.string() + " --param norm=7 --data " +
                         data.string() + " 2>&1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.out, HasSubstr("parameter 'norm' must be inf, 1 or 2"));
}

}  // namespace

namespace {

// `--mlflow file:DIR` records the attack as a complete run: params, one metric step per eps,
// the dataset with its digest and the adversarial examples as an artifact.
TEST(AttackCli, RunIsRecordedInTheMlflowFileStore) {
  secmlops::test::TempDir dir;
  auto data = write_data(dir);
  auto model = train_model(dir, data);
  ASSERT_FALSE(model.empty());
  auto store = dir.path() / "mlruns";
  auto r = run_command(cli() + "attack --model " + model.string() +
                       " --attack fgsm --eps 0.05,0.2 --data " + data.string() +
                       " --label verdict --out " + (dir.path() / "adv.csv").string() +
                       " --mlflow file:" + store.string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::filesystem::path run_dir;
  for (const auto& e : std::filesystem::recursive_directory_iterator(store))
    if (e.path().filename() == "attack.adversarial_accuracy")
      run_dir = e.path().parent_path().parent_path();
  ASSERT_FALSE(run_dir.empty()) << r.out;
  std::ifstream metric(run_dir / "metrics" / "attack.adversarial_accuracy");
  std::string line;
  int steps = 0;
  while (std::getline(metric, line)) ++steps;
  EXPECT_EQ(steps, 2);  // one point per eps
  EXPECT_TRUE(std::filesystem::exists(run_dir / "params" / "attack.name"));
  EXPECT_TRUE(std::filesystem::exists(run_dir / "artifacts" / "adversarial" / "adv.csv"));
  std::ifstream status(run_dir / "meta.yaml");
  std::string meta((std::istreambuf_iterator<char>(status)), std::istreambuf_iterator<char>());
  EXPECT_THAT(meta, HasSubstr("status: 3"));  // FINISHED in MLflow's file store
}

}  // namespace

TEST(AttackCli, PredictedLabelsPerRowTargetsAndArtOptions) {
  secmlops::test::TempDir dir;
  auto data = write_data(dir);
  auto model = train_model(dir, data);
  ASSERT_FALSE(model.empty());
  // The model's predictions as labels while the label column is present (ART's y=None).
  auto r =
      run_command(cli() + "attack --model " + model.string() + " --attack fgsm --eps 0.1 --data " +
                  data.string() + " --label verdict --labels predicted --format json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["labelsSource"], "model predictions");
  EXPECT_EQ(j["cleanAccuracy"].get<double>(), 1.0);
  // One target per row from a file, momentum PGD and random starts as flags.
  std::ifstream in(data);
  std::string line;
  std::getline(in, line);
  std::ofstream targets(dir.path() / "targets.txt");
  int rows = 0;
  while (std::getline(in, line)) targets << (rows++ % 2 ? "good" : "bad") << "\n";
  targets.close();
  r = run_command(cli() + "attack --model " + model.string() +
                  " --attack pgd --eps 0.3 --eps-step 0.05 --max-iter 10 " +
                  "--decay 1.0 --num-random-init 1 --seed 3 --targets " +
                  (dir.path() / "targets.txt").string() + " --data " + data.string() +
                  " --label verdict --format json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["targeted"].get<bool>());
  EXPECT_EQ(j["params"]["decay"], "1");
  EXPECT_EQ(j["params"]["num_random_init"], "1");
  // An option that does not apply to the attack is an error naming the valid ones.
  auto bad = run_command(cli() + "attack --model " + model.string() +
                         " --attack fgsm --eps 0.1 --decay 0.5 --data " + data.string() + " 2>&1");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.out, HasSubstr("decay"));
}
