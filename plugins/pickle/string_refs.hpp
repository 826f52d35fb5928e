// The text of string values, read back from the input when it matters (imported names, dict
// keys, dtype strings, torch storage keys). Protocol-0 strings are decoded as Python would, as
// far as the names we match need: non-ASCII escapes never form a module name we would match.
#pragma once

#include "cursor.hpp"
#include "pickle_value.hpp"

#include <string>
#include <string_view>

namespace secmlops::plugins::pickle::vm {

// Decodes a string value into `out` (at most 64 KiB by construction). False when the value is
// not a string whose content was kept, or its escapes are invalid.
bool string_text(Cursor& cursor, V v, std::string& out);
// Whether a string value's text is `want`, without copying raw text.
bool string_equals(Cursor& cursor, V v, std::string_view want);

}  // namespace secmlops::plugins::pickle::vm
