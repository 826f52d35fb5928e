// The safetensors header validator on generated fixtures, truncations and mutations.
#include "safetensors_header.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

namespace st = secmlops::plugins::safetensors;

std::vector<uint8_t> load(const std::string& name) {
  std::ifstream in(std::string(FIXTURE_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::multiset<std::string> rules(const st::Result& r) {
  std::multiset<std::string> s;
  for (const auto& f : r.findings) s.insert(f.rule_id);
  return s;
}

secmlops_severity worst(const st::Result& r) {
  secmlops_severity w = SECMLOPS_SEVERITY_INFO;
  for (const auto& f : r.findings) w = std::max(w, f.severity);
  return w;
}

TEST(SafetensorsCore, BenignFileHasNothingAboveInfo) {
  auto bytes = load("benign.safetensors");
  auto r = st::validate_file(bytes);
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.tensors, 4u);
  EXPECT_EQ(worst(r), SECMLOPS_SEVERITY_INFO);
  EXPECT_EQ(rules(r), std::multiset<std::string>{"ST-METADATA"});
}

struct Case {
  const char* file;
  const char* rule;
  uint64_t offset;  // expected offset of that finding (UINT64_MAX: don't care)
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

class SafetensorsAnomaly : public ::testing::TestWithParam<Case> {};

TEST_P(SafetensorsAnomaly, IsReported) {
  const auto& c = GetParam();
  auto bytes = load(c.file);
  auto r = st::validate_file(bytes);
  auto s = rules(r);
  EXPECT_EQ(s.count(c.rule), 1u) << c.file;
  for (const auto& f : r.findings)
    if (f.rule_id == c.rule) {
      EXPECT_GE(f.severity, SECMLOPS_SEVERITY_MEDIUM);
      if (c.offset != UINT64_MAX) {
        EXPECT_EQ(f.offset, c.offset) << c.file;
      }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, SafetensorsAnomaly,
    ::testing::Values(Case{"trailing_data.safetensors", "ST-TRAILING-DATA", UINT64_MAX},
                      Case{"gap.safetensors", "ST-GAP", UINT64_MAX},
                      Case{"overlap.safetensors", "ST-OVERLAP", UINT64_MAX},
                      Case{"size_mismatch.safetensors", "ST-SIZE-MISMATCH", 8},
                      Case{"size_overflow.safetensors", "ST-SIZE-MISMATCH", 8},
                      Case{"offset_out_of_bounds.safetensors", "ST-OFFSET-OUT-OF-BOUNDS", 8},
                      Case{"offset_invalid.safetensors", "ST-OFFSET-INVALID", 8},
                      Case{"unknown_dtype.safetensors", "ST-UNKNOWN-DTYPE", 8},
                      Case{"tensor_malformed.safetensors", "ST-TENSOR-MALFORMED", 8},
                      Case{"metadata_invalid.safetensors", "ST-METADATA-INVALID", 8},
                      Case{"duplicate_key.safetensors", "ST-DUPLICATE-KEY", 8},
                      Case{"invalid_json.safetensors", "ST-HEADER-INVALID", UINT64_MAX},
                      Case{"header_out_of_bounds.safetensors", "ST-HEADER-OUT-OF-BOUNDS", 0},
                      Case{"header_too_large.safetensors", "ST-HEADER-TOO-LARGE", 0}),
    [](const auto& info) {
      std::string n = info.param.file;
      n = n.substr(0, n.find('.'));
      return n;
    });

TEST(SafetensorsCore, TrailingBytesOffsetPointsAtThePayload) {
  auto bytes = load("trailing_data.safetensors");
  auto r = st::validate_file(bytes);
  for (const auto& f : r.findings)
    if (f.rule_id == "ST-TRAILING-DATA") {
      ASSERT_LT(f.offset, bytes.size());
      EXPECT_EQ(std::string(bytes.begin() + static_cast<long>(f.offset),
                            bytes.begin() + static_cast<long>(f.offset) + 4),
                std::string("PK\x03\x04"));
    }
}

TEST(SafetensorsCore, GapOffsetAndLength) {
  auto bytes = load("gap.safetensors");
  auto r = st::validate_file(bytes);
  for (const auto& f : r.findings)
    if (f.rule_id == "ST-GAP") {
      EXPECT_EQ(f.offset, bytes.size() - 24 + 8);  // data region starts 24 bytes before the end
      EXPECT_THAT(f.evidence,
                  ::testing::Contains(std::pair<std::string, std::string>("length", "8")));
    }
}

TEST(SafetensorsCore, InvalidJsonOffsetIsInsideTheHeader) {
  auto bytes = load("invalid_json.safetensors");
  auto r = st::validate_file(bytes);
  ASSERT_FALSE(r.findings.empty());
  EXPECT_GE(r.findings[0].offset, 8u);
  EXPECT_LE(r.findings[0].offset, bytes.size());
}

// Found by fuzz_safetensors: a number beyond a double is no syntax error but nlohmann throws
// out_of_range for it.
TEST(SafetensorsCore, HugeNumberIsInvalidHeaderNotACrash) {
  std::string header =
      "{\"a\": {\"dtype\": \"U8\", \"shape\": [1.1e11111111], \"data_offsets\": [0, 1]}}";
  std::string file(8, '\0');
  file[0] = static_cast<char>(header.size());
  file += header + "x";
  auto r = st::validate_file({reinterpret_cast<const uint8_t*>(file.data()), file.size()});
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule_id, "ST-HEADER-INVALID");
}

TEST(SafetensorsCore, ShortFileIsAnError) {
  auto bytes = load("truncated.safetensors");
  auto r = st::validate_file(bytes);
  EXPECT_FALSE(r.error.empty());
}

TEST(SafetensorsCore, ProbeAcceptsHeadersAndRejectsOtherContent) {
  auto bytes = load("benign.safetensors");
  EXPECT_GE(st::probe(bytes), 80u);
  const std::string zip = "PK\x03\x04 not a safetensors file at all";
  EXPECT_EQ(st::probe({reinterpret_cast<const uint8_t*>(zip.data()), zip.size()}), 0u);
  const std::string json = "{\"a\": 1}          ";
  EXPECT_EQ(st::probe({reinterpret_cast<const uint8_t*>(json.data()), json.size()}), 0u);
}

TEST(SafetensorsCore, DtypeSizes) {
  EXPECT_EQ(st::dtype_bits("F32"), 32u);
  EXPECT_EQ(st::dtype_bits("BF16"), 16u);
  EXPECT_EQ(st::dtype_bits("F4"), 4u);
  EXPECT_EQ(st::dtype_bits("F128"), 0u);
}

// Every prefix of a valid file, and random byte flips, give findings or errors — never a crash.
TEST(SafetensorsCore, TruncationsAndMutationsAreHandled) {
  auto bytes = load("benign.safetensors");
  for (size_t n = 0; n <= bytes.size(); ++n) {
    auto r = st::validate_file({bytes.data(), n});
    if (n < bytes.size()) {
      EXPECT_TRUE(!r.error.empty() || !r.findings.empty()) << n;
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    auto m = bytes;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
    (void)st::validate_file(m);
  }
}

}  // namespace
