// scikit-learn models pickled by Python, loaded through load_model_file with the real plugins,
// predict what scikit-learn predicted on every test row; what is not supported is refused with
// a message that says what the file is.
#include "secmlops/host/attack_runner.hpp"
#include "secmlops/host/csv.hpp"
#include "secmlops/host/model_io.hpp"
#include "secmlops/host/registry.hpp"
#include "sklearn/sklearn_import.hpp"
#include "support/run_command.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace secmlops::host {
namespace {

std::string fixture(const std::string& name) { return std::string(SKLEARN_FIXTURES) + "/" + name; }

const Registry& registry() {
  static Registry r = [] {
    Registry reg;
    reg.load_directories({SECMLOPS_PLUGIN_DIR});
    return reg;
  }();
  return r;
}

nlohmann::json manifest() {
  std::ifstream in(fixture("manifest.json"));
  return nlohmann::json::parse(in);
}

DenseMatrix test_rows(const std::string& kind) {
  auto t = read_csv(fixture(kind + "_test.csv"));
  std::vector<size_t> cols;
  for (size_t c = 0; c + 1 < t.header.size(); ++c) cols.push_back(c);
  return t.numeric(cols);
}

struct Expected {
  std::vector<std::vector<double>> scores;
  std::vector<std::string> labels;
};

Expected expected(const std::string& name) {
  Expected e;
  std::ifstream in(fixture(name));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    e.labels.push_back(cells.back());
    std::vector<double> s;
    for (size_t i = 0; i + 1 < cells.size(); ++i) s.push_back(std::stod(cells[i]));
    e.scores.push_back(std::move(s));
  }
  return e;
}

// How close the plugin's probabilities must be: float64 weights for linear models and MLPs,
// float32 leaf weights for forests, float32 kernels and libsvm's iterative pairwise coupling
// for SVC (scikit-learn's solver stops at a tolerance of 0.005 / k).
double tolerance(const std::string& plugin) {
  if (plugin == "logreg" || plugin == "mlp") return 1e-9;
  if (plugin == "random_forest") return 1e-6;
  return 5e-3;
}

TEST(SklearnImport, PredictionsEqualScikitLearnOnEveryTestRow) {
  const auto m = manifest();
  ASSERT_GE(m["models"].size(), 40u);
  for (const auto& [file, spec] : m["models"].items()) {
    SCOPED_TRACE(file);
    const std::string plugin = spec["plugin"];
    LoadedModel model;
    try {
      model = load_model_file(registry(), fixture(file));
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    EXPECT_EQ(model.session->plugin().name(), plugin);
    EXPECT_NE(model.imported_from.find("scikit-learn"), std::string::npos);
    const DenseMatrix x = test_rows(spec["data"]);
    const Expected want = expected(spec["expected"]);
    ASSERT_EQ(want.labels.size(), x.rows);
    const DenseMatrix p = model.session->predict_proba(x);
    ASSERT_EQ(p.cols, model.class_labels.size());
    size_t label_mismatches = 0;
    double worst = 0;
    for (uint64_t r = 0; r < x.rows; ++r) {
      uint64_t best = 0;
      for (uint64_t c = 1; c < p.cols; ++c)
        if (p(r, c) > p(r, best)) best = c;
      if (model.class_labels[best] != want.labels[r]) ++label_mismatches;
      if (spec["scores"] == "proba")
        for (uint64_t c = 0; c < p.cols; ++c)
          worst = std::max(worst, std::abs(p(r, c) - want.scores[r][c]));
    }
    EXPECT_EQ(label_mismatches, 0u) << "rows whose predicted class differs from scikit-learn's";
    EXPECT_LE(worst, tolerance(plugin)) << "largest probability difference";
  }
}

TEST(SklearnImport, UnsupportedAndHostileFilesAreRefusedWithTheReason) {
  const auto m = manifest();
  for (const auto& [file, why] : m["refused"].items()) {
    SCOPED_TRACE(file);
    try {
      (void)load_model_file(registry(), fixture(file));
      ADD_FAILURE() << "imported";
    } catch (const PluginError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(why.get<std::string>()), std::string::npos) << msg;
      EXPECT_EQ(msg.find("wire type"), std::string::npos) << msg;
      EXPECT_NE(msg.find(file), std::string::npos) << "names the file: " << msg;
    }
  }
}

// MLPClassifier pickles hold a NumPy RandomState (numpy.random._pickle.__randomstate_ctor, a
// data constructor): the scan gate lets them through and they import like any other model.
TEST(SklearnImport, MlpPicklesPassTheScanGate) {
  auto model = load_model_file(registry(), fixture("mlp.pkl"));
  EXPECT_EQ(model.session->plugin().name(), "mlp");
}

// Every malicious file of the pickle scanner's fixtures (every technique class, containers and
// compression included) is refused by load_model_file, whatever its name or shape.
TEST(SklearnImport, ThePickleScannersMaliciousFixturesAreAllRefused) {
  const std::string dir = std::string(SKLEARN_FIXTURES) + "/pickle-scanner-fixtures";
  auto gen = test::run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                               "/tests/plugins/pickle/make_fixtures.py " +
                               dir + " >/dev/null 2>&1");
  ASSERT_EQ(gen.exit_code, 0);
  size_t malicious = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.rfind("benign_", 0) == 0 || name[0] == '.') continue;
    ++malicious;
    try {
      (void)load_model_file(registry(), entry.path());
      ADD_FAILURE() << name << " was imported";
    } catch (const PluginError& e) {
      EXPECT_EQ(std::string(e.what()).find("wire type"), std::string::npos)
          << name << ": " << e.what();
    }
  }
  EXPECT_GT(malicious, 50u);
}

TEST(SklearnImport, OnnxFilesStillLoadThroughTheSameEntryPoint) {
  // The plugin's own export of an imported pickle is an ONNX file: it loads again and predicts the
  // same.
  auto model = load_model_file(registry(), fixture("lr_multi.pkl"));
  auto onnx = model.session->export_onnx();
  EXPECT_EQ(sniff_model_format(onnx), ModelFileFormat::onnx);
  auto again = load_model_bytes(registry(), onnx, "exported.onnx");
  const DenseMatrix x = test_rows("multi");
  const DenseMatrix a = model.session->predict_proba(x), b = again.session->predict_proba(x);
  ASSERT_EQ(a.data.size(), b.data.size());
  for (size_t i = 0; i < a.data.size(); ++i) EXPECT_NEAR(a.data[i], b.data[i], 1e-6);
}

TEST(SklearnImport, LegacyEntryPointGainsPickles) {
  auto model = load_model_onnx(registry(), std::filesystem::path(fixture("rf.joblib")));
  EXPECT_EQ(model.session->plugin().name(), "random_forest");
  EXPECT_EQ(model.class_labels, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
}

TEST(SklearnImport, CliPredictsAndDescribesAPickle) {
  auto r = test::run_command(
      std::string(SECMLOPS_CLI) + " --plugin-dir " SECMLOPS_PLUGIN_DIR " predict --model " +
      fixture("rf.pkl") + " --data " + fixture("multi_test.csv") + " --label label 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("versicolor"), std::string::npos) << r.out;
  auto d = test::run_command(std::string(SECMLOPS_CLI) +
                             " --plugin-dir " SECMLOPS_PLUGIN_DIR " describe --model " +
                             fixture("svc_rbf_proba.pkl") + " 2>&1");
  EXPECT_EQ(d.exit_code, 0) << d.out;
  auto bad = test::run_command(std::string(SECMLOPS_CLI) +
                               " --plugin-dir " SECMLOPS_PLUGIN_DIR " describe --model " +
                               fixture("xgb.pkl") + " 2>&1");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("xgboost.sklearn.XGBClassifier"), std::string::npos) << bad.out;
  EXPECT_EQ(bad.out.find("wire type"), std::string::npos) << bad.out;
}

TEST(SklearnImport, CliAttacksAPickleAsArtDoes) {
  const std::string out = fixture("lr_multi.fgsm.secmlops.csv");
  auto r = test::run_command(
      std::string(SECMLOPS_CLI) + " --plugin-dir " SECMLOPS_PLUGIN_DIR " attack --model " +
      fixture("lr_multi.pkl") + " --attack fgsm --eps 0.1 --data " + fixture("multi_test.csv") +
      " --label label --no-empirical-robustness --out " + out + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto got = read_csv(out);
  std::vector<size_t> cols;
  for (size_t c = 0; c < 8; ++c) cols.push_back(c);
  const DenseMatrix adv = got.numeric(cols);
  const Expected want =
      expected("lr_multi.fgsm.csv");  // rows of 8 values (the last one read as a label)
  ASSERT_EQ(adv.rows, want.scores.size());
  double worst = 0;
  for (uint64_t i = 0; i < adv.rows; ++i) {
    for (uint64_t c = 0; c < 7; ++c)
      worst = std::max(worst, std::abs(adv(i, c) - want.scores[i][c]));
    worst = std::max(worst, std::abs(adv(i, 7) - std::stod(want.labels[i])));
  }
  EXPECT_LE(worst, 1e-9) << "largest difference from ART's FGSM";
}

// FGSM and PGD on imported differentiable models (the workshop's logistic regression and RBF SVM,
// polynomial and sigmoid SVCs) give ART's adversarial examples (the NumPy transcription of ART
// 1.20 on the parameters the plugins hold) on every coordinate, and fool the imported model as
// they fool scikit-learn's.
TEST(SklearnImport, ImportedModelsAreAttackedAsArtDoes) {
  const auto m = manifest();
  ASSERT_EQ(m["attacked"].size(), 4u);
  for (const auto& [file, spec] : m["attacked"].items()) {
    SCOPED_TRACE(file);
    LoadedModel model = load_model_file(registry(), fixture(file));
    const uint64_t rows = spec["rows"];
    const DenseMatrix all = test_rows(spec["data"]);
    const DenseMatrix x(rows, all.cols,
                        std::vector<double>(all.data.begin(), all.data.begin() + rows * all.cols));
    auto csv = read_csv(fixture(spec["data"].get<std::string>() + "_test.csv"));
    std::vector<int32_t> y;
    for (uint64_t r = 0; r < rows; ++r) {
      const auto row = csv.rows[r];
      const std::string label(row[row.size() - 1]);
      auto it = std::find(model.class_labels.begin(), model.class_labels.end(), label);
      ASSERT_NE(it, model.class_labels.end()) << label;
      y.push_back(static_cast<int32_t>(it - model.class_labels.begin()));
    }
    for (const char* attack : {"fgsm", "pgd"}) {
      SCOPED_TRACE(attack);
      KeyValues params;
      for (const auto& [k, v] : spec[attack]["params"].items())
        params.emplace_back(k, v.get<std::string>());
      auto plugin = registry().find(SECMLOPS_KIND_ATTACK, attack);
      ASSERT_TRUE(plugin);
      const AttackOutput out = run_attack(*plugin, *model.session, x, y, params);
      const Expected want =
          expected(spec[attack]["expected"]);  // rows of d values, the last read as a label
      ASSERT_EQ(want.scores.size(), rows);
      double worst = 0;
      for (uint64_t r = 0; r < rows; ++r) {
        for (uint64_t c = 0; c + 1 < x.cols; ++c)
          worst = std::max(worst, std::abs(out.x_adv(r, c) - want.scores[r][c]));
        worst = std::max(worst, std::abs(out.x_adv(r, x.cols - 1) - std::stod(want.labels[r])));
      }
      EXPECT_LE(worst, 1e-6) << "largest difference from ART's adversarial examples";
      const DenseMatrix p = model.session->predict_proba(out.x_adv);
      size_t correct = 0;
      for (uint64_t r = 0; r < rows; ++r) {
        uint64_t best = 0;
        for (uint64_t c = 1; c < p.cols; ++c)
          if (p(r, c) > p(r, best)) best = c;
        correct += static_cast<int32_t>(best) == y[r];
      }
      EXPECT_NEAR(static_cast<double>(correct) / static_cast<double>(rows),
                  spec[attack]["sklearn_adversarial_accuracy"].get<double>(), 0.02)
          << "adversarial accuracy against scikit-learn's on the same examples";
    }
  }
}

}  // namespace
}  // namespace secmlops::host
