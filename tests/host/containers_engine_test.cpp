// Containers through the scan engine: members routed by content to the fixture scanner (which
// flags streams starting with "EVIL"), every archive anomaly reported as a host finding, and
// limits turned into findings and partial statuses.
#include "host/containers_fixtures.hpp"
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/v1/report.pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace secmlops::host {
namespace {

using test::archive_fixture;
using ::testing::Contains;
using ::testing::HasSubstr;

class ContainersEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.load_library(std::filesystem::path(SECMLOPS_FIXTURE_PLUGIN_DIR) /
                           "secmlops_fixture-cpp.so");
  }
  v1::FileReport scan(const std::string& fixture, ScanOptions o = {}) {
    return ScanEngine(registry_, std::move(o)).scan_file(archive_fixture(fixture));
  }
  static std::vector<std::string> rules(const v1::FileReport& r) {
    std::vector<std::string> out;
    for (const auto& f : r.findings()) out.push_back(f.rule_id());
    return out;
  }
  // Member chains (joined with "!/") of the FIXTURE-EVIL findings.
  static std::vector<std::string> evil_members(const v1::FileReport& r) {
    std::vector<std::string> out;
    for (const auto& f : r.findings()) {
      if (f.rule_id() != "FIXTURE-EVIL") continue;
      std::string chain;
      for (const auto& m : f.location().members()) chain += (chain.empty() ? "" : "!/") + m;
      out.push_back(chain);
    }
    return out;
  }
  static const v1::Finding* find(const v1::FileReport& r, const std::string& rule) {
    for (const auto& f : r.findings())
      if (f.rule_id() == rule) return &f;
    return nullptr;
  }
  Registry registry_;
};

TEST_F(ContainersEngine, StoredAndDeflatedZipMembersAreRoutedByContent) {
  for (const char* name :
       {"plain_stored.zip", "plain_deflated.zip", "plain_bzip2.zip", "plain_lzma.zip"}) {
    SCOPED_TRACE(name);
    auto r = scan(name);
    EXPECT_EQ(r.status(), v1::SCANNED) << r.error();
    auto evil = evil_members(r);
    ASSERT_EQ(evil.size(), 1u);
    EXPECT_THAT(evil[0], ::testing::AnyOf("archive/data.pkl", "x/evil"));
    // Normal archives raise no anomaly.
    for (const auto& f : r.findings()) EXPECT_EQ(f.scanner(), "fixture-magic") << f.rule_id();
    // The container is recorded as a stream the host handled.
    bool has_zip = false;
    for (const auto& s : r.streams()) has_zip |= s.format() == "zip" && s.scanner() == "host";
    EXPECT_TRUE(has_zip);
  }
}

TEST_F(ContainersEngine, BenignZipHasNoFindings) {
  auto r = scan("benign.zip");
  EXPECT_EQ(r.findings_size(), 0);
  EXPECT_EQ(r.status(), v1::SCANNED);
}

TEST_F(ContainersEngine, Zip64IsRead) {
  auto r = scan("zip64.zip");
  EXPECT_EQ(r.status(), v1::SCANNED) << r.error();
  EXPECT_THAT(evil_members(r), ::testing::ElementsAre("archive/data.pkl"));
  EXPECT_EQ(r.findings_size(), 1);
}

TEST_F(ContainersEngine, DataDescriptorsAreNormalUnlessTheyDisagree) {
  auto r = scan("data_descriptor.zip");
  EXPECT_THAT(evil_members(r), ::testing::ElementsAre("streamed/evil"));
  EXPECT_EQ(r.findings_size(), 1);
  auto m = scan("descriptor_mismatch.zip");
  EXPECT_THAT(rules(m), Contains("HOST-ZIP-DESCRIPTOR-MISMATCH"));
  EXPECT_EQ(evil_members(m).size(), 1u);
}

TEST_F(ContainersEngine, NameMismatchIsReportedAndScanned) {
  auto r = scan("name_mismatch.zip");
  const auto* f = find(r, "HOST-ZIP-NAME-MISMATCH");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity(), v1::HIGH);
  EXPECT_EQ(f->scanner(), "host");
  EXPECT_EQ(f->location().offset(), 0u);
  EXPECT_EQ(evil_members(r).size(), 1u);
}

TEST_F(ContainersEngine, MethodMismatchScansBothReadings) {
  auto r = scan("method_mismatch.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-METHOD-MISMATCH"));
  // The directory's reading (deflate) inflates to EVIL; the local one (stored) is raw deflate.
  EXPECT_THAT(evil_members(r), ::testing::ElementsAre("m"));
  bool local_reading = false;
  for (const auto& s : r.streams())
    local_reading |= s.members_size() == 1 && s.members(0) == "m [as the local header says]";
  EXPECT_TRUE(local_reading);
}

TEST_F(ContainersEngine, SizeMismatchExposesWhatTheLocalHeaderCovers) {
  auto r = scan("size_mismatch.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-SIZE-MISMATCH"));
  // The directory covers "GOOD content"; the local header covers more bytes. The EVIL after GOOD
  // is not at the start of either reading, so no FIXTURE-EVIL, but both readings are streams.
  int readings = 0;
  for (const auto& s : r.streams())
    if (s.members_size() == 1 && s.members(0).rfind("m", 0) == 0) ++readings;
  EXPECT_EQ(readings, 2);
}

TEST_F(ContainersEngine, EncryptedMemberCannotBeScanned) {
  auto r = scan("encrypted.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-ENCRYPTED"));
  EXPECT_EQ(r.status(), v1::PARTIAL);
  EXPECT_THAT(r.error(), HasSubstr("encrypted"));
}

TEST_F(ContainersEngine, FlagsMismatch) {
  auto r = scan("flags_mismatch.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-FLAGS-MISMATCH"));
}

TEST_F(ContainersEngine, CrcMismatchOnScannedMembers) {
  for (const char* name : {"crc_mismatch.zip", "crc_mismatch_deflated.zip"}) {
    SCOPED_TRACE(name);
    auto r = scan(name);
    const auto* f = find(r, "HOST-ZIP-CRC-MISMATCH");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(f->location().members_size(), 1);
    EXPECT_EQ(f->location().members(0), "m");
    EXPECT_EQ(evil_members(r).size(), 1u);
  }
}

TEST_F(ContainersEngine, DuplicateNamesAreAllScanned) {
  auto r = scan("duplicate_names.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-DUPLICATE-NAME"));
  auto evil = evil_members(r);
  ASSERT_EQ(evil.size(), 1u);
  EXPECT_THAT(evil[0], HasSubstr("data.pkl [duplicate #2"));
}

TEST_F(ContainersEngine, HiddenMemberIsScanned) {
  auto r = scan("hidden_member.zip");
  const auto* f = find(r, "HOST-ZIP-HIDDEN-MEMBER");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity(), v1::HIGH);
  EXPECT_THAT(evil_members(r), ::testing::ElementsAre("hidden [hidden]"));
}

TEST_F(ContainersEngine, OverlappingMembers) {
  auto r = scan("overlapping.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-OVERLAPPING-MEMBERS"));
}

TEST_F(ContainersEngine, PrefixAndTrailingDataAreScannedAsStreams) {
  auto r = scan("prefix_evil.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-PREFIX-DATA"));
  // The whole file starts with EVIL: routed as a whole AND expanded; the prefix is not scanned
  // twice.
  auto evil = evil_members(r);
  EXPECT_THAT(evil, ::testing::ElementsAre(""));
  auto t = scan("trailing_data.zip");
  EXPECT_THAT(rules(t), Contains("HOST-ZIP-TRAILING-DATA"));
  EXPECT_THAT(evil_members(t), ::testing::ElementsAre("[data after zip]"));
  auto p = scan("prefix_data.zip");
  EXPECT_THAT(rules(p), Contains("HOST-ZIP-PREFIX-DATA"));
  auto sh = scan("shifted.zip");
  EXPECT_THAT(rules(sh), Contains("HOST-ZIP-SHIFTED-OFFSETS"));
  EXPECT_THAT(evil_members(sh), ::testing::ElementsAre("m"));
}

TEST_F(ContainersEngine, PolyglotIsScannedAndExpanded) {
  auto r = scan("polyglot_good_then_zip.bin");
  // The whole stream goes to the fixture scanner (it starts with GOOD) and the appended zip's
  // member is found by the end record.
  EXPECT_THAT(evil_members(r), ::testing::ElementsAre("inner"));
  bool whole = false;
  for (const auto& s : r.streams())
    whole |= s.members_size() == 0 && s.scanner() == "fixture-magic";
  EXPECT_TRUE(whole);
}

TEST_F(ContainersEngine, EndRecordWhoseCommentOverrunsTheStreamStillOpensTheZip) {
  // Python's zipfile opens it: the appended zip's member is scanned, and the lie reported.
  auto r = scan("polyglot_comment_overrun.bin");
  EXPECT_THAT(evil_members(r), ::testing::ElementsAre("inner"));
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-COMMENT-OVERRUN"));
}

TEST_F(ContainersEngine, MultipleEndRecordsUnionTheirDirectories) {
  auto r = scan("multiple_end_records.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-MULTIPLE-END-RECORDS"));
  auto evil = evil_members(r);
  EXPECT_THAT(evil, ::testing::UnorderedElementsAre("first", "second"));
}

TEST_F(ContainersEngine, HugeDeclaredSizesAreClampedNotTrusted) {
  auto r = scan("huge_declared_size.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-TRUNCATED"));
  EXPECT_EQ(evil_members(r).size(), 1u);
  EXPECT_EQ(r.status(), v1::PARTIAL);
}

TEST_F(ContainersEngine, TruncatedArchivesStillYieldTheirMembers) {
  auto r = scan("truncated.zip");
  EXPECT_THAT(rules(r), Contains("HOST-ZIP-NO-CENTRAL-DIRECTORY"));
  EXPECT_THAT(evil_members(r), Contains("archive/data.pkl [hidden]"));
  auto n = scan("no_directory.zip");
  EXPECT_EQ(evil_members(n).size(), 1u);
}

TEST_F(ContainersEngine, RatioBombStopsAtTheLimit) {
  auto r = scan("ratio_bomb.zip");
  const auto* f = find(r, "HOST-LIMIT-RATIO");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity(), v1::MEDIUM);
  EXPECT_EQ(r.status(), v1::PARTIAL);
  auto b = scan("bz2_bomb.bz2");
  EXPECT_THAT(rules(b), Contains("HOST-LIMIT-RATIO"));
}

TEST_F(ContainersEngine, TotalAndMemberSizeLimits) {
  ScanOptions o;
  o.limits.containers.max_member_size = 1000;
  auto r = scan("ratio_bomb.zip", o);
  EXPECT_THAT(rules(r), Contains("HOST-LIMIT-MEMBER-SIZE"));
  ScanOptions t;
  t.limits.containers.max_total_decompressed = 10;
  auto q = scan("plain_deflated.zip", t);
  EXPECT_THAT(rules(q), Contains("HOST-LIMIT-TOTAL-SIZE"));
  EXPECT_EQ(q.status(), v1::PARTIAL);
}

TEST_F(ContainersEngine, DeepNestingStopsAtTheDepthLimit) {
  auto r = scan("deep_nesting.zip");
  EXPECT_THAT(rules(r), Contains("HOST-LIMIT-DEPTH"));
  EXPECT_TRUE(evil_members(r).empty());
  ScanOptions o;
  o.limits.containers.max_depth = 20;
  auto deep = scan("deep_nesting.zip", o);
  ASSERT_EQ(evil_members(deep).size(), 1u);
  EXPECT_THAT(evil_members(deep)[0], HasSubstr("level11.zip!/level10.zip"));
}

TEST_F(ContainersEngine, MemberCountLimit) {
  ScanOptions o;
  o.limits.containers.max_members = 1;
  auto r = scan("plain_stored.zip", o);
  EXPECT_THAT(rules(r), Contains("HOST-LIMIT-MEMBERS"));
}

TEST_F(ContainersEngine, NestedContainersAreFollowed) {
  auto r = scan("nested.zip");
  EXPECT_THAT(evil_members(r),
              ::testing::UnorderedElementsAre("model.tar.gz!/[gzip]!/storages", "z/inner.zip!/e"));
}

TEST_F(ContainersEngine, TarVariants) {
  EXPECT_THAT(evil_members(scan("plain.tar")), ::testing::ElementsAre("pickle"));
  auto gnu = evil_members(scan("gnu_longname.tar"));
  ASSERT_EQ(gnu.size(), 1u);
  EXPECT_EQ(gnu[0], "d/" + std::string(150, 'x'));
  auto pax = evil_members(scan("pax.tar"));
  ASSERT_EQ(pax.size(), 1u);
  EXPECT_EQ(pax[0], "p/" + std::string(150, 'y'));
  auto trunc = scan("tar_truncated.tar");
  EXPECT_THAT(rules(trunc), Contains("HOST-TAR-TRUNCATED"));
  EXPECT_EQ(trunc.status(), v1::PARTIAL);
  auto trail = scan("tar_trailing.tar");
  EXPECT_THAT(rules(trail), Contains("HOST-TAR-TRAILING-DATA"));
  EXPECT_THAT(evil_members(trail), Contains("[data after tar]"));
  auto dup = scan("tar_duplicate.tar");
  EXPECT_THAT(rules(dup), Contains("HOST-TAR-DUPLICATE-NAME"));
  EXPECT_EQ(evil_members(dup).size(), 1u);
}

TEST_F(ContainersEngine, CompressedStreams) {
  for (const char* name :
       {"evil.gz", "evil.zlib", "evil.bz2", "evil.xz", "evil.lzma", "evil_multi.gz"}) {
    SCOPED_TRACE(name);
    auto r = scan(name);
    EXPECT_EQ(r.status(), v1::SCANNED) << r.error();
    auto evil = evil_members(r);
    ASSERT_EQ(evil.size(), 1u);
    EXPECT_EQ(evil[0].front(), '[');
  }
  auto t = scan("gz_trailing.gz");
  EXPECT_THAT(rules(t), Contains("HOST-COMPRESSED-TRAILING-DATA"));
  EXPECT_THAT(evil_members(t), ::testing::ElementsAre("[data after gzip]"));
  auto c = scan("gz_truncated.gz");
  EXPECT_EQ(c.status(), v1::PARTIAL);
  EXPECT_THAT(c.error(), HasSubstr("truncated"));
  // A weak magic that does not inflate is not a container: nothing reported.
  auto n = scan("not_zlib.bin");
  EXPECT_EQ(n.status(), v1::UNSUPPORTED);
  EXPECT_EQ(n.findings_size(), 0);
}

TEST_F(ContainersEngine, SevenZipMembersAreScannedAndUnreadableOnesArePartial) {
  auto r = scan("evil.7z");
  EXPECT_EQ(r.status(), v1::SCANNED) << r.error();
  EXPECT_THAT(evil_members(r), ::testing::ElementsAre("archive/data.pkl"));
  auto t = scan("truncated.7z");
  EXPECT_EQ(t.status(), v1::PARTIAL);
  EXPECT_THAT(t.error(), HasSubstr("7z"));
  EXPECT_THAT(rules(t), Contains("HOST-ARCHIVE-UNREADABLE"));
}

}  // namespace
}  // namespace secmlops::host
