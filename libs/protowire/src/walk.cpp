#include "secmlops/protowire/walk.hpp"

#include <cctype>
#include <cstdio>

namespace secmlops::protowire {

std::string excerpt(std::string_view text, size_t max_len) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_len) {
      out += "…";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string path_escape(std::string_view p) {
  if (p.empty()) return {};
  if (p[0] == '/' || p[0] == '\\') return "is an absolute path";
  if (p.size() >= 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':')
    return "is a drive-absolute path";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = p.size();
    if (end - start == 2 && p.compare(start, 2, "..") == 0) return "contains a '..' segment";
    start = end + 1;
  }
  return {};
}

}  // namespace secmlops::protowire
