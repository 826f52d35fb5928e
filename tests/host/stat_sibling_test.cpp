// The host answers "what is at this relative path" for scanners without ever looking outside
// the scanned file's directory.
#include "scan_job.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace secmlops::host {
namespace {

TEST(StatSibling, ExistingFileInsideTheDirectory) {
  test::TempDir d;
  d.write("model/weights.bin", "12345");
  auto info = stat_sibling_in(d.path() / "model", "weights.bin");
  EXPECT_EQ(info.flags, SECMLOPS_SIBLING_EXISTS);
  EXPECT_EQ(info.size, 5u);
}

TEST(StatSibling, MissingFileHasNoFlags) {
  test::TempDir d;
  EXPECT_EQ(stat_sibling_in(d.path(), "nope.bin").flags, 0u);
}

TEST(StatSibling, AbsoluteAndDotDotEscapesAreFlaggedWithoutLooking) {
  test::TempDir d;
  d.write("secret", "x");
  std::filesystem::create_directories(d.path() / "model");
  EXPECT_EQ(stat_sibling_in(d.path() / "model", "/etc/passwd").flags,
            SECMLOPS_SIBLING_ABSOLUTE | SECMLOPS_SIBLING_OUTSIDE);
  EXPECT_EQ(stat_sibling_in(d.path() / "model", "../secret").flags, SECMLOPS_SIBLING_OUTSIDE);
  EXPECT_EQ(stat_sibling_in(d.path() / "model", "a/../../secret").flags, SECMLOPS_SIBLING_OUTSIDE);
  // ".." that stays inside is fine.
  d.write("model/a/w.bin", "1");
  EXPECT_EQ(stat_sibling_in(d.path() / "model", "a/../a/w.bin").flags, SECMLOPS_SIBLING_EXISTS);
}

TEST(StatSibling, SymlinkEscapeIsFlagged) {
  test::TempDir d;
  d.write("outside/secret", "x");
  std::filesystem::create_directories(d.path() / "model");
  std::filesystem::create_symlink(d.path() / "outside", d.path() / "model" / "link");
  auto info = stat_sibling_in(d.path() / "model", "link/secret");
  EXPECT_TRUE(info.flags & SECMLOPS_SIBLING_SYMLINK);
  EXPECT_TRUE(info.flags & SECMLOPS_SIBLING_OUTSIDE);
  EXPECT_FALSE(info.flags & SECMLOPS_SIBLING_EXISTS);
}

TEST(StatSibling, DirectoryIsNotRegular) {
  test::TempDir d;
  std::filesystem::create_directories(d.path() / "m" / "sub");
  EXPECT_EQ(stat_sibling_in(d.path() / "m", "sub").flags,
            SECMLOPS_SIBLING_EXISTS | SECMLOPS_SIBLING_NOT_REGULAR);
}

}  // namespace
}  // namespace secmlops::host
