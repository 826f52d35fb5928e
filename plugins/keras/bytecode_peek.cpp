#include "bytecode_peek.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace secmlops::plugins::keras {

std::optional<std::string> decode_base64(std::string_view text, size_t max_bytes) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=') {
      padding = true;
      continue;
    } else if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
      continue;
    else
      return std::nullopt;
    if (padding) return std::nullopt;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
      if (out.size() > max_bytes) return std::nullopt;
    }
  }
  return out;
}

BytecodeEvidence peek_marshalled_code(std::string_view d, size_t max_strings) {
  static constexpr std::array<std::string_view, 22> kSuspicious = {
      "os",   "posix",   "nt",           "system", "popen",  "Popen",    "subprocess", "eval",
      "exec", "compile", "__import__",   "open",   "socket", "builtins", "getattr",    "importlib",
      "pty",  "shutil",  "check_output", "run",    "call",   "spawn"};
  BytecodeEvidence ev;
  ev.bytes = d.size();
  std::set<std::string> seen;
  auto is_text = [](unsigned char c) { return c >= 0x20 && c < 0x7f; };
  for (size_t i = 0; i < d.size() && ev.strings.size() < max_strings; ++i) {
    const unsigned char type = static_cast<unsigned char>(d[i]) & 0x7f;  // drop FLAG_REF
    size_t len = 0, header = 0;
    if (type == 'z' || type == 'Z') {  // short ASCII: 1-byte length
      if (i + 1 >= d.size()) break;
      len = static_cast<unsigned char>(d[i + 1]);
      header = 2;
    } else if (type == 'a' || type == 'A' || type == 't' || type == 'u') {  // 4-byte length
      if (i + 5 > d.size()) break;
      len = 0;
      for (int k = 3; k >= 0; --k)
        len = (len << 8) | static_cast<unsigned char>(d[i + 1 + static_cast<size_t>(k)]);
      header = 5;
      if (len > 4096) continue;
    } else {
      continue;
    }
    if (len == 0 || i + header + len > d.size()) continue;
    std::string_view s = d.substr(i + header, len);
    if (!std::all_of(s.begin(), s.end(),
                     [&](char c) { return is_text(static_cast<unsigned char>(c)); }))
      continue;
    std::string str(s.substr(0, 80));
    if (seen.insert(str).second) {
      ev.strings.push_back(str);
      if (std::find(kSuspicious.begin(), kSuspicious.end(), str) != kSuspicious.end())
        ev.suspicious.push_back(str);
    }
    i += header + len - 1;
  }
  return ev;
}

}  // namespace secmlops::plugins::keras
