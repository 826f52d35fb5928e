// Declared configuration (abi.h, "Declared configuration options"): checked for every kind
// before the plugin sees it, listed with types and defaults, and a declaring scanner receives
// only its own keys.
#include "secmlops/host/plugin_config.hpp"
#include "secmlops/host/model_session.hpp"
#include "secmlops/host/plugin_info.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/v1/report.pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;

const Registry& fixtures() {
  static Registry* registry = [] {
    auto* r = new Registry();
    for (const char* lib :
         {"secmlops_fixture-cpp.so", "secmlops_fixture-c.so", "secmlops_legacy-v1-3.so"})
      r->load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / lib);
    return r;
  }();
  return *registry;
}

Plugin get(secmlops_kind kind, const std::string& name) {
  auto p = fixtures().find(kind, name);
  if (!p) throw std::runtime_error(name + " not loaded");
  return *p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
    return e.what();
  }
  return "";
}

TEST(PluginConfig, ModelParametersAreCheckedBeforeFit) {
  ModelSession m(get(SECMLOPS_KIND_MODEL, "fixture-model"));
  DenseMatrix x(2, 1, {1, -1});
  EXPECT_THAT(error_of([&] {
                m.fit(x, {1, 0}, {{"weight", "2"}});
              }),
              HasSubstr("unknown parameter 'weight' for fixture-model (valid: w)"));
  EXPECT_THAT(error_of([&] {
                m.fit(x, {1, 0}, {{"w", "heavy"}});
              }),
              HasSubstr("parameter 'w' must be a number, got 'heavy' (fixture-model)"));
  m.fit(x, {1, 0}, {{"w", "2"}});
  EXPECT_THAT(error_of([&] {
                ModelSession bad(get(SECMLOPS_KIND_MODEL, "fixture-model"), {{"n_jobs", "2"}});
              }),
              HasSubstr("unknown option 'n_jobs' for fixture-model (valid: w)"));
}

TEST(PluginConfig, UndeclaredPluginsGetEverythingUnchecked) {
  auto magic = get(SECMLOPS_KIND_SCANNER, "fixture-magic");
  ASSERT_FALSE(magic.options());
  KeyValues config = {{"policy", "p"}, {"anything", "x"}};
  EXPECT_NO_THROW(check_config(magic, config));
  EXPECT_EQ(config_for(magic, config), config);
}

TEST(PluginConfig, DeclaringScannersReceiveOnlyTheirKeys) {
  KeyValues config = {{"policy", "p"}, {"fixture.level", "2"}, {"mode", "allowlist"}};
  EXPECT_EQ(config_for(get(SECMLOPS_KIND_SCANNER, "fixture-c"), config),
            (KeyValues{{"fixture.level", "2"}}));
  // A 1.3 plugin's declaration (smaller entries) works the same way.
  EXPECT_EQ(config_for(get(SECMLOPS_KIND_SCANNER, "legacy-v1-3"), config),
            (KeyValues{{"fixture.level", "2"}}));
}

TEST(PluginConfig, OnePluginAndAScanReadTheSameDeclarations) {
  auto c = get(SECMLOPS_KIND_SCANNER, "fixture-c");
  auto legacy = get(SECMLOPS_KIND_SCANNER, "legacy-v1-3");
  auto magic = get(SECMLOPS_KIND_SCANNER, "fixture-magic");
  // One plugin: its names in its own order.
  EXPECT_THAT(error_of([&] {
                check_config(c, {{"fixture.levle", "1"}});
              }),
              HasSubstr("unknown option 'fixture.levle' for fixture-c (valid: fixture.level, "
                        "fixture.verbose)"));
  // A scan: every scanner's, with types and owners, sorted, each once.
  EXPECT_EQ(scanner_config_error({c, legacy, c}, {{"fixture.levle", "1"}}),
            "unknown scanner option 'fixture.levle'; valid options: fixture.level (integer, "
            "fixture-c), fixture.level (integer, legacy-v1-3), fixture.verbose (boolean, "
            "fixture-c), fixture.verbose (boolean, legacy-v1-3)");
  EXPECT_EQ(scanner_config_error({legacy, c}, {{"fixture.level", "x"}}),
            "scanner option 'fixture.level' must be an integer (legacy-v1-3), got 'x'");
  // A scanner that declares nothing reads any key, but declared types still hold.
  EXPECT_EQ(scanner_config_error({c, magic}, {{"anything", "x"}}), "");
  EXPECT_THAT(scanner_config_error({magic, c}, {{"fixture.verbose", "yes"}}),
              HasSubstr("must be true or false (fixture-c)"));
  EXPECT_EQ(scanner_config_error({c}, {}), "");
}

TEST(PluginConfig, FamiliesOfKeysAreCovered) {
  EXPECT_TRUE(option_covers("signature.*", "signature.eicar"));
  EXPECT_FALSE(option_covers("signature.*", "signature."));
  EXPECT_FALSE(option_covers("signature.*", "signatures.x"));
  EXPECT_TRUE(option_covers("mode", "mode"));
  EXPECT_FALSE(option_covers("mode", "modes"));
}

TEST(PluginConfig, ListedWithTypesAndDefaults) {
  auto list = plugin_list(fixtures(), /*with_options=*/true);
  bool model = false, magic = false, legacy = false;
  for (const auto& p : list.plugins()) {
    if (p.name() == "fixture-model") {
      model = true;
      EXPECT_TRUE(p.options_declared());
      ASSERT_EQ(p.options_size(), 1);
      EXPECT_EQ(p.options(0).name(), "w");
      EXPECT_EQ(p.options(0).type(), "number");
      EXPECT_EQ(p.options(0).description(), "the weight");
      EXPECT_EQ(p.options(0).default_value(), "1");
    } else if (p.name() == "fixture-magic") {
      magic = true;
      EXPECT_FALSE(p.options_declared());
    } else if (p.name() == "legacy-v1-3") {
      legacy = true;
      ASSERT_EQ(p.options_size(), 2);
      EXPECT_FALSE(p.options(0).has_default_value());
    }
  }
  EXPECT_TRUE(model && magic && legacy);
  // Without options the list does not open catalogued libraries.
  EXPECT_EQ(plugin_list(fixtures()).plugins(0).options_size(), 0);
}

TEST(PluginCapabilities, NamedFromTheBitsWithFlushForEveryReporter) {
  auto reporter = get(SECMLOPS_KIND_REPORTER, "fixture-reporter");
  EXPECT_NE(reporter.capability_bits() & SECMLOPS_CAP_FLUSH, 0u);
  EXPECT_THAT(reporter.capabilities(), ::testing::ElementsAre("on_event", "flush"));
  auto model = get(SECMLOPS_KIND_MODEL, "fixture-model");
  EXPECT_THAT(model.capabilities(),
              ::testing::ElementsAre("fit", "predict_proba", "loss_gradient", "describe"));
}

}  // namespace
}  // namespace secmlops::host
