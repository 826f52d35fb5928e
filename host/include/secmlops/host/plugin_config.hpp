#pragma once

// A plugin's configuration against the options it declares (abi.h, "Declared configuration
// options"): the one place every door's keys and values are checked before a plugin sees them.
#include "secmlops/host/key_values.hpp"
#include "secmlops/host/plugin_instance.hpp"

#include <optional>
#include <string>
#include <vector>

namespace secmlops::host {

const char* option_type_name(secmlops_option_type type);
// Checks that `value` parses as `type`; what it should be when it does not.
std::optional<std::string> option_value_error(secmlops_option_type type, const std::string& value);
// Whether a declared name covers `key` ("pickle.*" covers every "pickle.<something>").
bool option_covers(const std::string& declared, const std::string& key);

// The part of `config` a plugin receives: the keys it declares, or all of it when it declares
// nothing (older plugins read any key).
KeyValues config_for(const Plugin& plugin, const KeyValues& config);

// Throws PluginError(INVALID_ARGUMENT) when the plugin declares its options and `config` has a
// key it does not declare (naming the valid ones) or a value that does not parse as its type.
// `what` names the configuration in the message ("parameter", "option").
void check_config(const Plugin& plugin, const KeyValues& config, const char* what = "option");

// A scan's options go to every scanner: a key is refused when no scanner declares it (as long as
// every scanner declares its options), a value when it does not parse as a declaring scanner's
// type. "" when the configuration is acceptable.
std::string scanner_config_error(const std::vector<Plugin>& scanners, const KeyValues& config);

}  // namespace secmlops::host
