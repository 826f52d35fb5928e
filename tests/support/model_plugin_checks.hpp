// Checks shared by the model plugin tests that drive plugins through the host's ModelSession.
#pragma once

#include "secmlops/host/model_session.hpp"
#include "secmlops/host/registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::test {

// A model plugin from SECMLOPS_PLUGIN_DIR; `libraries` are loaded once, on the first call.
inline host::Plugin model_plugin(const std::string& name,
                                 std::initializer_list<const char*> libraries) {
  static host::Registry* registry = [&] {
    auto* r = new host::Registry();  // lives as long as the test binary: sessions outlive tests
    for (const char* lib : libraries)
      r->load_library(std::filesystem::path(SECMLOPS_PLUGIN_DIR) / lib);
    return r;
  }();
  auto p = registry->find(SECMLOPS_KIND_MODEL, name);
  if (!p) throw std::runtime_error(name + " not loaded");
  return *p;
}

// Every (parameters, message) case must make fit() fail with INVALID_ARGUMENT and a message
// containing `message`.
inline void expect_rejected_parameters(
    const host::Plugin& plugin, const host::DenseMatrix& x, const std::vector<int32_t>& y,
    const std::vector<std::pair<host::KeyValues, std::string>>& cases) {
  for (const auto& [params, message] : cases) {
    host::ModelSession m(plugin);
    try {
      m.fit(x, y, params);
      ADD_FAILURE() << "accepted " << params[0].first << "=" << params[0].second;
    } catch (const host::PluginError& e) {
      EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
      EXPECT_THAT(e.what(), ::testing::HasSubstr(message));
    }
  }
}

}  // namespace secmlops::test
