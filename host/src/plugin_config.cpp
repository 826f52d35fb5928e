#include "secmlops/host/plugin_config.hpp"

#include "secmlops/host/printable.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace secmlops::host {

const char* option_type_name(secmlops_option_type type) {
  switch (type) {
    case SECMLOPS_OPTION_STRING:
      return "string";
    case SECMLOPS_OPTION_INT:
      return "integer";
    case SECMLOPS_OPTION_DOUBLE:
      return "number";
    case SECMLOPS_OPTION_BOOL:
      return "boolean";
  }
  return "unknown";
}

std::optional<std::string> option_value_error(secmlops_option_type type, const std::string& value) {
  const char* b = value.data();
  const char* e = b + value.size();
  switch (type) {
    case SECMLOPS_OPTION_STRING:
      return std::nullopt;
    case SECMLOPS_OPTION_INT: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e && !value.empty()) return std::nullopt;
      return "an integer";
    }
    case SECMLOPS_OPTION_DOUBLE: {
      double v = 0;
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e && !value.empty() && std::isfinite(v)) return std::nullopt;
      return "a number";
    }
    case SECMLOPS_OPTION_BOOL:
      if (value == "true" || value == "false" || value == "1" || value == "0") return std::nullopt;
      return "true or false";
  }
  return "a value of a known type";
}

bool option_covers(const std::string& declared, const std::string& key) {
  if (declared.size() >= 2 && declared.compare(declared.size() - 2, 2, ".*") == 0)
    return key.size() > declared.size() - 1 &&
           key.compare(0, declared.size() - 1, declared, 0, declared.size() - 1) == 0;
  return declared == key;
}

KeyValues config_for(const Plugin& plugin, const KeyValues& config) {
  if (config.empty()) return config;
  auto declared = plugin.options();
  if (!declared) return config;
  KeyValues out;
  for (const auto& kv : config)
    if (std::any_of(declared->begin(), declared->end(),
                    [&](const OptionSpec& o) { return option_covers(o.name, kv.first); }))
      out.push_back(kv);
  return out;
}

void check_config(const Plugin& plugin, const KeyValues& config, const char* what) {
  if (config.empty()) return;
  auto declared = plugin.options();
  if (!declared) return;
  for (const auto& entry : config) {
    const std::string& key = entry.first;
    const std::string& value = entry.second;
    auto o = std::find_if(declared->begin(), declared->end(),
                          [&](const OptionSpec& d) { return option_covers(d.name, key); });
    if (o == declared->end()) {
      // In the plugin's own order: the order its documentation lists them in.
      std::string valid;
      for (const auto& d : *declared) valid += (valid.empty() ? "" : ", ") + d.name;
      throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT,
                        "unknown " + std::string(what) + " '" + printable(key, 64) + "' for " +
                            plugin.name() + " (valid: " + (valid.empty() ? "none" : valid) + ")");
    }
    if (auto want = option_value_error(o->type, value))
      throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT,
                        std::string(what) + " '" + printable(key, 64) + "' must be " + *want +
                            ", got '" + printable(value, 64) + "' (" + plugin.name() + ")");
  }
}

std::string scanner_config_error(const std::vector<Plugin>& scanners, const KeyValues& config) {
  if (config.empty()) return {};
  bool all_declare = true;
  std::vector<std::pair<std::string, OptionSpec>> declared;  // scanner, option
  for (const auto& p : scanners) {
    auto opts = p.options();
    if (!opts) {
      all_declare = false;
      continue;
    }
    for (auto& o : *opts) declared.emplace_back(p.name(), std::move(o));
  }
  for (const auto& [key, value] : config) {
    bool known = false;
    for (const auto& [scanner, o] : declared) {
      if (!option_covers(o.name, key)) continue;
      known = true;
      if (auto want = option_value_error(o.type, value))
        return "scanner option '" + printable(key, 64) + "' must be " + *want + " (" + scanner +
               "), got '" + printable(value, 64) + "'";
    }
    if (known || !all_declare) continue;
    std::vector<std::string> valid;
    valid.reserve(declared.size());
    for (const auto& [scanner, o] : declared)
      valid.push_back(o.name + " (" + option_type_name(o.type) + ", " + scanner + ")");
    std::sort(valid.begin(), valid.end());
    valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
    std::string list;
    for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
    return "unknown scanner option '" + printable(key, 64) +
           "'; valid options: " + (list.empty() ? "none" : list);
  }
  return {};
}

}  // namespace secmlops::host
