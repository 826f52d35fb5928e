#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace secmlops::cli {

// Where a parsed value goes; a bool target makes the row a flag.
using OptionTarget =
    std::variant<bool*, std::string*, std::vector<std::string>*, std::vector<double>*, unsigned*,
                 double*, uint64_t*, std::optional<double>*, std::optional<int>*,
                 std::optional<uint64_t>*, std::optional<std::string>*>;

// What a row asks of its option besides a value.
enum OptionTrait : unsigned {
  kRequired = 1u << 0,     // the command fails without it
  kShowDefault = 1u << 1,  // --help shows the value the target starts with
  kCommaList = 1u << 2,    // "a,b" gives two values
};

// One option of a command, declared in one row:
//   {"--norm", &a->norm, "inf, 1 or 2", 0, {"inf", "1", "2"}}
struct OptionSpec {
  std::string name;  // CLI11 names: "--out,-o", or "model" for a positional
  OptionTarget target;
  std::string help;
  unsigned traits = 0;               // OptionTrait bits
  std::vector<std::string> choices;  // when not empty, any other value fails validation
};

// `--format` of a command that prints text or the JSON of `message`.
OptionSpec text_or_json(std::string* target, const std::string& message);

// Declares the rows on `cmd` in order (the order --help lists them); returns the last option.
CLI::Option* add_options(CLI::App* cmd, std::initializer_list<OptionSpec> rows);

}  // namespace secmlops::cli
