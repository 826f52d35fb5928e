#include "secmlops/host/plugin_info.hpp"
#include "secmlops/v1/report.pb.h"

namespace secmlops::host {

v1::PluginList plugin_list(const Registry& registry) {
  v1::PluginList list;
  for (const auto& p : registry.plugins()) {
    auto* info = list.add_plugins();
    info->set_name(p.name());
    info->set_kind(static_cast<v1::PluginKind>(p.kind()));
    info->set_version(p.version());
    info->set_description(p.description());
    info->set_abi_version(p.abi_version());
    for (const auto& c : p.capabilities()) info->add_capabilities(c);
    for (const auto& f : p.formats()) info->add_formats(f);
    info->set_library(p.library_path().string());
    info->set_license(p.license());
  }
  for (const auto& e : registry.errors()) {
    auto* err = list.add_errors();
    err->set_library(e.library.string());
    err->set_reason(e.reason);
  }
  return list;
}

}  // namespace secmlops::host
