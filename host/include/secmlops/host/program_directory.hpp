#pragma once

#include <filesystem>

namespace secmlops::host {

// The folder of the running program, from which its plugins, scan worker and modules are found;
// empty (the reason logged) when it cannot be told.
std::filesystem::path program_directory();

}  // namespace secmlops::host
