// train / predict / describe as a user runs them, on small CSV files written by the test.
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <random>
#include <sstream>

namespace {

using secmlops::test::run_command;
using ::testing::HasSubstr;
using ::testing::Not;

std::string cli(const std::string& args) { return std::string(SECMLOPS_CLI) + " " + args; }

// Two Gaussian blobs in 3 features with string labels; `noise_rows` adds mislabeled rows.
std::string blobs_csv(int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  std::ostringstream s;
  s << "a,b,species,c\n";
  for (int i = 0; i < rows; ++i) {
    bool cat = i % 2 == 0;
    double shift = cat ? 1.5 : -1.5;
    s << n(rng) + shift << "," << n(rng) << "," << (cat ? "cat" : "dog") << "," << n(rng) - shift
      << "\n";
  }
  return s.str();
}

TEST(ModelCli, TrainPredictDescribeWithStringLabels) {
  secmlops::test::TempDir d;
  auto train = d.write("train.csv", blobs_csv(400, 1));
  auto held = d.write("held.csv", blobs_csv(200, 2));
  auto model = d.path() / "m.onnx";
  auto r = run_command(cli("train --model logreg --data " + train.string() +
                           " --label species --param C=10 --out " + model.string() + " 2>&1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("trained logreg on 300 of 400 rows, 3 features, 2 classes"));
  EXPECT_THAT(r.out, HasSubstr("no overfitting detected"));

  auto out = d.path() / "preds.csv";
  r = run_command(cli("predict --model " + model.string() + " --data " + held.string() +
                      " --label species --out " + out.string() + " 2>&1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("200 rows  accuracy 0.9"));
  auto preds = run_command("head -2 " + out.string()).out;
  EXPECT_THAT(preds, HasSubstr("prediction,p_cat,p_dog\ncat,"));

  r = run_command(cli("describe --format json --model " + model.string() + " --data " +
                      held.string() + " --label species"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The DescribeResponse message in protobuf's JSON mapping.
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["plugin"], "logreg");
  bool parameters = false;
  for (const auto& m : j["metrics"])
    if (m["key"] == "parameters") parameters = m["value"].get<double>() == 4.0;
  EXPECT_TRUE(parameters) << r.out;
  EXPECT_EQ(j["overfitting"].value("flagged", false), false);
  EXPECT_EQ(j["classes"], nlohmann::json::array({"cat", "dog"}));
  EXPECT_EQ(j["heldOut"]["rows"], "200");
}

TEST(ModelCli, OverfittingIsFlagged) {
  // Few rows, many pure-noise features and almost no regularisation: the model memorises.
  secmlops::test::TempDir d;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n(0, 1);
  std::ostringstream s;
  for (int c = 0; c < 40; ++c) s << "f" << c << ",";
  s << "y\n";
  for (int i = 0; i < 80; ++i) {
    for (int c = 0; c < 40; ++c) s << n(rng) << ",";
    s << (rng() % 2) << "\n";
  }
  auto data = d.write("noise.csv", s.str());
  auto r = run_command(cli("train --model logreg --data " + data.string() +
                           " --label y --param C=1000 --test-size 0.5 --out " +
                           (d.path() / "m.onnx").string() + " --format json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["overfitting"]["flagged"].get<bool>()) << r.out;
  EXPECT_EQ(j["trainRows"], "40");
  EXPECT_EQ(j["testRows"], "40");
}

TEST(ModelCli, BadCsvRowNamesLineAndColumn) {
  secmlops::test::TempDir d;
  auto data = d.write("bad.csv", "x,y,label\n1,2,a\n3,oops,b\n");
  auto r = run_command(cli("train --model logreg --data " + data.string() +
                           " --label label --out " + (d.path() / "m.onnx").string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("bad.csv:3: column 'y': 'oops' is not a number"));

  auto ragged = d.write("ragged.csv", "x,y,label\n1,2,a\n3,b\n");
  r = run_command(cli("train --model logreg --data " + ragged.string() + " --label label --out " +
                      (d.path() / "m.onnx").string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("ragged.csv:3: expected 3 fields (as in the header), found 2"));
}

TEST(ModelCli, UnknownModelAndUnknownFile) {
  secmlops::test::TempDir d;
  auto data = d.write("t.csv", blobs_csv(20, 3));
  auto r = run_command(
      cli("train --model nope --data " + data.string() + " --label species --out x.onnx 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("no model plugin named 'nope'; loaded: "));
  // The plugin is looked up while the data is read; its error still comes first and alone.
  auto bad = d.write("bad.csv", "x,label\n1,a\noops,b\n");
  r = run_command(
      cli("train --model nope --data " + bad.string() + " --label label --out x.onnx 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("no model plugin named 'nope'; loaded: "));
  EXPECT_THAT(r.out, Not(HasSubstr("oops")));
  r = run_command(cli("train --model nope --data " + (d.path() / "missing.csv").string() +
                      " --label label --out x.onnx 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("no model plugin named 'nope'; loaded: "));
  EXPECT_THAT(r.out, Not(HasSubstr("missing.csv")));
  auto junk = d.write("junk.onnx", "not onnx at all");
  r = run_command(cli("describe --model " + junk.string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("junk.onnx"));
}

}  // namespace
