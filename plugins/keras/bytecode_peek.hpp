// Evidence from a serialized Python function (Lambda layer) without executing or unmarshalling it.
//
// Keras stores a Lambda's function as base64 of marshal.dumps(code object). We never run the
// Python unmarshaller; instead we scan the decoded bytes for marshal string records (short and
// long ASCII / interned / unicode strings), which hold the code object's names, constants and
// file name — enough to show a reviewer what the function touches ("os", "system", …).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::keras {

// Decodes standard base64 (with or without padding, ignoring whitespace/newlines); nullopt when
// the text is not base64 or decodes to more than max_bytes.
std::optional<std::string> decode_base64(std::string_view text, size_t max_bytes = 1 << 20);

struct BytecodeEvidence {
  size_t bytes = 0;                     // decoded size
  std::vector<std::string> strings;     // distinct identifier-like strings, in order (capped)
  std::vector<std::string> suspicious;  // of those, names tied to code execution / I/O
};

BytecodeEvidence peek_marshalled_code(std::string_view decoded, size_t max_strings = 24);

}  // namespace secmlops::plugins::keras
