// Cheap checks on free text (doc strings, metadata) for things worth surfacing to a reviewer.
#pragma once

#include "secmlops/protowire/walk.hpp"

#include <string>
#include <string_view>

namespace secmlops::plugins::onnx {

// The first URL-like token ("https://…", "file://…"), or "" when there is none.
std::string find_url(std::string_view text);
// The first code-like marker ("import os", "exec(", "subprocess", …), or "" when there is none.
std::string find_code_marker(std::string_view text);
using protowire::excerpt;

}  // namespace secmlops::plugins::onnx
