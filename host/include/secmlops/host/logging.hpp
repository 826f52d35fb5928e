#pragma once

#include <string>

namespace secmlops::host {

// Sets the process-wide log level from a name (trace, debug, info, warn, error, off). The
// SECMLOPS_LOG_LEVEL environment variable is the default; an explicit level wins. Logs go to
// stderr so that stdout stays machine-readable. Throws std::invalid_argument on a bad name.
void init_logging(const std::string& level = {});

}  // namespace secmlops::host
