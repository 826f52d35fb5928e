// The secmlops command line as a user runs it.
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <secmlops/sdk/abi.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using secmlops::test::run_command;
using ::testing::HasSubstr;
using ::testing::Not;

std::string cli(const std::string& args) {
  return std::string(SECMLOPS_CLI) + " --plugin-dir " SECMLOPS_FIXTURE_PLUGIN_DIR " " + args;
}

TEST(Cli, VersionPrintsAbi) {
  auto r = run_command(std::string(SECMLOPS_CLI) + " version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("plugin ABI " + std::to_string(SECMLOPS_ABI_MAJOR) + "." +
                               std::to_string(SECMLOPS_ABI_MINOR)));
}

// Signing, verification and pipelines are in a module opened on first use: other commands start
// without libcrypto and yaml-cpp.
TEST(Cli, VersionMapsNeitherLibcryptoNorYaml) {
  auto r = run_command("LD_DEBUG=files " + std::string(SECMLOPS_CLI) + " version 2>&1");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("libstdc++"));  // LD_DEBUG did list the objects
  EXPECT_THAT(r.out, Not(HasSubstr("libcrypto")));
  EXPECT_THAT(r.out, Not(HasSubstr("libyaml-cpp")));
}

TEST(Cli, VerifyWithoutTheModuleNamesItAndFailsCleanly) {
  secmlops::test::TempDir dir;
  const auto bin = dir.path() / "bin";
  std::filesystem::create_directories(bin);
  std::filesystem::copy_file(SECMLOPS_CLI, bin / "secmlops");
  std::ofstream(dir.path() / "model.bin") << "weights";
  auto r = run_command((bin / "secmlops").string() + " verify --public-key " +
                       (dir.path() / "key.pem").string() + " " +
                       (dir.path() / "model.bin").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("cannot verify: "));
  EXPECT_THAT(
      r.out,
      HasSubstr((dir.path() / "lib" / "secmlops" / "secmlops-signing-pipelines.so").string()));
  std::ofstream(dir.path() / "spec.yaml") << "steps: []\n";
  r = run_command((bin / "secmlops").string() + " pipeline validate " +
                  (dir.path() / "spec.yaml").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("cannot validate the pipeline: "));
}

TEST(Cli, PluginsJsonListsPluginsAndRefusals) {
  auto r = run_command(cli("plugins --json 2>/dev/null"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\"name\": \"fixture-model\""));
  EXPECT_THAT(r.out, HasSubstr("\"kind\": \"MODEL\""));
  EXPECT_THAT(r.out, HasSubstr("\"abiVersion\": \"1.0\""));
  EXPECT_THAT(r.out, HasSubstr("\"loss_gradient\""));
  EXPECT_THAT(r.out, HasSubstr("missing entry symbol"));
}

TEST(Cli, PluginsTextShowsRefusedLibraries) {
  auto r = run_command(cli("plugins 2>/dev/null"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("fixture-attack"));
  EXPECT_THAT(r.out, HasSubstr("refused"));
}

TEST(Cli, ScanExitCodes) {
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto good = d.write("good.bin", "GOOD");
  auto crash = d.write("crash.bin", "CRASH");
  EXPECT_EQ(run_command(cli("scan " + good.string() + " 2>/dev/null")).exit_code, 0);
  auto r = run_command(cli("scan " + evil.string() + " 2>/dev/null"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("FIXTURE-EVIL"));
  EXPECT_EQ(run_command(cli("scan " + crash.string() + " 2>/dev/null")).exit_code, 2);
  // 1 wins over 2.
  EXPECT_EQ(
      run_command(cli("scan " + crash.string() + " " + evil.string() + " 2>/dev/null")).exit_code,
      1);
  // Below the threshold.
  EXPECT_EQ(run_command(cli("scan --fail-on critical " + good.string() + " 2>/dev/null")).exit_code,
            0);
}

TEST(Cli, ScanJsonIsTheReportSchema) {
  secmlops::test::TempDir d;
  auto evil = d.write("evil.bin", "EVIL");
  auto r = run_command(cli("scan --format json " + evil.string() + " 2>/dev/null"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("\"ruleId\": \"FIXTURE-EVIL\""));
  EXPECT_THAT(r.out, HasSubstr("\"maxSeverity\": \"CRITICAL\""));
}

TEST(Cli, UnknownScannerOptionIsRefusedWithTheValidOnes) {
  // The built-in scanners all declare their options (ABI 1.3): a misspelt key is refused by name
  // before anything is scanned, whichever scanner would have read it.
  secmlops::test::TempDir d;
  auto f = d.write("model.pkl", std::string("\x80\x02K\x01.", 5));
  auto r = run_command(std::string(SECMLOPS_CLI) + " scan --option pickle.max_opcdes=5 " +
                       f.string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("unknown scanner option 'pickle.max_opcdes'"));
  EXPECT_THAT(r.out, HasSubstr("pickle.max_opcodes (integer, pickle)"));
  r = run_command(std::string(SECMLOPS_CLI) + " scan --option pickle.max_opcodes=lots " +
                  f.string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("'pickle.max_opcodes' must be an integer (pickle), got 'lots'"));
  EXPECT_EQ(run_command(std::string(SECMLOPS_CLI) + " scan --option pickle.max_opcodes=500 " +
                        f.string() + " >/dev/null 2>&1")
                .exit_code,
            0);
}

// A command named first is the only one declared; its help, and the help and errors that list
// every command, read as when all are declared.
TEST(Cli, CommandNamedFirstAndEveryCommandReadTheSame) {
  const std::string bin = SECMLOPS_CLI;
  auto top = run_command(bin + " --help");
  EXPECT_EQ(top.exit_code, 0);
  for (const char* name : {"attack", "predict", "scan", "train", "verify", "version"})
    EXPECT_THAT(top.out, HasSubstr(std::string("\n  ") + name + " ")) << top.out;
  // The same subcommand help whether the command comes first or after a global option.
  auto alone = run_command(bin + " predict --help");
  auto after = run_command(bin + " --log-level warn predict --help");
  EXPECT_EQ(alone.exit_code, 0);
  EXPECT_EQ(alone.out, after.out);
  EXPECT_THAT(alone.out, HasSubstr("--model"));
  auto unknown = run_command(bin + " frobnicate 2>&1");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.out, HasSubstr("--help"));
  auto version = run_command(bin + " --log-level warn version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("plugin ABI"));
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_command(std::string(SECMLOPS_CLI) + " scan 2>/dev/null").exit_code, 2);
  EXPECT_EQ(
      run_command(std::string(SECMLOPS_CLI) + " --log-level loud version 2>/dev/null").exit_code,
      2);
  EXPECT_EQ(run_command(std::string(SECMLOPS_CLI) + " frobnicate 2>/dev/null").exit_code, 2);
}

}  // namespace
