#pragma once

#include <secmlops/sdk/abi.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace secmlops::host::abi {

// The smallest struct_size each ABI minor version allows. One table, so that growing a struct in
// a later minor is a one-line change here plus the field in abi.h.
constexpr size_t descriptor_min_size(uint32_t minor) {
  return minor == 0   ? SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_0
         : minor == 1 ? SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_1
         : minor == 2 ? SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_2
                      : SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_3;  // 1.4 did not grow the descriptor
}
constexpr size_t option_min_size(uint32_t minor) {
  return minor <= 3 ? SECMLOPS_OPTION_SIZE_1_3 : sizeof(secmlops_option);
}
// A declaration longer than this is refused (it is read at every scan request).
constexpr uint32_t kMaxDeclaredOptions = 256;
// A declared option's entry larger than this is refused: the stride of a plugin's array is its
// entries' struct_size, and a garbage size must not walk the host far past the array.
constexpr uint32_t kMaxOptionStructSize = 1024;
constexpr size_t library_min_size(uint32_t /*minor*/) { return sizeof(secmlops_library); }
constexpr size_t scanner_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_scanner_api); }
constexpr size_t model_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_model_api); }
constexpr size_t attack_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_attack_api); }
constexpr size_t reporter_api_min_size(uint32_t /*minor*/) { return sizeof(secmlops_reporter_api); }

// The capability bit a plugin built against `minor` could not set, derived from its pointers.
constexpr bool knows_flush_bit(uint32_t minor) { return minor >= 4; }

// Entry `i` of a descriptor's declared options, read with the stride of the plugin's own
// struct_size (abi.h, VERSIONING): fields the plugin's header did not have read as zero.
inline secmlops_option declared_option(const secmlops_plugin_descriptor& d, uint32_t i) {
  const size_t stride = d.options[0].struct_size;
  const auto* entry = reinterpret_cast<const unsigned char*>(d.options) + stride * i;
  secmlops_option out{};
  std::memcpy(&out, entry, stride < sizeof(out) ? stride : sizeof(out));
  return out;
}

}  // namespace secmlops::host::abi
