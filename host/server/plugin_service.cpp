#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/host/plugin_info.hpp"

namespace secmlops::server {

grpc::ServerUnaryReactor* PluginServiceImpl::ListPlugins(grpc::CallbackServerContext* context,
                                                         const v1::ListPluginsRequest* request,
                                                         v1::PluginList* response) {
  return run_unary(
      state_, context,
      [this, request, response] {
        *response = host::plugin_list(state_.registry, /*with_options=*/true);
        if (request->kind() != v1::PLUGIN_KIND_UNSPECIFIED) {
          auto* plugins = response->mutable_plugins();
          plugins->erase(
              std::remove_if(plugins->begin(), plugins->end(),
                             [&](const v1::PluginInfo& p) { return p.kind() != request->kind(); }),
              plugins->end());
        }
      },
      /*on_pool=*/false);
}

}  // namespace secmlops::server
