// What the attack plugins' tests share: the registry with the built plugins and the fixed linear
// model, the attack by name, a 2-feature model with a known boundary, and the unknown-parameter
// check every attack answers the same way.
#pragma once
#include "secmlops/host/registry.hpp"
#include "secmlops/host/robustness.hpp"
#include "secmlops/v1/report.pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace secmlops::test {

inline const host::Registry& attack_registry() {
  static host::Registry* r = [] {
    auto* reg = new host::Registry();
    reg->load_directories({SECMLOPS_PLUGIN_DIR, SECMLOPS_LINEAR_FIXTURE_PLUGIN_DIR});
    return reg;
  }();
  return *r;
}

inline host::Plugin attack(const std::string& name) {
  auto p = attack_registry().find(SECMLOPS_KIND_ATTACK, name);
  if (!p) throw std::runtime_error("attack " + name + " not loaded");
  return *p;
}

// The fixed linear softmax model (tests/host/plugins/fixture_linear_model.cpp) with parameters.
inline std::unique_ptr<host::ModelSession> fixture_linear(const host::KeyValues& params) {
  auto p = attack_registry().find(SECMLOPS_KIND_MODEL, "fixture-linear");
  if (!p) throw std::runtime_error("fixture-linear not loaded");
  auto m = std::make_unique<host::ModelSession>(*p);
  m->fit(host::DenseMatrix(1, 2, {0, 0}), {0}, params);
  return m;
}

// A 2-feature, 2-class linear model: class 1 when x0 + x1 > 1.
inline std::unique_ptr<host::ModelSession> linear_model() {
  return fixture_linear({{"classes", "2"}, {"w", "-4,4,-4,4"}, {"b", "4,-4"}});
}

// Two samples on each side of the boundary, two of them within 0.2 of it.
inline host::DenseMatrix grid() {
  return host::DenseMatrix(4, 2, {0.2, 0.2, 0.45, 0.45, 0.7, 0.7, 0.55, 0.6});
}

// Unknown parameters and parameters of another attack are refused by the plugin itself, so every
// door (CLI, gRPC, pipelines) gets the same error, which names the key and lists the valid ones.
inline void expect_unknown_parameter(const std::string& attack_name, const std::string& key,
                                     const std::string& expected) {
  auto model = linear_model();
  try {
    host::run_attack(attack(attack_name), *model, grid(), {}, {{key, "1"}});
    ADD_FAILURE() << attack_name << " accepted " << key;
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("unknown parameter '" + key + "'")) << attack_name;
    EXPECT_THAT(e.what(), ::testing::HasSubstr(expected)) << attack_name;
  }
}

// A black-box attack fools the linear model on the grid and counts its model queries.
inline void expect_black_box_success(const std::string& name, const std::vector<double>& eps) {
  auto model = linear_model();
  auto a = attack(name);
  host::AttackRequest req;
  req.attack = &a;
  req.x = grid();
  req.y_true = {0, 0, 1, 1};
  req.params = {{"clip_min", "0"}, {"clip_max", "1"}};
  req.eps = eps;
  auto report = host::run_robustness(*model, req);
  EXPECT_GE(report.curve(0).success_rate(), 0.75) << name;
  EXPECT_GT(report.curve(0).model_queries(), 4u) << name;
  EXPECT_FALSE(report.method().empty());
}

}  // namespace secmlops::test
