#pragma once

#include <secmlops/sdk/abi.h>

#include <cstddef>
#include <cstdint>

namespace secmlops::host::abi {

// The smallest struct_size each ABI minor version allows. One table, so that growing a struct in
// a later minor is a one-line change here plus the field in abi.h.
constexpr size_t descriptor_min_size(uint32_t minor) {
  return minor == 0   ? SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_0
         : minor == 1 ? SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_1
         : minor == 2 ? SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_2
                      : sizeof(secmlops_plugin_descriptor);
}
constexpr size_t option_min_size(uint32_t /*minor*/) { return sizeof(secmlops_option); }
// A declaration longer than this is refused (it is read at every scan request).
constexpr uint32_t kMaxDeclaredOptions = 256;
constexpr size_t library_min_size(uint32_t /*minor*/) { return sizeof(secmlops_library); }
constexpr size_t scanner_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_scanner_api); }
constexpr size_t model_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_model_api); }
constexpr size_t attack_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_attack_api); }
constexpr size_t reporter_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_reporter_api); }

}  // namespace secmlops::host::abi
