#include "secmlops/host/stream.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace secmlops::host {
namespace {

TEST(Stream, FileStreamReadsAndViews) {
  test::TempDir d;
  auto p = d.write("f", "0123456789");
  FileStream s(p);
  EXPECT_EQ(s.size(), 10u);
  char buf[4];
  EXPECT_EQ(s.read_at(8, buf, 4), 2u);
  EXPECT_EQ(std::string(buf, 2), "89");
  EXPECT_EQ(s.read_at(10, buf, 4), 0u);
  ASSERT_NE(s.view(2, 3), nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(s.view(2, 3)), 3), "234");
  EXPECT_EQ(s.view(9, 2), nullptr);
  EXPECT_EQ(s.view(UINT64_MAX, 2), nullptr);
}

TEST(Stream, EmptyFileAndDirectory) {
  test::TempDir d;
  FileStream empty(d.write("e", ""));
  EXPECT_EQ(empty.size(), 0u);
  char c;
  EXPECT_EQ(empty.read_at(0, &c, 1), 0u);
  EXPECT_THROW(FileStream{d.path()}, std::runtime_error);
}

TEST(Stream, SubStreamStaysInsideItsWindow) {
  auto base = std::make_shared<MemoryStream>(std::vector<uint8_t>{'a', 'b', 'c', 'd', 'e'});
  SubStream sub(base, 1, 3);
  char buf[8];
  EXPECT_EQ(sub.read_at(0, buf, 8), 3u);
  EXPECT_EQ(std::string(buf, 3), "bcd");
  EXPECT_EQ(sub.view(2, 2), nullptr);
  EXPECT_THROW(SubStream(base, 4, 2), std::runtime_error);
  EXPECT_THROW(SubStream(base, UINT64_MAX, 2), std::runtime_error);
}

}  // namespace
}  // namespace secmlops::host
