// Sharded scans: every file of a tree in exactly one shard for every shard count, assignments
// that never move when files are added, the rule reproducible outside secmlops, and the merge
// of shard reports.
#include "secmlops/app/shard.hpp"
#include "pipeline/spec.hpp"
#include "secmlops/app/operations.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace secmlops;
using ::testing::HasSubstr;

namespace {

// No plugins and no sandbox: every file is visited and reported (as unrecognised), fast.
struct Fixture {
  Fixture() { env.scan_isolation = host::Isolation::in_process; }
  host::Registry registry;
  app::LocalFiles files;
  app::Environment env{registry, files};

  v1::ScanReport scan(const std::filesystem::path& root, uint32_t k, uint32_t n) const {
    v1::ScanRequest req;
    req.add_paths(root.string());
    req.mutable_shard()->set_index(k);
    req.mutable_shard()->set_count(n);
    return app::scan(env, req);
  }
};

// A tree of nested folders, names that differ in one character, and a symlink (reported as
// skipped, so it must land in one shard too).
void make_tree(const test::TempDir& dir, int files, int first = 0) {
  for (int i = first; i < first + files; ++i) {
    std::string sub = i % 3 == 0   ? ""
                      : i % 3 == 1 ? "team-a/"
                                   : "team-b/v" + std::to_string(i % 5) + "/";
    dir.write("store/" + sub + "model-" + std::to_string(i) + ".bin", "x");
  }
}

std::set<std::string> paths_of(const v1::ScanReport& r) {
  std::set<std::string> out;
  for (const auto& f : r.files()) out.insert(f.path());
  return out;
}

TEST(Shard, EveryFileInExactlyOneShardForEveryCountUpTo64) {
  Fixture fx;
  test::TempDir dir;
  make_tree(dir, 120);
  std::filesystem::create_symlink("model-0.bin", dir.path() / "store" / "link.bin");
  const auto root = dir.path() / "store";
  const auto all = paths_of(fx.scan(root, 0, 0));
  ASSERT_EQ(all.size(), 121u);
  for (uint32_t n = 1; n <= 64; ++n) {
    std::map<std::string, int> seen;
    for (uint32_t k = 0; k < n; ++k) {
      auto r = fx.scan(root, k, n);
      EXPECT_EQ(r.shard().index(), k);
      EXPECT_EQ(r.shard().count(), n);
      EXPECT_EQ(r.summary().files(), static_cast<uint32_t>(r.files_size()));
      for (const auto& p : paths_of(r)) ++seen[p];
    }
    ASSERT_EQ(seen.size(), all.size()) << "N=" << n;
    for (const auto& [p, times] : seen) {
      EXPECT_TRUE(all.count(p)) << p;
      EXPECT_EQ(times, 1) << p << " N=" << n;
    }
  }
}

TEST(Shard, AddingFilesMovesNoExistingFile) {
  Fixture fx;
  test::TempDir dir;
  make_tree(dir, 60);
  const auto root = dir.path() / "store";
  for (uint32_t n : {2u, 7u, 16u}) {
    std::map<std::string, uint32_t> before;
    for (uint32_t k = 0; k < n; ++k)
      for (const auto& p : paths_of(fx.scan(root, k, n))) before[p] = k;
    make_tree(dir, 40, 1000 * n);  // new files, some in new folders
    std::map<std::string, uint32_t> after;
    for (uint32_t k = 0; k < n; ++k)
      for (const auto& p : paths_of(fx.scan(root, k, n))) after[p] = k;
    EXPECT_EQ(after.size(), before.size() + 40);
    for (const auto& [p, k] : before) EXPECT_EQ(after.at(p), k) << p << " N=" << n;
  }
}

TEST(Shard, KeyIsThePathBelowTheScannedDirectory) {
  // The same tree under two different mount points is cut the same way.
  Fixture fx;
  test::TempDir a, b;
  make_tree(a, 50);
  make_tree(b, 50);
  for (uint32_t k = 0; k < 5; ++k) {
    std::set<std::string> ra, rb;
    for (const auto& p : paths_of(fx.scan(a.path() / "store", k, 5)))
      ra.insert(std::filesystem::path(p).lexically_relative(a.path()).string());
    for (const auto& p : paths_of(fx.scan(b.path() / "store", k, 5)))
      rb.insert(std::filesystem::path(p).lexically_relative(b.path()).string());
    EXPECT_EQ(ra, rb) << k;
  }
}

TEST(Shard, RuleIsSha256OfTheRelativePath) {
  // The same numbers as: int.from_bytes(hashlib.sha256(path.encode()).digest()[:8], "big") % n
  EXPECT_EQ(app::shard_of("a/b.pt", 16), 12u);
  EXPECT_EQ(app::shard_of("models/team-a/model.onnx", 64), 44u);
  EXPECT_EQ(app::shard_of("x", 7), 1u);
  EXPECT_EQ(app::shard_of("anything", 1), 0u);
}

TEST(Shard, SpreadsFilesEvenly) {
  std::vector<int> counts(16);
  for (int i = 0; i < 16000; ++i)
    ++counts[app::shard_of("store/model-" + std::to_string(i) + ".pt", 16)];
  for (int c : counts) {
    EXPECT_GT(c, 850);
    EXPECT_LT(c, 1150);
  }
}

TEST(Shard, ParseAndCheck) {
  auto s = app::parse_shard("3/16", "--shard");
  EXPECT_EQ(s.index(), 3u);
  EXPECT_EQ(s.count(), 16u);
  for (const char* bad :
       {"16/16", "1/0", "a/2", "1/", "/2", "1/2/3", "-1/2", "1 /2", "0/2000000", ""})
    EXPECT_THROW(app::parse_shard(bad, "--shard"), app::AppError) << bad;
  Fixture fx;
  test::TempDir dir;
  make_tree(dir, 3);
  try {
    fx.scan(dir.path(), 4, 4);
    FAIL() << "shard 4/4 accepted";
  } catch (const app::AppError& e) {
    EXPECT_EQ(e.code(), app::AppError::Code::invalid_argument);
  }
}

// ---- merge ----

v1::FileReport file(const std::string& path, v1::Severity sev = v1::SEVERITY_UNSPECIFIED,
                    v1::FileStatus status = v1::SCANNED) {
  v1::FileReport f;
  f.set_path(path);
  f.set_status(status);
  if (sev != v1::SEVERITY_UNSPECIFIED) {
    auto* fi = f.add_findings();
    fi->set_severity(sev);
    fi->set_rule_id("R");
    fi->set_scanner("pickle");
  }
  return f;
}

v1::ScanReport shard_report(uint32_t k, uint32_t n, std::vector<v1::FileReport> files,
                            double seconds = 1,
                            const std::string& started = "2026-01-01T00:00:00Z") {
  v1::ScanReport r;
  r.set_tool_version("0.1.0");
  r.set_fail_on(v1::HIGH);
  r.mutable_shard()->set_index(k);
  r.mutable_shard()->set_count(n);
  for (auto& f : files) *r.add_files() = std::move(f);
  r.set_started_at(started);
  r.set_duration_seconds(seconds);
  auto* s = r.add_scanners();
  s->set_name("pickle");
  s->set_version("1.0");
  return r;
}

TEST(ShardMerge, CombinesFilesTotalsAndVerdict) {
  auto merged = app::merge_scan_reports({
      shard_report(1, 3, {file("s/c"), file("s/a", v1::CRITICAL)}, 4, "2026-01-01T00:00:05Z"),
      shard_report(0, 3, {file("s/b", v1::LOW), file("s/d", v1::SEVERITY_UNSPECIFIED, v1::ERROR)},
                   2),
      shard_report(2, 3, {}, 1, "2026-01-01T00:00:01Z"),
  });
  ASSERT_EQ(merged.files_size(), 4);
  EXPECT_EQ(merged.files(0).path(), "s/a");
  EXPECT_EQ(merged.files(3).path(), "s/d");
  EXPECT_EQ(merged.summary().files(), 4u);
  EXPECT_EQ(merged.summary().files_with_errors(), 1u);
  EXPECT_EQ(merged.summary().findings_by_severity().at("CRITICAL"), 1u);
  EXPECT_EQ(merged.summary().findings_by_severity().at("LOW"), 1u);
  EXPECT_EQ(merged.summary().max_severity(), v1::CRITICAL);
  EXPECT_EQ(merged.verdict(), "fail");
  EXPECT_EQ(merged.fail_on(), v1::HIGH);
  EXPECT_EQ(merged.started_at(), "2026-01-01T00:00:00Z");
  EXPECT_DOUBLE_EQ(merged.duration_seconds(), 4);
  EXPECT_EQ(merged.scanners_size(), 1);
  EXPECT_EQ(merged.shard().count(), 3u);
  EXPECT_THAT(merged.shard().merged(), ::testing::ElementsAre(0u, 1u, 2u));
  EXPECT_TRUE(merged.shard().missing().empty());
}

TEST(ShardMerge, VerdictOfCleanShardsAndOfAnIncompleteOne) {
  auto clean = app::merge_scan_reports(
      {shard_report(0, 2, {file("a")}), shard_report(1, 2, {file("b", v1::LOW)})});
  EXPECT_EQ(clean.verdict(), "pass");
  auto errors = app::merge_scan_reports(
      {shard_report(0, 2, {file("a")}),
       shard_report(1, 2, {file("b", v1::SEVERITY_UNSPECIFIED, v1::PARTIAL)})});
  EXPECT_EQ(errors.verdict(), "error");
}

TEST(ShardMerge, RealShardScansMergeIntoTheUnshardedScan) {
  Fixture fx;
  test::TempDir dir;
  make_tree(dir, 80);
  const auto root = dir.path() / "store";
  auto whole = fx.scan(root, 0, 0);
  std::vector<v1::ScanReport> parts;
  for (uint32_t k = 0; k < 6; ++k) parts.push_back(fx.scan(root, k, 6));
  auto merged = app::merge_scan_reports(parts);
  ASSERT_EQ(merged.files_size(), whole.files_size());
  for (int i = 0; i < whole.files_size(); ++i)
    EXPECT_EQ(merged.files(i).path(), whole.files(i).path());
  EXPECT_EQ(merged.summary().files(), whole.summary().files());
  EXPECT_EQ(merged.verdict(), whole.verdict());
}

TEST(ShardMerge, RefusesWhatDoesNotAddUp) {
  auto expect_refused = [](std::vector<v1::ScanReport> reports, const std::string& why) {
    try {
      app::merge_scan_reports(reports);
      ADD_FAILURE() << "merged: " << why;
    } catch (const app::AppError& e) {
      EXPECT_THAT(e.what(), HasSubstr(why));
    }
  };
  expect_refused({}, "no reports");
  expect_refused({shard_report(0, 2, {file("a")}), shard_report(1, 3, {file("b")})},
                 "the first of 2 shards");
  expect_refused({shard_report(0, 2, {file("a")}), shard_report(0, 2, {file("b")})}, "given twice");
  expect_refused({shard_report(0, 2, {file("a")}), shard_report(1, 2, {file("a")})},
                 "overlapping shards");
  expect_refused({shard_report(0, 3, {file("a")}), shard_report(2, 3, {file("b")})},
                 "1 of 3 shards missing (1)");
  auto other = shard_report(1, 2, {file("b")});
  other.set_fail_on(v1::LOW);
  expect_refused({shard_report(0, 2, {file("a")}), other}, "judged against LOW");
}

TEST(ShardMerge, MissingShardsWhenAllowedAreListedAndNeverPass) {
  app::MergeOptions allow;
  allow.allow_missing = true;
  auto merged = app::merge_scan_reports(
      {shard_report(0, 4, {file("a")}), shard_report(2, 4, {file("b")})}, allow);
  EXPECT_THAT(merged.shard().missing(), ::testing::ElementsAre(1u, 3u));
  EXPECT_THAT(merged.shard().merged(), ::testing::ElementsAre(0u, 2u));
  EXPECT_EQ(merged.verdict(), "error");
}

TEST(ShardPipeline, ScanStepTakesAShard) {
  host::Registry registry;
  app::LocalFiles files;
  app::Environment env{registry, files};
  v1::PipelineRequest req;
  req.set_spec_name("spec.yaml");
  req.set_spec(
      "name: s\nsteps:\n  - id: scan\n    scan:\n      paths: [models]\n      shard: 2/8\n");
  std::vector<std::string> errors;
  auto spec = app::pipeline::parse_spec(env, req, errors);
  ASSERT_TRUE(errors.empty()) << errors.front();
  const auto& s = std::get<app::pipeline::ScanStep>(spec.steps.at(0).config);
  EXPECT_EQ(s.shard.index(), 2u);
  EXPECT_EQ(s.shard.count(), 8u);

  req.set_spec(
      "name: s\nsteps:\n  - id: scan\n    scan:\n      paths: [models]\n      shard: 8/8\n");
  errors.clear();
  app::pipeline::parse_spec(env, req, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("spec.yaml:6:"));
  EXPECT_THAT(errors[0], HasSubstr("'8/8' is not K/N"));
}

}  // namespace
