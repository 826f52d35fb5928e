#include "secmlops/host/plugin_config.hpp"

#include "secmlops/host/printable.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>

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

namespace {

// One declared option and the plugin that declares it.
struct Declared {
  std::string plugin;
  OptionSpec option;
};

// What a set of plugins declares, each plugin's options in its own order (the order its
// documentation lists them in). `complete` is false when one of them declares nothing: it reads
// any key, so no key can be called unknown.
struct Declarations {
  std::vector<Declared> options;
  bool complete = true;
};

Declarations declarations(std::span<const Plugin> plugins) {
  Declarations d;
  for (const auto& p : plugins) {
    auto opts = p.options();
    if (!opts) {
      d.complete = false;
      continue;
    }
    for (auto& o : *opts) d.options.push_back({p.name(), std::move(o)});
  }
  return d;
}

// The declarations that cover `key`, in declaration order.
std::vector<const Declared*> covering(const Declarations& d, const std::string& key) {
  std::vector<const Declared*> out;
  for (const auto& o : d.options)
    if (option_covers(o.option.name, key)) out.push_back(&o);
  return out;
}

enum class Listing {
  kNames,          // one plugin: its names in its own order
  kTypesAndOwners  // several plugins: "name (type, plugin)", sorted, each once
};

// The valid keys for a message refusing an unknown one; "none" when nothing is declared.
std::string valid_keys(const Declarations& d, Listing how) {
  std::vector<std::string> valid;
  valid.reserve(d.options.size());
  for (const auto& [plugin, o] : d.options)
    valid.push_back(how == Listing::kNames
                        ? o.name
                        : o.name + " (" + option_type_name(o.type) + ", " + plugin + ")");
  if (how == Listing::kTypesAndOwners) {
    std::sort(valid.begin(), valid.end());
    valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
  }
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
  return list.empty() ? "none" : list;
}

}  // namespace

KeyValues config_for(const Plugin& plugin, const KeyValues& config) {
  if (config.empty()) return config;
  auto d = declarations({&plugin, 1});
  if (!d.complete) return config;
  KeyValues out;
  for (const auto& kv : config)
    if (!covering(d, kv.first).empty()) out.push_back(kv);
  return out;
}

void check_config(const Plugin& plugin, const KeyValues& config, const char* what) {
  if (config.empty()) return;
  auto d = declarations({&plugin, 1});
  if (!d.complete) return;
  for (const auto& [key, value] : config) {
    auto found = covering(d, key);
    if (found.empty())
      throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT,
                        "unknown " + std::string(what) + " '" + printable(key, 64) + "' for " +
                            plugin.name() + " (valid: " + valid_keys(d, Listing::kNames) + ")");
    // One plugin reads a key once: its first declaration of it decides the type.
    if (auto want = option_value_error(found.front()->option.type, value))
      throw PluginError(SECMLOPS_ERR_INVALID_ARGUMENT,
                        std::string(what) + " '" + printable(key, 64) + "' must be " + *want +
                            ", got '" + printable(value, 64) + "' (" + plugin.name() + ")");
  }
}

std::string scanner_config_error(const std::vector<Plugin>& scanners, const KeyValues& config) {
  if (config.empty()) return {};
  auto d = declarations(scanners);
  for (const auto& [key, value] : config) {
    auto found = covering(d, key);
    // Every scanner that declares the key reads it, so each declared type must accept it.
    for (const Declared* o : found)
      if (auto want = option_value_error(o->option.type, value))
        return "scanner option '" + printable(key, 64) + "' must be " + *want + " (" + o->plugin +
               "), got '" + printable(value, 64) + "'";
    if (found.empty() && d.complete)
      return "unknown scanner option '" + printable(key, 64) +
             "'; valid options: " + valid_keys(d, Listing::kTypesAndOwners);
  }
  return {};
}

}  // namespace secmlops::host
