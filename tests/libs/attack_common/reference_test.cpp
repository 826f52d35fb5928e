// FGSM and PGD (all norms, targeted and not, bounded and tabular variants) match the NumPy
// reference of ART's formulas to 1e-6 on every coordinate.
#include "gradient_attacks.hpp"

#include <secmlops/sdk/plugin.hpp>
#include "support/linear_softmax.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace secmlops::plugins::attacks {
namespace {

RowMatrix matrix(const nlohmann::json& j) {
  RowMatrix m(static_cast<Eigen::Index>(j.size()), static_cast<Eigen::Index>(j[0].size()));
  for (size_t r = 0; r < j.size(); ++r)
    for (size_t c = 0; c < j[r].size(); ++c)
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = j[r][c];
  return m;
}

TEST(ArtReference, EveryCaseMatchesToOneMillionth) {
  std::ifstream in(ATTACK_REFERENCE_JSON);
  ASSERT_TRUE(in) << "run tests/libs/attack_common/art_reference.py first (CTest fixture)";
  auto ref = nlohmann::json::parse(in);
  RowMatrix w = matrix(ref["W"]);
  Eigen::RowVectorXd b(static_cast<Eigen::Index>(ref["b"].size()));
  for (size_t i = 0; i < ref["b"].size(); ++i) b[static_cast<Eigen::Index>(i)] = ref["b"][i];
  RowMatrix x = matrix(ref["x"]);
  int checked = 0;
  for (const auto& c : ref["cases"]) {
    test::LinearSoftmax model(w, b);
    std::vector<std::pair<std::string, std::string>> kv;
    for (auto it = c["params"].begin(); it != c["params"].end(); ++it)
      kv.emplace_back(it.key(), it.value());
    std::vector<secmlops_kv> raw;
    for (auto& [k, v] : kv) raw.push_back({k.c_str(), v.c_str()});
    sdk::Config config(raw.data(), static_cast<uint32_t>(raw.size()));
    auto o = GradientAttackOptions::from_config(config, static_cast<uint64_t>(x.cols()));
    Labels labels = c["labels"].get<Labels>();
    RowMatrix adv = c["attack"] == "pgd" ? pgd(model, x, labels, o) : fgsm(model, x, labels, o);
    RowMatrix expected = matrix(c["expected"]);
    double worst = (adv - expected).cwiseAbs().maxCoeff();
    EXPECT_LE(worst, 1e-6) << c["attack"] << " " << c["params"].dump();
    ++checked;
  }
  EXPECT_EQ(checked, 72);
}

}  // namespace
}  // namespace secmlops::plugins::attacks
