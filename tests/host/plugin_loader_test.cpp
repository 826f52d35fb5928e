// Loading plugin libraries: the valid ones load, each broken one is refused with a one-line
// reason naming the file, and the host keeps working with the others.
#include "secmlops/host/registry.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / ("secmlops_" + name + ".so");
}

class FixtureRegistry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new Registry();
    registry_->load_directories({SECMLOPS_FIXTURE_PLUGIN_DIR});
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  // The refusal reason recorded for a library, or "" when it was not refused.
  static std::string reason(const std::string& name) {
    for (const auto& e : registry_->errors())
      if (e.library.filename() == fixture(name).filename()) return e.reason;
    return "";
  }
  static Registry* registry_;
};
Registry* FixtureRegistry::registry_ = nullptr;

TEST_F(FixtureRegistry, ValidPluginsLoadAlongsideBrokenOnes) {
  for (const char* n : {"fixture-c", "legacy-v1-0", "legacy-v1-1", "legacy-v1-2", "fixture-magic",
                        "fixture-model", "fixture-attack", "fixture-reporter"})
    EXPECT_TRUE(std::any_of(registry_->plugins().begin(), registry_->plugins().end(),
                            [&](const Plugin& p) { return p.name() == n; }))
        << n << " did not load";
}

TEST_F(FixtureRegistry, MissingEntrySymbolIsRefused) {
  EXPECT_THAT(reason("broken-no-entry"),
              HasSubstr("missing entry symbol secmlops_plugin_entry_v1"));
}

TEST_F(FixtureRegistry, NotASharedLibraryIsRefused) {
  EXPECT_THAT(reason("not-a-library"), HasSubstr("not a shared library"));
  EXPECT_THAT(reason("truncated-elf"), HasSubstr("cannot be loaded"));
}

TEST_F(FixtureRegistry, AbiMajorMismatchIsRefused) {
  EXPECT_THAT(reason("broken-major"), HasSubstr("ABI major 2"));
}

TEST_F(FixtureRegistry, NewerMinorIsRefused) {
  EXPECT_THAT(reason("broken-minor-newer"), HasSubstr("newer than the host's"));
}

TEST_F(FixtureRegistry, StructSmallerThanItsVersionRequiresIsRefused) {
  EXPECT_THAT(reason("broken-small-struct"), HasSubstr("descriptor is"));
  EXPECT_THAT(reason("broken-small-struct"), HasSubstr("requires at least"));
}

TEST_F(FixtureRegistry, InconsistentCapabilitiesAreRefused) {
  EXPECT_THAT(reason("broken-caps"),
              HasSubstr("claims capability loss_gradient but the function is missing"));
}

TEST_F(FixtureRegistry, FailingInitIsRefusedWithThePluginsReason) {
  EXPECT_THAT(reason("broken-init-fails"),
              HasSubstr("init failed (IO): signature database not found"));
}

TEST_F(FixtureRegistry, ThrowingInitIsRefused) {
  EXPECT_THAT(reason("broken-init-throws"),
              HasSubstr("init failed (INTERNAL): model cache directory is not writable"));
  EXPECT_THAT(reason("broken-init-raw-throw"),
              HasSubstr("init threw an exception: escaped exception"));
}

TEST_F(FixtureRegistry, EveryRefusalIsOneLine) {
  EXPECT_GE(registry_->errors().size(), 10u);
  for (const auto& e : registry_->errors()) {
    EXPECT_FALSE(e.reason.empty());
    EXPECT_EQ(e.reason.find('\n'), std::string::npos) << e.reason;
  }
}

TEST_F(FixtureRegistry, LegacyPluginReportsItsOwnAbiVersion) {
  auto p = registry_->find(SECMLOPS_KIND_SCANNER, "legacy-v1-0");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->abi_version(), "1.0");
  EXPECT_EQ(p->license(), "");  // the 1.0 descriptor has no license field: it must not be read
  auto current = registry_->find(SECMLOPS_KIND_SCANNER, "fixture-c");
  ASSERT_TRUE(current);
  EXPECT_EQ(current->abi_version(), "1.4");
  auto v1_1 = registry_->find(SECMLOPS_KIND_SCANNER, "legacy-v1-1");
  ASSERT_TRUE(v1_1);
  EXPECT_EQ(v1_1->abi_version(), "1.1");
  EXPECT_FALSE(v1_1->options());  // a 1.1 descriptor has no options field: it must not be read
  auto v1_2 = registry_->find(SECMLOPS_KIND_SCANNER, "legacy-v1-2");
  ASSERT_TRUE(v1_2);
  EXPECT_EQ(v1_2->abi_version(), "1.2");
  EXPECT_FALSE(v1_2->options());  // a 1.2 descriptor ends before the options field
  EXPECT_FALSE(p->options());
  // A 1.3 plugin's options are smaller than 1.4's: read with its own stride, without defaults.
  auto v1_3 = registry_->find(SECMLOPS_KIND_SCANNER, "legacy-v1-3");
  ASSERT_TRUE(v1_3);
  EXPECT_EQ(v1_3->abi_version(), "1.3");
  auto opts = v1_3->options();
  ASSERT_TRUE(opts);
  ASSERT_EQ(opts->size(), 2u);
  EXPECT_EQ((*opts)[0].name, "fixture.level");
  EXPECT_FALSE((*opts)[0].default_value);
  EXPECT_EQ((*opts)[1].name, "fixture.verbose");
  EXPECT_EQ((*opts)[1].type, SECMLOPS_OPTION_BOOL);
}

TEST_F(FixtureRegistry, DeclaredOptionsAreReadFromCurrentPlugins) {
  auto c = registry_->find(SECMLOPS_KIND_SCANNER, "fixture-c");
  ASSERT_TRUE(c);
  auto opts = c->options();
  ASSERT_TRUE(opts);
  ASSERT_EQ(opts->size(), 2u);
  EXPECT_EQ((*opts)[0].name, "fixture.level");
  EXPECT_EQ((*opts)[0].type, SECMLOPS_OPTION_INT);
  EXPECT_EQ((*opts)[0].help, "how hard to look");
  EXPECT_EQ((*opts)[0].default_value, "1");  // since 1.4
  EXPECT_EQ((*opts)[1].type, SECMLOPS_OPTION_BOOL);
  EXPECT_FALSE((*opts)[1].default_value);
  // A C++ plugin without an `options` member declares nothing.
  auto magic = registry_->find(SECMLOPS_KIND_SCANNER, "fixture-magic");
  ASSERT_TRUE(magic);
  EXPECT_FALSE(magic->options());
}

TEST_F(FixtureRegistry, QueriesByKindNameAndFormat) {
  EXPECT_TRUE(registry_->find(SECMLOPS_KIND_MODEL, "fixture-model"));
  EXPECT_FALSE(registry_->find(SECMLOPS_KIND_SCANNER, "fixture-model"));
  size_t fixture_format = 0;
  for (const auto& s : registry_->by_kind(SECMLOPS_KIND_SCANNER))
    fixture_format += std::count(s.formats().begin(), s.formats().end(), "fixture");
  EXPECT_EQ(fixture_format, 5u);  // fixture-c and legacy-v1-0 … legacy-v1-3
  EXPECT_EQ(registry_->by_kind(SECMLOPS_KIND_ATTACK).size(), 1u);
  EXPECT_EQ(registry_->by_kind(SECMLOPS_KIND_REPORTER).size(), 1u);
}

TEST(Registry, LoadingTheSameLibraryTwiceIsHarmless) {
  Registry r;
  EXPECT_TRUE(r.load_library(fixture("fixture-c")));
  EXPECT_TRUE(r.load_library(fixture("fixture-c")));
  EXPECT_EQ(r.plugins().size(), 1u);
}

TEST(Registry, DuplicatePluginNamesAreRefused) {
  // legacy-v1-0 and fixture-c are different libraries; a copy of fixture-c under another file
  // name provides the same plugin name.
  Registry r;
  ASSERT_TRUE(r.load_library(fixture("fixture-c")));
  auto copy = std::filesystem::temp_directory_path() / "secmlops_fixture-c-copy.so";
  std::filesystem::copy_file(fixture("fixture-c"), copy,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_FALSE(r.load_library(copy));
  ASSERT_EQ(r.errors().size(), 1u);
  EXPECT_THAT(r.errors()[0].reason, HasSubstr("plugin name 'fixture-c' is already provided"));
  std::filesystem::remove(copy);
}

TEST(Registry, MissingDirectoriesAreSkipped) {
  Registry r;
  r.load_directories({"/nonexistent/secmlops/plugins"});
  EXPECT_TRUE(r.plugins().empty());
  EXPECT_TRUE(r.errors().empty());
}

TEST(Registry, LibraryStaysLoadedWhileAPluginLives) {
  std::optional<Plugin> kept;
  {
    Registry r;
    ASSERT_TRUE(r.load_library(fixture("fixture-cpp")));
    kept = r.find(SECMLOPS_KIND_SCANNER, "fixture-magic");
  }
  ASSERT_TRUE(kept);
  // The registry is gone; the descriptor must still be readable because the plugin holds the
  // library.
  EXPECT_EQ(kept->version(), "1.0.0");
  Instance inst(*kept, {});
  EXPECT_NE(inst.raw(), nullptr);
}

// ---- the descriptor catalogue: libraries loaded at their first use ----

std::set<std::string> names(const Registry& r) {
  std::set<std::string> out;
  for (const auto& p : r.plugins())
    out.insert(std::string(kind_name(p.kind())) + ":" + p.name() + " " + p.version());
  return out;
}

std::map<std::string, std::string> refusals(const Registry& r) {
  std::map<std::string, std::string> out;
  for (const auto& e : r.errors()) out[e.library.filename().string()] = e.reason;
  return out;
}

// A plugin folder with copies of fixture libraries.
std::filesystem::path plugin_dir(const test::TempDir& d, const std::vector<std::string>& libs) {
  auto dir = d.path() / "plugins";
  std::filesystem::create_directories(dir);
  for (const auto& l : libs) std::filesystem::copy_file(fixture(l), dir / fixture(l).filename());
  return dir;
}

TEST(RegistryCatalogue, AnswersAsLoadingEverythingDoes) {
  test::TempDir d;
  const auto catalogue = d.path() / "cache" / "catalogue.json";
  Registry eager;
  eager.load_directories({SECMLOPS_FIXTURE_PLUGIN_DIR});
  for (int pass = 0; pass < 2; ++pass) {  // the first writes the catalogue, the second reads it
    Registry lazy;
    lazy.catalogue_directories({SECMLOPS_FIXTURE_PLUGIN_DIR}, catalogue);
    EXPECT_TRUE(std::filesystem::exists(catalogue));
    lazy.initialise_all();
    EXPECT_EQ(names(lazy), names(eager)) << "pass " << pass;
    EXPECT_EQ(refusals(lazy), refusals(eager)) << "pass " << pass;
    auto legacy = lazy.find(SECMLOPS_KIND_SCANNER, "legacy-v1-0");
    ASSERT_TRUE(legacy);
    EXPECT_EQ(legacy->abi_version(), "1.0");
    EXPECT_EQ(legacy->license(), "");
  }
}

TEST(RegistryCatalogue, LibrariesAreKnownByTheirResolvedPaths) {
  test::TempDir d;
  const auto real = plugin_dir(d, {"fixture-c"});
  const auto library = std::filesystem::canonical(real / fixture("fixture-c").filename());
  // A folder reached through a symbolic link, and a folder holding a link to the library.
  std::filesystem::create_directory_symlink(real, d.path() / "linked");
  std::filesystem::create_directories(d.path() / "links");
  std::filesystem::create_symlink(library, d.path() / "links" / "secmlops_alias.so");
  for (const auto& dir : {d.path() / "linked", d.path() / "links"}) {
    Registry r;
    r.catalogue_directories({dir}, d.path() / "catalogue.json");
    ASSERT_EQ(r.plugins().size(), 1u) << dir;
    EXPECT_EQ(r.plugins()[0].library_path(), library) << dir;
  }
  // Listed through both, the library is one library.
  Registry both;
  both.catalogue_directories({d.path() / "linked", d.path() / "links"},
                             d.path() / "catalogue.json");
  EXPECT_EQ(both.plugins().size(), 1u);
  EXPECT_TRUE(both.errors().empty());
}

TEST(RegistryCatalogue, InitRunsAtFirstUse) {
  test::TempDir d;
  auto dir = plugin_dir(d, {"broken-init-fails", "fixture-cpp"});
  for (int pass = 0; pass < 2; ++pass) {
    Registry r;
    r.catalogue_directories({dir}, d.path() / "catalogue.json");
    // Listed from their descriptors; the failing init has not run yet.
    EXPECT_TRUE(r.errors().empty()) << pass;
    EXPECT_TRUE(std::any_of(r.plugins().begin(), r.plugins().end(),
                            [](const Plugin& p) { return p.name() == "broken-init-fails"; }));
    auto model = r.find(SECMLOPS_KIND_MODEL, "fixture-model");
    ASSERT_TRUE(model);
    Instance inst(*model, {});
    EXPECT_NE(inst.raw(), nullptr);
    EXPECT_TRUE(r.errors().empty()) << "using one library initialised another";
    // The first lookup that returns it runs its init, which refuses it.
    EXPECT_FALSE(r.find(SECMLOPS_KIND_SCANNER, "broken-init-fails"));
    ASSERT_EQ(r.errors().size(), 1u);
    EXPECT_THAT(r.errors()[0].reason, HasSubstr("init failed (IO): signature database not found"));
    auto scanners = r.by_kind(SECMLOPS_KIND_SCANNER);
    EXPECT_FALSE(scanners.empty());
    for (const auto& p : scanners) EXPECT_NE(p.name(), "broken-init-fails");
    EXPECT_EQ(r.errors().size(), 1u);  // recorded once
  }
}

TEST(RegistryCatalogue, AChangedLibraryIsReadAgain) {
  test::TempDir d;
  auto dir = plugin_dir(d, {"fixture-c"});
  const auto catalogue = d.path() / "catalogue.json";
  {
    Registry r;
    r.catalogue_directories({dir}, catalogue);
    EXPECT_TRUE(r.find(SECMLOPS_KIND_SCANNER, "fixture-c"));
  }
  // Another library under the same file name.
  std::filesystem::copy_file(fixture("fixture-cpp"), dir / fixture("fixture-c").filename(),
                             std::filesystem::copy_options::overwrite_existing);
  Registry r;
  r.catalogue_directories({dir}, catalogue);
  EXPECT_FALSE(r.find(SECMLOPS_KIND_SCANNER, "fixture-c"));
  EXPECT_TRUE(r.find(SECMLOPS_KIND_MODEL, "fixture-model"));
  EXPECT_TRUE(r.errors().empty());
}

TEST(RegistryCatalogue, AnEntryThatNoLongerMatchesItsLibraryIsRefusedAtFirstUse) {
  test::TempDir d;
  auto dir = plugin_dir(d, {"fixture-c"});
  const auto catalogue = d.path() / "catalogue.json";
  {
    Registry r;
    r.catalogue_directories({dir}, catalogue);
  }
  // The file is unchanged, its entry is not: the library must not be taken for what it says.
  nlohmann::json j;
  std::ifstream(catalogue) >> j;
  for (auto& [path, entry] : j["libraries"].items()) entry["plugins"][0]["name"] = "forged";
  std::ofstream(catalogue, std::ios::trunc) << j.dump();
  Registry r;
  r.catalogue_directories({dir}, catalogue);
  EXPECT_FALSE(r.find(SECMLOPS_KIND_SCANNER, "forged"));
  ASSERT_EQ(r.errors().size(), 1u);
  EXPECT_THAT(r.errors()[0].reason, HasSubstr("changed since its descriptors were catalogued"));
}

TEST(RegistryCatalogue, AMalformedCatalogueIsIgnored) {
  test::TempDir d;
  auto dir = plugin_dir(d, {"fixture-c"});
  auto catalogue = d.write("catalogue.json", "{\"host\": 7, \"libraries\": [");
  Registry r;
  r.catalogue_directories({dir}, catalogue);
  EXPECT_TRUE(r.find(SECMLOPS_KIND_SCANNER, "fixture-c"));
  EXPECT_TRUE(r.errors().empty());
}

}  // namespace
}  // namespace secmlops::host
