// The SavedModel scanner at core level and through `secmlops scan`.
#include "probe.hpp"
#include "savedmodel_walker.hpp"
#include "support/run_command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

// The ONNX probe, to check the two formats never claim each other's files.
namespace secmlops::plugins::onnx {
uint32_t probe_model(const uint8_t* head, size_t len);
}

namespace {

using namespace secmlops;
using secmlops::test::run_command;
using ::testing::HasSubstr;

std::string fx(const std::string& c) {
  return std::string(SAVEDMODEL_FIXTURE_DIR) + "/" + c + "/saved_model.pb";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<sdk::Finding> walk_bytes(const std::string& bytes) {
  std::vector<sdk::Finding> out;
  sdk::MemorySource src(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  plugins::savedmodel::WalkContext ctx;
  ctx.emit = [&](const sdk::Finding& f) { out.push_back(f); };
  plugins::savedmodel::walk_saved_model(src, ctx);
  return out;
}
std::vector<sdk::Finding> walk(const std::string& c) { return walk_bytes(slurp(fx(c))); }

std::vector<sdk::Finding> rule(const std::vector<sdk::Finding>& all, const std::string& id) {
  std::vector<sdk::Finding> out;
  for (const auto& f : all)
    if (f.rule_id == id) out.push_back(f);
  return out;
}
std::string evidence(const sdk::Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.evidence)
    if (k == key) return v;
  return {};
}

TEST(SavedModelProbe, ClaimsSavedModelsAndNotOnnx) {
  for (const char* c : {"benign", "pyfunc", "readfile", "truncated"}) {
    std::string b = slurp(fx(c));
    auto p = reinterpret_cast<const uint8_t*>(b.data());
    EXPECT_GE(plugins::savedmodel::probe_saved_model(p, b.size(), "saved_model.pb"), 90u) << c;
    EXPECT_GE(plugins::savedmodel::probe_saved_model(p, b.size(), "x.bin"), 50u) << c;
    EXPECT_EQ(plugins::onnx::probe_model(p, b.size()), 0u) << c;
  }
  std::string onnx_head("\x08\x08\x12\x03pt1\x3a\x02\x0a\x00", 11);
  EXPECT_EQ(
      plugins::savedmodel::probe_saved_model(reinterpret_cast<const uint8_t*>(onnx_head.data()),
                                             onnx_head.size(), "saved_model.pb"),
      0u);
  EXPECT_EQ(
      plugins::savedmodel::probe_saved_model(reinterpret_cast<const uint8_t*>("\x08\x01"), 2, ""),
      0u);
}

TEST(SavedModelWalk, BenignServingGraphHasOnlyMetadata) {
  auto all = walk("benign");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].rule_id, "SAVEDMODEL-METADATA");
  EXPECT_EQ(evidence(all[0], "tags"), "serve");
  EXPECT_EQ(evidence(all[0], "tensorflow_version"), "2.15.0");
  EXPECT_EQ(evidence(all[0], "functions"), "1");
}

TEST(SavedModelWalk, PyFuncIsCritical) {
  auto f = rule(walk("pyfunc"), "SAVEDMODEL-PYTHON-OP");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, SECMLOPS_SEVERITY_CRITICAL);
  EXPECT_EQ(evidence(f[0], "attr.token"), "pyfunc_0");
}

TEST(SavedModelWalk, ReadFileWithConstantPath) {
  auto f = rule(walk("readfile"), "SAVEDMODEL-FILE-READ");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, SECMLOPS_SEVERITY_HIGH);
  EXPECT_EQ(evidence(f[0], "input0_constant"), "/etc/passwd");
}

TEST(SavedModelWalk, WriteFileInsideTheFunctionLibrary) {
  auto f = rule(walk("writefile_in_function"), "SAVEDMODEL-FILE-WRITE");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_THAT(f[0].detail, HasSubstr("library.function[__inference_drop_2]"));
  EXPECT_EQ(evidence(f[0], "input0_constant"), "/tmp/owned");
}

TEST(SavedModelWalk, CheckpointToAFixedTraversingPath) {
  auto f = rule(walk("checkpoint_path"), "SAVEDMODEL-CHECKPOINT-PATH");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(evidence(f[0], "path"), "../../../home/user/.ssh/authorized_keys");
}

TEST(SavedModelWalk, AssetTraversal) {
  auto f = rule(walk("asset_traversal"), "SAVEDMODEL-ASSET-PATH");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(evidence(f[0], "filename"), "../../etc/shadow");
}

TEST(SavedModelWalk, TruncatedAndCorruptEndCleanly) {
  try {
    walk("truncated");
    FAIL() << "no error";
  } catch (const protowire::ParseError& e) {
    EXPECT_THAT(e.what(), HasSubstr("byte offset"));
  }
  std::string good = slurp(fx("pyfunc"));
  for (size_t n = 0; n < good.size(); ++n) {
    try {
      walk_bytes(good.substr(0, n));
    } catch (const protowire::ParseError&) {
    }
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    try {
      walk_bytes(bad);
    } catch (const protowire::ParseError&) {
    }
  }
}

std::string scan(const std::string& args) {
  return std::string(SECMLOPS_CLI) + " --plugin-dir " SECMLOPS_PLUGIN_DIR " scan " + args +
         " 2>/dev/null";
}

TEST(SavedModelCli, EndToEnd) {
  auto benign = run_command(scan("--fail-on medium --format json " + fx("benign")));
  EXPECT_EQ(benign.exit_code, 0);
  EXPECT_THAT(benign.out, HasSubstr("\"format\": \"tf-savedmodel\""));
  auto bad = run_command(scan("--format json " + std::string(SAVEDMODEL_FIXTURE_DIR)));
  EXPECT_EQ(bad.exit_code, 1);
  for (const char* r : {"SAVEDMODEL-PYTHON-OP", "SAVEDMODEL-FILE-READ", "SAVEDMODEL-FILE-WRITE",
                        "SAVEDMODEL-CHECKPOINT-PATH", "SAVEDMODEL-ASSET-PATH"})
    EXPECT_THAT(bad.out, HasSubstr(std::string("\"ruleId\": \"") + r + "\"")) << r;
  auto truncated = run_command(scan(fx("truncated")));
  EXPECT_EQ(truncated.exit_code, 2);
  EXPECT_THAT(truncated.out, HasSubstr("byte offset"));
}

}  // namespace
