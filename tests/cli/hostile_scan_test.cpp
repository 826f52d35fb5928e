// The CLI against hostile trees and plugins: FIFOs as arguments never block, special entries are
// listed as skipped, an unreadable directory is an error with exit 2, a crashing plugin costs
// one file (the others are reported), a bad scanner option is refused up front.
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

namespace {

using secmlops::test::run_command;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string cli(const std::string& args) {
  return std::string(SECMLOPS_CLI) + " --plugin-dir " SECMLOPS_FIXTURE_PLUGIN_DIR " --plugin-dir " +
         SECMLOPS_HOSTILE_PLUGIN_DIR + " " + args;
}

TEST(HostileScan, FifoArgumentIsSkippedNotWaitedOn) {
  secmlops::test::TempDir d;
  auto fifo = d.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = run_command("timeout 20 " + cli("scan --format json " + fifo.string() + " 2>/dev/null"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\"SKIPPED\""));
  EXPECT_THAT(r.out, HasSubstr("FIFO"));
}

TEST(HostileScan, CrashingPluginCostsOneFileAndTheRestIsReported) {
  secmlops::test::TempDir d;
  d.write("a.bin", "EVIL one");
  d.write("b.bin", "HOSTILE segv  ");
  d.write("c.bin", "EVIL two");
  auto r = run_command(cli("scan " + d.path().string() + " 2>/dev/null"));
  EXPECT_EQ(r.exit_code, 1) << r.out;  // findings win over the error
  EXPECT_THAT(r.out, HasSubstr("b.bin: ERROR"));
  EXPECT_THAT(r.out, HasSubstr("SIGSEGV"));
  EXPECT_THAT(r.out, HasSubstr("c.bin: scanned, 1 finding(s)"));
  EXPECT_THAT(r.out, HasSubstr("summary: 3 file(s), 1 with errors"));
}

TEST(HostileScan, LoopingPluginHonoursTheTimeout) {
  secmlops::test::TempDir d;
  d.write("loop.bin", "HOSTILE loop  ");
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_command(cli("scan --timeout 1 " + d.path().string() + " 2>/dev/null"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1);  // the finding emitted before the loop is HIGH
  EXPECT_THAT(r.out, HasSubstr("time limit"));
}

TEST(HostileScan, BadScannerOptionIsRefusedUpFront) {
  secmlops::test::TempDir d;
  auto f = d.write("x.bin", "EVIL");
  auto r =
      run_command(std::string(SECMLOPS_CLI) + " scan --option mode=bogus " + f.string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("mode must be"));
}

// A name with invalid UTF-8, a newline and a terminal escape sequence: JSON and SARIF stay
// valid UTF-8 with the bytes escaped, text shows no raw control characters, the exit code is
// the findings' (1), not an output failure (2).
TEST(HostileScan, HostileFileNamesAreRenderedSafely) {
  secmlops::test::TempDir d;
  std::string name = std::string("bad\xff\xfe\nname\x1b[31m.bin");
  d.write(name, "EVIL");
  d.write("plain.bin", "EVIL");
  for (const char* format : {"json", "sarif"}) {
    auto r =
        run_command(cli(std::string("scan --format ") + format + " " + d.path().string() +
                        " 2>/dev/null | python3 -c 'import sys,json; b=sys.stdin.buffer.read(); "
                        "json.loads(b.decode(\"utf-8\")); print(\"VALID\", b\"\\\\xff\" in b)'"));
    EXPECT_THAT(r.out, HasSubstr("VALID True")) << format << ": " << r.out;
  }
  auto code = run_command(cli("scan --format sarif " + d.path().string() + " >/dev/null 2>&1"));
  EXPECT_EQ(code.exit_code, 1);
  auto text = run_command(cli("scan " + d.path().string() + " 2>/dev/null"));
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos);
  EXPECT_THAT(text.out, HasSubstr("bad\\xff\\xfe\\x0aname\\x1b[31m.bin"));
  EXPECT_EQ(text.out.find('\xff'), std::string::npos);
}

// Root reads everything: the unreadable directory is checked as an unprivileged user.
TEST(HostileScan, UnreadableDirectoryIsAnErrorWithExitTwo) {
  if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0)
    GTEST_SKIP() << "needs root and setpriv";
  secmlops::test::TempDir d;
  fs::permissions(d.path(), fs::perms::all);
  auto locked = d.path() / "locked";
  fs::create_directories(locked);
  d.write("locked/x.bin", "EVIL");
  fs::permissions(locked, fs::perms::none);
  auto r = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " +
                       cli("scan " + locked.string() + " 2>/dev/null"));
  fs::permissions(locked, fs::perms::owner_all);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ERROR"));
  EXPECT_THAT(r.out, HasSubstr("Permission denied"));
}

}  // namespace
