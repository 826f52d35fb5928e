#pragma once

#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/host/registry.hpp"

namespace secmlops::host {

// The registry as the report schema's PluginList (for the CLI's JSON and the gRPC API).
v1::PluginList plugin_list(const Registry& registry);

}  // namespace secmlops::host
