// Scanner plugins in sandboxed workers: a plugin that crashes, aborts, loops, allocates without
// bound, opens a path or a socket, or reads a file truncated under it becomes an ERROR for that
// file with the reason, its findings so far are kept, the other files are scanned, and the host
// process lives on.
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"
#include "support/temp_dir.hpp"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class Sandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.load_library(fs::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-cpp.so");
    registry_.load_library(fs::path(SECMLOPS_HOSTILE_PLUGIN_DIR) / "secmlops_hostile.so");
  }
  // A folder with a good file, an evil one, and one hostile file in the middle.
  v1::ScanReport scan_with(const std::string& word, double seconds = 300) {
    dir_.write("a_evil.bin", "EVIL first");
    dir_.write("m_hostile.bin", "HOSTILE " + word + std::string(6 - word.size(), ' '));
    dir_.write("z_evil.bin", "EVIL last");
    ScanOptions o;
    o.limits.seconds_per_file = seconds;
    o.limits.worker_memory_bytes = 1ull << 30;
    return ScanEngine(registry_, o).scan_paths({dir_.path()});
  }
  void expect_contained(const v1::ScanReport& r, const std::string& reason) {
    ASSERT_EQ(r.files_size(), 3);
    EXPECT_EQ(r.files(0).status(), v1::SCANNED);
    EXPECT_EQ(r.files(0).findings_size(), 1);
    const auto& h = r.files(1);
    EXPECT_EQ(h.status(), v1::ERROR) << h.error();
    EXPECT_THAT(h.error(), HasSubstr(reason));
    EXPECT_THAT(h.error(), HasSubstr("fixture-hostile"));
    ASSERT_GE(h.findings_size(), 1) << "the finding emitted before the failure is kept";
    EXPECT_EQ(h.findings(0).rule_id(), "FIXTURE-HOSTILE");
    for (const auto& f : h.findings()) EXPECT_NE(f.rule_id(), "FIXTURE-LEAK");
    EXPECT_EQ(h.sha256().size(), 64u);
    EXPECT_EQ(r.files(2).status(), v1::SCANNED);
    EXPECT_EQ(r.files(2).findings_size(), 1);
  }
  Registry registry_;
  test::TempDir dir_;
};

TEST_F(Sandbox, NullWriteIsAnErrorWithTheSignal) { expect_contained(scan_with("segv"), "SIGSEGV"); }

TEST_F(Sandbox, AbortIsAnErrorWithTheSignal) { expect_contained(scan_with("abort"), "SIGABRT"); }

TEST_F(Sandbox, EndlessLoopIsStoppedAtTheTimeLimit) {
  auto t0 = std::chrono::steady_clock::now();
  expect_contained(scan_with("loop", 1), "time limit");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

TEST_F(Sandbox, HugeAllocationHitsTheMemoryLimit) {
  auto r = scan_with("alloc");
  ASSERT_EQ(r.files_size(), 3);
  const auto& h = r.files(1);
  EXPECT_NE(h.status(), v1::SCANNED);
  EXPECT_THAT(h.error(), HasSubstr("allocate"));
  EXPECT_EQ(r.files(2).status(), v1::SCANNED);
}

// Opening a path fails as if nothing existed (libhdf5 probes for an absent file that way); an
// attempt on a file that does exist is a finding on the scanned file.
TEST_F(Sandbox, OpeningAPathIsRefusedAndReported) {
  auto r = scan_with("passwd");
  ASSERT_EQ(r.files_size(), 3);
  const auto& h = r.files(1);
  bool reported = false;
  for (const auto& f : h.findings()) {
    EXPECT_NE(f.rule_id(), "FIXTURE-LEAK");
    if (f.rule_id() == "HOST-SANDBOX-OPEN") {
      reported = true;
      EXPECT_THAT(f.message(), HasSubstr("/etc/passwd"));
      EXPECT_EQ(f.severity(), v1::HIGH);
    }
  }
  EXPECT_TRUE(reported) << h.DebugString();
  EXPECT_EQ(r.files(2).status(), v1::SCANNED);
}

TEST_F(Sandbox, OpeningASocketIsAForbiddenSystemCall) {
  expect_contained(scan_with("socket"), "forbidden system call socket");
}

TEST_F(Sandbox, FileTruncatedDuringTheScanIsAnErrorNotACrash) {
  auto p = dir_.write("big.bin", "HOSTILE bus   " + std::string(8 << 20, 'x'));
  std::thread truncator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    ::truncate(p.c_str(), 0);
  });
  auto r = ScanEngine(registry_, {}).scan_file(p);
  truncator.join();
  EXPECT_EQ(r.status(), v1::ERROR);
  EXPECT_THAT(r.error(), HasSubstr("SIGBUS"));
  ASSERT_GE(r.findings_size(), 1);
}

TEST_F(Sandbox, WorkersAreReusedAndReplaced) {
  auto good = dir_.write("good.bin", "EVIL again");
  ScanEngine engine(registry_, {});
  for (int i = 0; i < 50; ++i) EXPECT_EQ(engine.scan_file(good).status(), v1::SCANNED);
  auto crash = dir_.write("crash.bin", "HOSTILE segv  ");
  EXPECT_EQ(engine.scan_file(crash).status(), v1::ERROR);
  EXPECT_EQ(engine.scan_file(good).findings_size(), 1);
}

// Workers started together are one program start and copies of it: each copy is the host's own
// child, confined like the first, so a crash in any of them is reaped with its signal.
TEST_F(Sandbox, WorkersStartedTogetherAreEachConfinedAndReaped) {
  ScanOptions o;
  o.limits.worker_memory_bytes = (1ull << 30) + 4096;  // a pool of its own, cold
  ScanEngine engine(registry_, o);
  engine.prewarm(3);
  auto crash = dir_.write("crash.bin", "HOSTILE segv  ");
  auto escape = dir_.write("escape.bin", "HOSTILE socket");
  auto good = dir_.write("good.bin", "EVIL again");
  // Idle workers are taken last started first: the copies, then the first.
  auto r = engine.scan_file(crash);
  EXPECT_EQ(r.status(), v1::ERROR);
  EXPECT_THAT(r.error(), HasSubstr("SIGSEGV"));
  r = engine.scan_file(escape);
  EXPECT_EQ(r.status(), v1::ERROR);
  EXPECT_THAT(r.error(), HasSubstr("forbidden system call socket"));
  r = engine.scan_file(crash);
  EXPECT_THAT(r.error(), HasSubstr("SIGSEGV"));
  EXPECT_EQ(engine.scan_file(good).findings_size(), 1);
}

TEST_F(Sandbox, BatchesOfSmallFilesKeepEveryReportAndContainEachCrash) {
  // Small files go to workers in batches: a crash in the middle of a batch is an ERROR for that
  // file only; the files before it keep their reports, the ones after it go to a fresh worker.
  for (int i = 0; i < 70; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "f%03d.bin", i);
    if (i == 5)
      dir_.write(name, "HOSTILE segv  ");
    else if (i == 37)
      dir_.write(name, "HOSTILE abort ");
    else
      dir_.write(name, "EVIL " + std::to_string(i));
  }
  ScanOptions o;
  o.limits.worker_memory_bytes = 1ull << 30;
  o.parallel_files = 2;
  auto r = ScanEngine(registry_, o).scan_paths({dir_.path()});
  ASSERT_EQ(r.files_size(), 70);
  for (int i = 0; i < 70; ++i) {
    const auto& f = r.files(i);
    char name[32];
    std::snprintf(name, sizeof name, "f%03d.bin", i);
    EXPECT_EQ(fs::path(f.path()).filename(), name) << "reports stay in sorted order";
    EXPECT_EQ(f.sha256().size(), 64u) << name;
    if (i == 5 || i == 37) {
      EXPECT_EQ(f.status(), v1::ERROR) << name;
      EXPECT_THAT(f.error(), HasSubstr(i == 5 ? "SIGSEGV" : "SIGABRT"));
      ASSERT_GE(f.findings_size(), 1);
      EXPECT_EQ(f.findings(0).rule_id(), "FIXTURE-HOSTILE");
    } else {
      EXPECT_EQ(f.status(), v1::SCANNED) << name << ": " << f.error();
      ASSERT_EQ(f.findings_size(), 1) << name;
      EXPECT_EQ(f.findings(0).rule_id(), "FIXTURE-EVIL");
      EXPECT_EQ(f.size(), 5u + std::to_string(i).size());
    }
  }
}

TEST_F(Sandbox, InProcessIsAvailableOnRequest) {
  auto good = dir_.write("good.bin", "EVIL");
  ScanOptions o;
  o.isolation = Isolation::in_process;
  auto r = ScanEngine(registry_, o).scan_file(good);
  EXPECT_EQ(r.status(), v1::SCANNED);
  EXPECT_EQ(r.findings_size(), 1);
}

}  // namespace
}  // namespace secmlops::host

namespace secmlops::host {
namespace {

TEST(SandboxConfig, RefusedConfigurationIsReportedOnce) {
  Registry registry;
  registry.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) /
                        "secmlops_fixture-cpp.so");
  ScanOptions o;
  o.scanner_config = {{"severity", "not-a-number"}};
  for (auto isolation : {Isolation::sandbox, Isolation::in_process}) {
    o.isolation = isolation;
    EXPECT_THAT(ScanEngine(registry, o).config_error(), ::testing::HasSubstr("fixture-magic"));
  }
  EXPECT_EQ(ScanEngine(registry, {}).config_error(), "");
}

}  // namespace
}  // namespace secmlops::host
