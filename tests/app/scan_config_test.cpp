// A scan's configuration is checked in a sandboxed worker while the walk already lists, opens
// and digests: a refused configuration refuses the request as a whole and no file report
// reaches the caller; an accepted one passes every file on, in order.
#include "secmlops/app/operations.hpp"
#include "support/plugin_environment.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace secmlops;
using ::testing::HasSubstr;

namespace {

using Fixture = test::PluginEnvironment;

// Enough small pickles for many batches: the check's answer comes while batches are in flight.
void make_pickles(const test::TempDir& dir, int n) {
  for (int i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "m%04d.pkl", i);
    dir.write(std::string("store/") + name, std::string("\x80\x04K") + char(i % 100) + ".");
  }
}

v1::ScanRequest request(const test::TempDir& dir, const std::string& mode) {
  v1::ScanRequest req;
  req.add_paths((dir.path() / "store").string());
  auto* kv = req.mutable_options()->add_scanner_config();
  kv->set_key("mode");
  kv->set_value(mode);
  return req;
}

TEST(ScanConfig, RefusedConfigurationEmitsNoFileAndRefusesTheRequest) {
  Fixture fx;
  test::TempDir dir;
  make_pickles(dir, 300);
  auto req = request(dir, "bogus");
  int emitted = 0;
  try {
    app::scan(fx.env, req, [&](const v1::FileReport&) { ++emitted; });
    FAIL() << "a refused configuration was scanned";
  } catch (const app::AppError& e) {
    EXPECT_EQ(e.code(), app::AppError::Code::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("mode must be"));
  }
  EXPECT_EQ(emitted, 0);
}

TEST(ScanConfig, AcceptedConfigurationPassesEveryFileOnInOrder) {
  Fixture fx;
  test::TempDir dir;
  make_pickles(dir, 300);
  auto req = request(dir, "allowlist");
  std::vector<std::string> seen;
  auto report = app::scan(fx.env, req, [&](const v1::FileReport& f) { seen.push_back(f.path()); });
  ASSERT_EQ(seen.size(), 300u);
  ASSERT_EQ(report.files_size(), 300);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(seen[i], report.files(i).path());
    EXPECT_EQ(report.files(i).status(), v1::SCANNED) << report.files(i).error();
  }
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

}  // namespace
