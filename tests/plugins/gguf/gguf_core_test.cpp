// The GGUF parser on generated fixtures, truncations and mutations.
#include "gguf_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

namespace gg = secmlops::plugins::gguf;

std::vector<uint8_t> load(const std::string& name) {
  std::ifstream in(std::string(FIXTURE_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

gg::Result run(const std::vector<uint8_t>& bytes) {
  secmlops::sdk::MemorySource src(bytes);
  return gg::validate(src);
}

std::multiset<std::string> rules(const gg::Result& r) {
  std::multiset<std::string> s;
  for (const auto& f : r.findings) s.insert(f.rule_id);
  return s;
}

TEST(GgufCore, BenignFilesOnlyCarryInfo) {
  for (const char* name : {"benign.gguf", "benign_v1.gguf"}) {
    auto r = run(load(name));
    EXPECT_TRUE(r.error.empty()) << name << ": " << r.error;
    EXPECT_EQ(r.tensor_count, 2u);
    EXPECT_EQ(r.kv_count, 7u);
    EXPECT_EQ(rules(r), std::multiset<std::string>{"GGUF-METADATA"}) << name;
  }
  EXPECT_EQ(run(load("benign_v1.gguf")).version, 1u);
}

struct Case {
  const char* file;
  const char* rule;
  bool stops;  // parsing cannot continue: an error comes with the finding
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

class GgufAnomaly : public ::testing::TestWithParam<Case> {};

TEST_P(GgufAnomaly, IsReported) {
  const auto& c = GetParam();
  auto r = run(load(c.file));
  EXPECT_GE(rules(r).count(c.rule), 1u) << c.file;
  EXPECT_EQ(!r.error.empty(), c.stops) << c.file << ": " << r.error;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, GgufAnomaly,
    ::testing::Values(Case{"chat_template_ssti.gguf", "GGUF-CHAT-TEMPLATE-SSTI", false},
                      Case{"chat_template_code.gguf", "GGUF-CHAT-TEMPLATE-CODE", false},
                      Case{"trailing_data.gguf", "GGUF-TRAILING-DATA", false},
                      Case{"gap.gguf", "GGUF-GAP", false},
                      Case{"overlap.gguf", "GGUF-TENSOR-OVERLAP", false},
                      Case{"misaligned.gguf", "GGUF-TENSOR-MISALIGNED", false},
                      Case{"tensor_out_of_bounds.gguf", "GGUF-TENSOR-OUT-OF-BOUNDS", false},
                      Case{"unknown_tensor_type.gguf", "GGUF-UNKNOWN-TENSOR-TYPE", false},
                      Case{"tensor_dims.gguf", "GGUF-TENSOR-DIMS", false},
                      Case{"tensor_block_dims.gguf", "GGUF-TENSOR-DIMS", false},
                      Case{"duplicate_tensor.gguf", "GGUF-DUPLICATE-TENSOR", false},
                      Case{"duplicate_key.gguf", "GGUF-DUPLICATE-KEY", false},
                      Case{"bad_alignment.gguf", "GGUF-BAD-ALIGNMENT", false},
                      Case{"nested_array.gguf", "GGUF-NESTED-ARRAY", false},
                      Case{"bad_value_type.gguf", "GGUF-BAD-VALUE-TYPE", true},
                      Case{"string_out_of_bounds.gguf", "GGUF-STRING-OUT-OF-BOUNDS", true},
                      Case{"string_limit.gguf", "GGUF-STRING-LIMIT", true},
                      Case{"array_beyond_file.gguf", "GGUF-COUNT-BEYOND-FILE", true},
                      Case{"array_limit.gguf", "GGUF-ARRAY-LIMIT", true},
                      Case{"count_limit.gguf", "GGUF-COUNT-LIMIT", true},
                      Case{"count_beyond_file.gguf", "GGUF-COUNT-BEYOND-FILE", true},
                      Case{"bad_version.gguf", "GGUF-UNSUPPORTED-VERSION", true}),
    [](const auto& info) {
      std::string n = info.param.file;
      return n.substr(0, n.find('.'));
    });

TEST(GgufCore, TruncatedFileIsAnErrorWithItsOffset) {
  auto bytes = load("truncated.gguf");
  auto r = run(bytes);
  EXPECT_NE(r.error.find("file ends inside"), std::string::npos) << r.error;
  EXPECT_LE(r.error_offset, bytes.size());
  EXPECT_GT(r.error_offset, 0u);
}

TEST(GgufCore, NotGgufIsAnError) {
  std::vector<uint8_t> bytes{'G', 'G', 'M', 'L', 1, 0, 0, 0};
  auto r = run(bytes);
  EXPECT_NE(r.error.find("magic"), std::string::npos);
  EXPECT_EQ(gg::probe(bytes), 0u);
  EXPECT_GT(gg::probe(load("benign.gguf")), 0u);
}

TEST(GgufCore, SsitEvidenceNamesTheConstructs) {
  auto r = run(load("chat_template_ssti.gguf"));
  bool seen = false;
  for (const auto& f : r.findings)
    if (f.rule_id == "GGUF-CHAT-TEMPLATE-SSTI") {
      seen = true;
      ASSERT_FALSE(f.evidence.empty());
      EXPECT_NE(f.evidence[0].second.find("__subclasses__"), std::string::npos);
      EXPECT_EQ(f.severity, SECMLOPS_SEVERITY_HIGH);
    }
  EXPECT_TRUE(seen);
}

TEST(GgufCore, CancellationStopsTheParse) {
  auto bytes = load("benign.gguf");
  secmlops::sdk::MemorySource src(bytes);
  gg::Limits limits;
  // The parser polls every 4096 steps; a tiny file finishes before the first poll.
  auto r = gg::validate(src, limits, [] { return true; });
  EXPECT_TRUE(r.error.empty() || r.error == "cancelled");
}

TEST(GgufCore, TruncationsAndMutationsAreHandled) {
  auto bytes = load("benign.gguf");
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = run(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(n)));
    EXPECT_TRUE(!r.error.empty() || !r.findings.empty()) << n;
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    auto m = bytes;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
    (void)run(m);
  }
}

}  // namespace
