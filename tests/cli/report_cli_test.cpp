// `secmlops report html` as a user runs it.
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

using secmlops::test::run_command;
using ::testing::HasSubstr;

std::string report_html(const std::string& args) {
  return std::string(SECMLOPS_CLI) + " report html " + args;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReportCli, WritesThePageAndPrintsItsPath) {
  secmlops::test::TempDir dir;
  auto scan = dir.write(
      "scan.json", R"({"files":[{"path":"m.pkl","findings":[{"ruleId":"R","severity":"HIGH"}]}],
                                         "verdict":"fail"})");
  auto attack = dir.write("attack.json", R"({"attack":"fgsm","modelName":"m","curve":[{"eps":0.1,
                                             "adversarialAccuracy":0.5}]})");
  const auto out = dir.path() / "page.html";
  auto r = run_command(
      report_html("--out " + out.string() + " " + scan.string() + " " + attack.string()));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, out.string() + "\n");
  const std::string html = read(out);
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("data-verdict=\"fail\""));
  EXPECT_THAT(html, HasSubstr("data-model=\"m\" data-attack=\"fgsm\""));
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".tmp"));
}

TEST(ReportCli, UnreadableOrUnknownInputIsExitTwoNamingTheFile) {
  secmlops::test::TempDir dir;
  auto good = dir.write("scan.json", R"({"files":[]  ,"verdict":"pass"})");
  auto unknown = dir.write("weird name.json", R"({"hello":"world"})");
  const auto out = dir.path() / "page.html";
  for (const std::string& bad :
       {unknown.string(), (dir.path() / "missing.json").string(), dir.path().string()}) {
    auto r = run_command(
        report_html("--out " + out.string() + " " + good.string() + " '" + bad + "' 2>&1"));
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_THAT(r.out, HasSubstr(bad));
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

TEST(ReportCli, UnwritableOutputIsExitTwo) {
  secmlops::test::TempDir dir;
  auto good = dir.write("scan.json", R"({"files":[],"verdict":"pass"})");
  auto r = run_command(report_html("--out " + (dir.path() / "no/such/dir/page.html").string() +
                                   " " + good.string() + " 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("page.html"));
}

}  // namespace
