// The ONNX and SavedModel scanners end to end: `secmlops scan` as a user runs it.
#include "support/run_command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using secmlops::test::run_command;
using ::testing::HasSubstr;
using ::testing::Not;

std::string scan(const std::string& args) {
  return std::string(SECMLOPS_CLI) + " --plugin-dir " SECMLOPS_PLUGIN_DIR " scan " + args +
         " 2>/dev/null";
}
std::string fx(const std::string& rel) { return std::string(ONNX_FIXTURE_DIR) + "/" + rel; }

TEST(OnnxCli, BenignModelsPassAtMedium) {
  auto r = run_command(scan("--fail-on medium --format json " + fx("benign") + " " +
                            fx("benign_external/model.onnx")));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\"format\": \"onnx\""));
  EXPECT_THAT(r.out, HasSubstr("\"ruleId\": \"ONNX-METADATA\""));
}

TEST(OnnxCli, MaliciousModelsFail) {
  auto r = run_command(scan("--format json " + fx("malicious")));
  EXPECT_EQ(r.exit_code, 1);
  for (const char* rule : {"ONNX-CUSTOM-DOMAIN-OP", "ONNX-PYTHON-OP", "ONNX-CODE-ATTRIBUTE",
                           "ONNX-EXTERNAL-PATH-TRAVERSAL", "ONNX-EXTERNAL-MISSING",
                           "ONNX-NESTING-LIMIT", "ONNX-TENSOR-SIZE-MISMATCH", "ONNX-ABSURD-SHAPE"})
    EXPECT_THAT(r.out, HasSubstr(std::string("\"ruleId\": \"") + rule + "\"")) << rule;
}

TEST(OnnxCli, RepeatedFindingsAreCappedAndCounted) {
  auto r = run_command(scan("--format json " + fx("malicious/many_mismatches.onnx")));
  size_t listed = 0;
  for (size_t at = r.out.find("\"ruleId\": \"ONNX-TENSOR-SIZE-MISMATCH\""); at != std::string::npos;
       at = r.out.find("\"ruleId\": \"ONNX-TENSOR-SIZE-MISMATCH\"", at + 1))
    ++listed;
  EXPECT_EQ(listed, 50u);
  EXPECT_THAT(r.out, HasSubstr("\"message\": \"10 more ONNX-TENSOR-SIZE-MISMATCH findings of the "
                               "same kind are not listed\""));
  EXPECT_THAT(r.out, HasSubstr("\"ruleId\": \"ONNX-FINDINGS-CAPPED\""));
}

TEST(OnnxCli, SymlinkEscapeSeenThroughTheHost) {
  auto r = run_command(scan(fx("ext_symlink/model.onnx")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("ONNX-EXTERNAL-PATH-TRAVERSAL"));
  EXPECT_THAT(r.out, HasSubstr("symlink"));
}

TEST(OnnxCli, TruncatedModelIsPartialWithOffset) {
  auto r = run_command(scan(fx("malformed/truncated.onnx")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("PARTIAL"));
  EXPECT_THAT(r.out, HasSubstr("byte offset"));
}

TEST(OnnxCli, RandomBytesAreNotClaimed) {
  auto r = run_command(scan("--format json " + fx("malformed/random.bin")));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, Not(HasSubstr("\"scanner\": \"onnx\"")));
}

TEST(OnnxCli, RoutingIsByContentNotExtension) {
  auto r = run_command("cp " + fx("malicious/custom_domain.onnx") + " " + fx("renamed.bin"));
  ASSERT_EQ(r.exit_code, 0);
  r = run_command(scan(fx("renamed.bin")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("ONNX-CUSTOM-DOMAIN-OP"));
}

}  // namespace
