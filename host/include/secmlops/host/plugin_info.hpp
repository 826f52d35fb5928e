#pragma once

#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/host/registry.hpp"

namespace secmlops::host {

// The registry as the report schema's PluginList (for the CLI's JSON and the gRPC API). With
// `with_options`, every plugin's declared configuration too, which opens every library (the
// options live in the descriptor, not in the catalogue); a refused library lists none.
v1::PluginList plugin_list(const Registry& registry, bool with_options = false);

}  // namespace secmlops::host
