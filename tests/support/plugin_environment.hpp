#pragma once

#include "secmlops/app/environment.hpp"
#include "secmlops/host/registry.hpp"

namespace secmlops::test {

// The application layer over the plugins of this build (SECMLOPS_PLUGIN_DIR), local files.
struct PluginEnvironment {
  PluginEnvironment() { registry.load_directories({SECMLOPS_PLUGIN_DIR}); }
  host::Registry registry;
  app::LocalFiles files;
  app::Environment env{registry, files};
};

}  // namespace secmlops::test
