#include "secmlops/host/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <stdexcept>

namespace secmlops::host {

void init_logging(const std::string& level) {
  std::string name = level;
  if (name.empty()) {
    const char* env = std::getenv("SECMLOPS_LOG_LEVEL");
    name = env != nullptr ? env : "warn";
  }
  auto lvl = spdlog::level::from_str(name);
  // from_str maps unknown names to "off"; only accept "off" when it was asked for.
  if (lvl == spdlog::level::off && name != "off")
    throw std::invalid_argument("unknown log level '" + name +
                                "' (use trace, debug, info, warn, error or off)");
  static bool configured = false;
  if (!configured) {
    auto logger = spdlog::stderr_color_mt("secmlops");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(logger);
    configured = true;
  }
  spdlog::set_level(lvl);
}

}  // namespace secmlops::host
