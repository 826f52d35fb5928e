#include "option_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace secmlops::cli {
namespace {

struct Args {
  std::string model, format = "text";
  std::vector<double> eps;
  std::optional<int> max_iter;
  bool minimal = false;
};

// Parses argv (after the program name) with the rows the commands use; the exit code CLI11
// would give, 0 when parsing succeeded.
int parse(Args& a, std::vector<std::string> argv) {
  CLI::App app{"test"};
  add_options(&app, {
                        {"--model", &a.model, "model file", kRequired},
                        {"--eps", &a.eps, "budgets", kCommaList},
                        {"--max-iter", &a.max_iter, "iterations"},
                        {"--minimal", &a.minimal, "smallest eps"},
                        text_or_json(&a.format, "AttackReport"),
                    });
  std::reverse(argv.begin(), argv.end());
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return e.get_exit_code();
  }
  return 0;
}

TEST(OptionTable, RowsBindTheirTargets) {
  Args a;
  ASSERT_EQ(parse(a, {"--model", "m.onnx", "--eps", "0.1,0.2", "--max-iter", "7", "--minimal",
                      "--format", "json"}),
            0);
  EXPECT_EQ(a.model, "m.onnx");
  EXPECT_EQ(a.eps, (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(a.max_iter, 7);
  EXPECT_TRUE(a.minimal);
  EXPECT_EQ(a.format, "json");
}

TEST(OptionTable, RequiredAndChoicesAreEnforced) {
  Args a;
  EXPECT_NE(parse(a, {"--eps", "0.1"}), 0);  // no --model
  Args b;
  EXPECT_NE(parse(b, {"--model", "m", "--format", "xml"}), 0);
  EXPECT_EQ(b.format, "text");
  Args c;
  EXPECT_NE(parse(c, {"--model", "m", "--minimal=maybe"}), 0);
}

TEST(OptionTable, HelpShowsTheStartingValueAndAllowedValues) {
  Args a;
  CLI::App app{"test"};
  add_options(&app, {text_or_json(&a.format, "AttackReport")});
  auto help = app.help();
  EXPECT_NE(help.find("text or json (the AttackReport message)"), std::string::npos) << help;
  EXPECT_NE(help.find("--format TEXT:{text,json}=text"), std::string::npos) << help;
}

}  // namespace
}  // namespace secmlops::cli
