#include "secmlops/host/plugin_info.hpp"
#include "secmlops/v1/report.pb.h"

#include "secmlops/host/plugin_config.hpp"

namespace secmlops::host {

v1::PluginList plugin_list(const Registry& registry, bool with_options) {
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
    std::optional<std::vector<OptionSpec>> options;
    if (with_options) try {
        options = p.options();
      } catch (const PluginError&) {  // refused at first use: listed under errors
      }
    if (options) {
      info->set_options_declared(true);
      for (const auto& o : *options) {
        auto* opt = info->add_options();
        opt->set_name(o.name);
        opt->set_type(option_type_name(o.type));
        opt->set_description(o.help);
        if (o.default_value) opt->set_default_value(*o.default_value);
      }
    }
  }
  for (const auto& e : registry.errors()) {
    auto* err = list.add_errors();
    err->set_library(e.library.string());
    err->set_reason(e.reason);
  }
  return list;
}

}  // namespace secmlops::host
