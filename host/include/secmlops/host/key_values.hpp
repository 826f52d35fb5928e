#pragma once

#include <string>
#include <utility>
#include <vector>

namespace secmlops::host {

// Configuration, parameters and tags as ordered key/value strings: what crosses the ABI as
// secmlops_kv arrays. Order is kept; a later duplicate key wins where a plugin reads one value.
using KeyValues = std::vector<std::pair<std::string, std::string>>;

}  // namespace secmlops::host
