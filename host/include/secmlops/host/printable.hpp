#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

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

// `s` as valid UTF-8: every byte that is not part of a well-formed sequence (file names are
// bytes on Linux) becomes the four characters \xNN, so reports, JSON, SARIF and gRPC messages
// stay valid and the original bytes can still be read off. Valid text is returned unchanged.
std::string utf8_safe(std::string_view s);

}  // namespace secmlops::host

namespace secmlops::v1 {
class FileReport;
}

namespace secmlops::host {
// utf8_safe on every string of a report (paths, member names, messages, evidence, errors).
void make_utf8_safe(v1::FileReport& report);
// Calls `edit` on every string of a report (the strings make_utf8_safe covers).
void for_each_text(v1::FileReport& report, const std::function<void(std::string*)>& edit);
// Replaces the path `from` by `to` wherever a text of the report names it (as a whole path or
// as the start of a longer one): a report shown under the name its requester used.
void rename_path(v1::FileReport& report, const std::string& from, const std::string& to);

}  // namespace secmlops::host
