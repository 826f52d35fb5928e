#pragma once

#include <cstddef>
#include <string>

namespace secmlops::host {

// A printable rendering of untrusted text for messages and logs: control bytes escaped as \xNN,
// at most `max` characters (then "...").
inline std::string printable(const std::string& s, size_t max = 200) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() >= max) out += "...";
  return out;
}

}  // namespace secmlops::host
