#include "secmlops/host/program_directory.hpp"

#include <spdlog/spdlog.h>

#include <boost/dll/runtime_symbol_info.hpp>

namespace secmlops::host {

std::filesystem::path program_directory() {
  try {
    return boost::dll::program_location().parent_path().string();
  } catch (const std::exception& e) {
    spdlog::warn("cannot locate the executable: {}", e.what());
    return {};
  }
}

}  // namespace secmlops::host
