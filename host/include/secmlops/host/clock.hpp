#pragma once

#include <string>

namespace secmlops::host {

// The current UTC time as RFC 3339 ("2026-12-04T22:41:04Z"): report start and creation times.
std::string now_rfc3339();

}  // namespace secmlops::host
