#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::host {

// Metrics and properties a plugin emitted during one call (emit_metric, emit_property).
struct Emitted {
  std::vector<std::pair<std::string, std::pair<double, int64_t>>> metrics;  // key → (value, step)
  std::vector<std::pair<std::string, std::string>> properties;
};

}  // namespace secmlops::host
