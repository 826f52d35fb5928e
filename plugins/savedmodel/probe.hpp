// Content sniffing for a SavedModel proto: schema version, then meta graphs whose first field
// is one a MetaGraphDef starts with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace secmlops::plugins::savedmodel {

uint32_t probe_saved_model(const uint8_t* head, size_t len, std::string_view name);

}  // namespace secmlops::plugins::savedmodel
