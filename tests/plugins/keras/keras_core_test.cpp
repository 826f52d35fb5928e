// The Keras config walker, the HDF5 reader and the bytecode peek on generated fixtures.
#include "bytecode_peek.hpp"
#include "h5_model.hpp"
#include "keras_builtins.hpp"
#include "keras_config.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

namespace kr = secmlops::plugins::keras;

std::string load(const std::string& name) {
  std::ifstream in(std::string(FIXTURE_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

secmlops::sdk::Bytes bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::multiset<std::string> rules(const kr::Findings& f) {
  std::multiset<std::string> s;
  for (const auto& x : f) s.insert(x.rule_id);
  return s;
}

const secmlops::sdk::Finding* find(const kr::Findings& f, const std::string& rule) {
  for (const auto& x : f)
    if (x.rule_id == rule) return &x;
  return nullptr;
}

std::string evidence(const secmlops::sdk::Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.evidence)
    if (k == key) return v;
  return {};
}

// ---- config.json (Keras 3) ----

TEST(KerasConfig, BenignConfigHasNoFinding) {
  auto r = kr::analyze_config_json(load("config_benign.json"));
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.findings.empty()) << r.findings[0].rule_id;
}

TEST(KerasConfig, LambdaIsCriticalWithNamesFromTheBytecode) {
  auto r = kr::analyze_config_json(load("config_lambda.json"));
  const auto* f = find(r.findings, "KERAS-LAMBDA-LAYER");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, SECMLOPS_SEVERITY_CRITICAL);
  EXPECT_EQ(evidence(*f, "layer"), "evil_lambda");
  EXPECT_NE(evidence(*f, "suspicious_names").find("system"), std::string::npos);
  EXPECT_NE(f->detail.find("config.layers[2]"), std::string::npos) << f->detail;
  EXPECT_EQ(r.findings.size(), 1u);  // the __lambda__ inside is not reported twice
}

struct Case {
  const char* file;
  const char* rule;
  secmlops_severity severity;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

class KerasConfigCase : public ::testing::TestWithParam<Case> {};

TEST_P(KerasConfigCase, IsReported) {
  const auto& c = GetParam();
  auto r = kr::analyze_config_json(load(c.file));
  ASSERT_TRUE(r.error.empty()) << r.error;
  const auto* f = find(r.findings, c.rule);
  ASSERT_NE(f, nullptr) << c.file;
  EXPECT_EQ(f->severity, c.severity);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, KerasConfigCase,
    ::testing::Values(
        Case{"config_os_system.json", "KERAS-DANGEROUS-MODULE", SECMLOPS_SEVERITY_CRITICAL},
        Case{"config_external_module.json", "KERAS-EXTERNAL-MODULE", SECMLOPS_SEVERITY_HIGH},
        Case{"config_get_file.json", "KERAS-DANGEROUS-KERAS-FUNCTION", SECMLOPS_SEVERITY_HIGH},
        Case{"config_lambda_load_model.json", "KERAS-DANGEROUS-KERAS-FUNCTION",
             SECMLOPS_SEVERITY_HIGH},
        Case{"config_lambda_named.json", "KERAS-LAMBDA-FUNCTION-REFERENCE", SECMLOPS_SEVERITY_HIGH},
        Case{"config_registered.json", "KERAS-CUSTOM-OBJECT", SECMLOPS_SEVERITY_MEDIUM},
        Case{"config_custom_loss.json", "KERAS-CUSTOM-TRAINING-FUNCTION", SECMLOPS_SEVERITY_LOW}),
    [](const auto& info) {
      std::string n = info.param.file;
      return n.substr(0, n.find('.'));
    });

TEST(KerasConfig, InvalidJsonIsAnErrorWithOffset) {
  auto text = load("config_invalid.json");
  auto r = kr::analyze_config_json(text);
  EXPECT_FALSE(r.error.empty());
  EXPECT_GT(r.error_at, 0u);
  EXPECT_LE(r.error_at, text.size());
}

TEST(KerasConfig, DeepNestingIsRefusedWithoutRecursionBlowup) {
  auto r = kr::analyze_config_json(load("config_deep.json"));
  EXPECT_NE(r.error.find("deeper"), std::string::npos) << r.error;
  // Within the parse limit but beyond the walk limit: a finding, not a crash.
  kr::WalkLimits limits;
  limits.max_walk_depth = 20;
  std::string nested = "{\"class_name\": \"Sequential\", \"config\": ";
  for (int i = 0; i < 100; ++i) nested += "{\"a\": ";
  nested += "1";
  for (int i = 0; i < 101; ++i) nested += "}";
  auto r2 = kr::analyze_config_json(nested, limits);
  EXPECT_TRUE(r2.error.empty());
  EXPECT_EQ(rules(r2.findings).count("KERAS-CONFIG-LIMIT"), 1u);
}

TEST(KerasConfig, HugeNumberIsAnErrorNotACrash) {
  auto r = kr::analyze_config_json("{\"class_name\": \"Dense\", \"config\": {\"units\": 1e99999}}");
  EXPECT_NE(r.error.find("unreadable JSON"), std::string::npos) << r.error;
}

TEST(KerasConfig, MetadataIsInfo) {
  auto r = kr::analyze_metadata_json(load("metadata.json"));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule_id, "KERAS-METADATA");
  EXPECT_EQ(r.findings[0].severity, SECMLOPS_SEVERITY_INFO);
  EXPECT_NE(r.findings[0].message.find("3.3.3"), std::string::npos);
}

TEST(KerasConfig, ProbeClaimsKerasDocumentsOnly) {
  const char* format = nullptr;
  EXPECT_GT(kr::probe_json(bytes(load("config_benign.json")), "x.json", format), 0u);
  EXPECT_STREQ(format, "keras-config");
  EXPECT_GT(kr::probe_json(bytes(load("metadata.json")), "x.json", format), 0u);
  EXPECT_STREQ(format, "keras-metadata");
  EXPECT_EQ(kr::probe_json(bytes(load("plain.json")), "plain.json", format), 0u);
  EXPECT_EQ(kr::probe_json(bytes(std::string("[1, 2, 3]")), "config.json", format), 0u);
  // The member Keras loads by name is claimed whatever its first bytes show: padding or escaped
  // keys cannot move a Lambda past the probe.
  std::string padded =
      "{\"description\": \"" + std::string(100000, 'a') + "\", \"class_name\": \"Sequential\"}";
  EXPECT_EQ(kr::probe_json(bytes(padded.substr(0, 65536)), "model.json", format), 0u);
  EXPECT_GT(kr::probe_json(bytes(padded.substr(0, 65536)), "config.json", format), 0u);
  EXPECT_STREQ(format, "keras-config");
  EXPECT_GT(kr::probe_json(bytes(padded.substr(0, 65536)), "archive/x/config.json", format), 0u);
}

TEST(KerasConfig, MutatedConfigsNeverCrash) {
  auto text = load("config_lambda.json");
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    auto m = text;
    for (int k = 0; k < 2; ++k) m[rng() % m.size()] = "{}[]\",:0a \\"[rng() % 12];
    (void)kr::analyze_config_json(m);
  }
}

// ---- helpers ----

TEST(KerasBytecode, Base64AndMarshalStrings) {
  EXPECT_EQ(kr::decode_base64("aGVsbG8=").value(), "hello");
  EXPECT_EQ(kr::decode_base64("aGVs\nbG8=\n").value(), "hello");
  EXPECT_FALSE(kr::decode_base64("not base64!").has_value());
  // A marshal short-ASCII record ('z' | FLAG_REF) followed by its length and text.
  std::string m = std::string("\xe3\x00\x00", 3) + "\xfa\x02os" + "\xda\x06system";
  auto ev = kr::peek_marshalled_code(m);
  ASSERT_EQ(ev.strings.size(), 2u);
  EXPECT_EQ(ev.strings[0], "os");
  EXPECT_EQ(ev.suspicious.size(), 2u);
}

TEST(KerasBuiltins, Lists) {
  EXPECT_TRUE(kr::is_builtin_class("Dense"));
  EXPECT_FALSE(kr::is_builtin_class("MyLayer"));
  EXPECT_TRUE(kr::is_keras_module("keras.src.layers"));
  EXPECT_FALSE(kr::is_keras_module("kerasx"));
  EXPECT_TRUE(kr::is_dangerous_module("os.path"));
  EXPECT_FALSE(kr::is_dangerous_module("osmium"));
}

// ---- HDF5 ----

kr::H5Result h5(const std::string& name) {
  auto data = load(name);
  return kr::analyze_h5(bytes(data));
}

TEST(KerasH5, BenignModelOnlyInfo) {
  auto r = h5("benign.h5");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(rules(r.findings), std::multiset<std::string>{"KERAS-MODEL-INFO"});
  EXPECT_EQ(r.datasets, 4u);
  EXPECT_EQ(evidence(r.findings[0], "keras_version"), "2.12.0");
}

TEST(KerasH5, WeightsOnlyFileOnlyInfo) {
  auto r = h5("model.weights.h5");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(rules(r.findings), std::multiset<std::string>{"KERAS-MODEL-INFO"});
}

struct H5Case {
  const char* file;
  const char* rule;
  secmlops_severity severity;
};
void PrintTo(const H5Case& c, std::ostream* os) { *os << c.file; }

class KerasH5Case : public ::testing::TestWithParam<H5Case> {};

TEST_P(KerasH5Case, IsReported) {
  const auto& c = GetParam();
  auto r = h5(c.file);
  EXPECT_TRUE(r.error.empty()) << r.error;
  const auto* f = find(r.findings, c.rule);
  ASSERT_NE(f, nullptr) << c.file;
  EXPECT_EQ(f->severity, c.severity);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, KerasH5Case,
    ::testing::Values(
        H5Case{"lambda.h5", "KERAS-LAMBDA-LAYER", SECMLOPS_SEVERITY_CRITICAL},
        H5Case{"nested_lambda.h5", "KERAS-LAMBDA-LAYER", SECMLOPS_SEVERITY_CRITICAL},
        H5Case{"custom_layer.h5", "KERAS-CUSTOM-OBJECT", SECMLOPS_SEVERITY_MEDIUM},
        H5Case{"training_custom.h5", "KERAS-CUSTOM-TRAINING-FUNCTION", SECMLOPS_SEVERITY_LOW},
        H5Case{"bad_config.h5", "KERAS-CONFIG-INVALID", SECMLOPS_SEVERITY_MEDIUM},
        H5Case{"external_link.h5", "KERAS-H5-EXTERNAL-LINK", SECMLOPS_SEVERITY_HIGH},
        H5Case{"external_storage.h5", "KERAS-H5-EXTERNAL-STORAGE", SECMLOPS_SEVERITY_HIGH}),
    [](const auto& info) {
      std::string n = info.param.file;
      return n.substr(0, n.find('.'));
    });

TEST(KerasH5, NestedLambdaNamesItsPath) {
  auto r = h5("nested_lambda.h5");
  const auto* f = find(r.findings, "KERAS-LAMBDA-LAYER");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(evidence(*f, "layer"), "nested_lambda");
  EXPECT_NE(f->detail.find("config.layers[1].config.layers[1]"), std::string::npos) << f->detail;
}

TEST(KerasH5, ExternalLinkEvidenceNamesTheTarget) {
  auto r = h5("external_link.h5");
  const auto* f = find(r.findings, "KERAS-H5-EXTERNAL-LINK");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(evidence(*f, "target_file"), "/etc/passwd");
}

TEST(KerasH5, TruncatedFileIsAnErrorWithSizes) {
  auto r = h5("truncated.h5");
  EXPECT_NE(r.error.find("truncated HDF5 file"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("1200"), std::string::npos) << r.error;
}

TEST(KerasH5, PrefixesOfAValidFileAreErrors) {
  auto data = load("benign.h5");
  for (size_t n : {0ul, 7ul, 8ul, 100ul, 512ul, 2048ul, data.size() / 2, data.size() - 1}) {
    auto r = kr::analyze_h5(bytes(data.substr(0, n)));
    EXPECT_FALSE(r.error.empty()) << n;
  }
}

TEST(KerasH5, ProbeFindsTheSignature) {
  EXPECT_EQ(kr::probe_h5(bytes(load("benign.h5"))), 80u);
  std::string user_block(512, '\0');
  user_block += load("benign.h5").substr(0, 64);
  EXPECT_EQ(kr::probe_h5(bytes(user_block)), 60u);
  EXPECT_EQ(kr::probe_h5(bytes(load("config_benign.json"))), 0u);
}

TEST(KerasConfig, BuiltinsThatReadPathsAtLoadTimeAreFlaggedWithThePath) {
  auto r = kr::analyze_config_json(
      R"({"module": "keras", "class_name": "Sequential", "config": {"layers": [
      {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"name": "sm", "filepath": "/mnt/other/model"}},
      {"module": "keras.layers", "class_name": "StringLookup", "config": {"name": "v", "vocabulary": "/etc/passwd"}},
      {"module": "keras.layers", "class_name": "StringLookup", "config": {"name": "ok", "vocabulary": ["a", "b"]}}]}})");
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<std::string> got;
  for (const auto& f : r.findings) {
    got.push_back(f.rule_id);
    if (f.rule_id == "KERAS-READS-PATH") {
      EXPECT_NE(f.message.find("/etc/passwd"), std::string::npos);
    }
    if (f.rule_id == "KERAS-LOADS-EXTERNAL-MODEL") {
      EXPECT_EQ(f.severity, SECMLOPS_SEVERITY_HIGH);
    }
  }
  EXPECT_EQ(std::count(got.begin(), got.end(), "KERAS-READS-PATH"), 1);
  EXPECT_EQ(std::count(got.begin(), got.end(), "KERAS-LOADS-EXTERNAL-MODEL"), 1);
}

}  // namespace
