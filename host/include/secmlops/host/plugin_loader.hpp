#pragma once

#include "secmlops/host/plugin_instance.hpp"

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace secmlops::host {

struct LoadError {
  std::filesystem::path library;
  std::string reason;  // one line, says what is wrong and, where it helps, what to do
};

// Loads one plugin library: dlopen (RTLD_LOCAL), entry symbol, ABI and struct-size checks,
// capability consistency, then the library's init. Never throws for a bad library: a refused
// library comes back as a LoadError.
std::variant<std::vector<Plugin>, LoadError> load_plugin_library(const std::filesystem::path& path);

}  // namespace secmlops::host
