// Opening files safely: links are never followed below a root, FIFOs and devices are reported
// and skipped without a blocking open, the descriptor checked is the one scanned, and every
// scanned file carries the SHA-256 of its bytes.
#include "secmlops/host/safe_open.hpp"
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace secmlops::host {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class SafeWalk : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.load_library(fs::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-cpp.so");
  }
  const v1::FileReport* find(const v1::ScanReport& r, const fs::path& p) {
    for (const auto& f : r.files())
      if (f.path() == p.string()) return &f;
    return nullptr;
  }
  Registry registry_;
  test::TempDir dir_;
};

TEST_F(SafeWalk, OpenBeneathRefusesLinksAndEscapes) {
  dir_.write("a/file", "GOOD");
  fs::create_symlink(dir_.path() / "a" / "file", dir_.path() / "link");
  fs::create_directory_symlink(dir_.path() / "a", dir_.path() / "dirlink");
  UniqueFd root(::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root);
  UniqueFd ok(open_beneath(root.get(), "a/file", O_RDONLY));
  EXPECT_TRUE(ok);
  EXPECT_EQ(open_beneath(root.get(), "link", O_RDONLY), -ELOOP);
  EXPECT_LT(open_beneath(root.get(), "dirlink/file", O_RDONLY), 0);
  EXPECT_LT(open_beneath(root.get(), "../etc/passwd", O_RDONLY), 0);
  EXPECT_LT(open_beneath(root.get(), "/etc/passwd", O_RDONLY), 0);
  EXPECT_LT(open_beneath(root.get(), "a/../../x", O_RDONLY), 0);
}

TEST_F(SafeWalk, SpecialEntriesAreReportedAsSkipped) {
  auto good = dir_.write("good.bin", "GOOD");
  ASSERT_EQ(::mkfifo((dir_.path() / "fifo").c_str(), 0600), 0);
  fs::create_symlink("/etc/passwd", dir_.path() / "outside");
  fs::create_symlink("loop", dir_.path() / "loop");
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock_path = (dir_.path() / "sock").string();
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  fs::create_symlink("/dev/zero", dir_.path() / "zero");

  auto t0 = std::chrono::steady_clock::now();
  auto report = ScanEngine(registry_, {}).scan_paths({dir_.path()});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  ::close(s);
  ASSERT_EQ(report.files_size(), 6);
  for (const char* name : {"fifo", "outside", "loop", "sock", "zero"}) {
    const auto* f = find(report, dir_.path() / name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->status(), v1::SKIPPED) << name;
  }
  EXPECT_THAT(find(report, dir_.path() / "fifo")->error(), HasSubstr("FIFO"));
  EXPECT_THAT(find(report, dir_.path() / "sock")->error(), HasSubstr("socket"));
  EXPECT_THAT(find(report, dir_.path() / "outside")->error(), HasSubstr("symlink"));
  EXPECT_EQ(find(report, good)->status(), v1::SCANNED);
}

TEST_F(SafeWalk, FifoAndDeviceArgumentsNeverBlock) {
  auto fifo = dir_.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto report = ScanEngine(registry_, {}).scan_paths({fifo, "/dev/null"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  ASSERT_EQ(report.files_size(), 2);
  EXPECT_EQ(report.files(0).status(), v1::SKIPPED);
  EXPECT_THAT(report.files(0).error(), HasSubstr("FIFO"));
  EXPECT_EQ(report.files(1).status(), v1::SKIPPED);
  EXPECT_THAT(report.files(1).error(), HasSubstr("character device"));
  // scan_file on its own too.
  EXPECT_EQ(ScanEngine(registry_, {}).scan_file(fifo).status(), v1::SKIPPED);
}

TEST_F(SafeWalk, Sha256OfEveryScannedFile) {
  auto p = dir_.write("evil.bin", "EVIL payload");
  auto r = ScanEngine(registry_, {}).scan_file(p);
  // printf 'EVIL payload' | sha256sum
  EXPECT_EQ(r.sha256(), "2e43827578cbf8c7c098fe093fe769859e4688ff412708cda4477766eed53b0d");
  auto up = ScanEngine(registry_, {})
                .scan_stream(std::make_shared<MemoryStream>(std::vector<uint8_t>{
                                 'E', 'V', 'I', 'L', ' ', 'p', 'a', 'y', 'l', 'o', 'a', 'd'}),
                             "upload");
  EXPECT_EQ(up.sha256(), r.sha256());
}

// The tree is scanned while another thread keeps swapping a listed file for a symlink to a file
// outside the root: the outside file's finding must never appear, whatever the timing.
TEST_F(SafeWalk, SymlinkSwappedDuringAScanIsNeverFollowed) {
  test::TempDir outside;
  auto secret = outside.write("secret.bin", "EVIL outside the root");
  auto root = dir_.path() / "root";
  fs::create_directories(root / "sub");
  for (int i = 0; i < 20; ++i) dir_.write("root/sub/f" + std::to_string(i), "GOOD");
  auto victim = root / "sub" / "f7";
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    auto tmp_link = root / "sub" / ".link";
    auto tmp_file = root / "sub" / ".file";
    while (!stop) {
      std::error_code ec;
      fs::create_symlink(secret, tmp_link, ec);
      fs::rename(tmp_link, victim, ec);
      std::ofstream(tmp_file) << "GOOD";
      fs::rename(tmp_file, victim, ec);
      // And the directory itself, for a walk that would follow a swapped folder.
      fs::rename(root / "sub", root / "sub.real", ec);
      fs::create_directory_symlink(outside.path(), root / "sub", ec);
      fs::remove(root / "sub", ec);
      fs::rename(root / "sub.real", root / "sub", ec);
    }
  });
  ScanOptions o;
  o.roots = {root};
  for (int round = 0; round < 30; ++round) {
    auto report = ScanEngine(registry_, o).scan_paths({root});
    for (const auto& f : report.files()) {
      for (const auto& fi : f.findings()) ADD_FAILURE() << f.path() << ": " << fi.rule_id();
      EXPECT_THAT(f.error(), ::testing::Not(HasSubstr("EVIL"))) << f.path();
    }
  }
  stop = true;
  swapper.join();
}

TEST_F(SafeWalk, RootsConfinePathsGivenDirectly) {
  auto root = dir_.path() / "root";
  fs::create_directories(root);
  test::TempDir outside;
  auto secret = outside.write("secret.bin", "EVIL outside");
  fs::create_symlink(secret, root / "link");
  ScanOptions o;
  o.roots = {root};
  auto r = ScanEngine(registry_, o).scan_file(root / "link");
  EXPECT_EQ(r.status(), v1::SKIPPED);
  EXPECT_EQ(r.findings_size(), 0);
  EXPECT_NE(ScanEngine(registry_, o).scan_file(secret).status(), v1::SCANNED);
}

}  // namespace
}  // namespace secmlops::host
