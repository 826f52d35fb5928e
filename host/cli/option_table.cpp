#include "option_table.hpp"

#include <type_traits>

namespace secmlops::cli {
namespace {

CLI::Option* add_option(CLI::App* cmd, const OptionSpec& row) {
  auto* opt = std::visit(
      [&](auto* target) -> CLI::Option* {
        if constexpr (std::is_same_v<decltype(target), bool*>)
          return cmd->add_flag(row.name, *target, row.help);
        else
          return cmd->add_option(row.name, *target, row.help);
      },
      row.target);
  if ((row.traits & kRequired) != 0) opt->required();
  if ((row.traits & kCommaList) != 0) opt->delimiter(',');
  if (!row.choices.empty()) opt->check(CLI::IsMember(row.choices));
  if ((row.traits & kShowDefault) != 0) opt->capture_default_str();
  return opt;
}

}  // namespace

OptionSpec text_or_json(std::string* target, const std::string& message) {
  return {"--format",
          target,
          "text or json (the " + message + " message)",
          kShowDefault,
          {"text", "json"}};
}

CLI::Option* add_options(CLI::App* cmd, std::initializer_list<OptionSpec> rows) {
  CLI::Option* last = nullptr;
  for (const auto& row : rows) last = add_option(cmd, row);
  return last;
}

}  // namespace secmlops::cli
