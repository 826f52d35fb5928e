#include "string_refs.hpp"

#include <cstring>

namespace secmlops::plugins::pickle::vm {
namespace {

// Reads `digits` hex digits after s[i] and appends the character they encode; advances i past
// them. False (nothing appended, i unchanged) when they are not all hex digits.
bool hex_escape(std::string_view s, size_t& i, size_t digits, std::string& out) {
  unsigned value = 0;
  for (size_t k = 0; k < digits; ++k) {
    if (i + 1 + k >= s.size()) return false;
    char h = s[i + 1 + k];
    value <<= 4;
    if (h >= '0' && h <= '9')
      value |= static_cast<unsigned>(h - '0');
    else if (h >= 'a' && h <= 'f')
      value |= static_cast<unsigned>(h - 'a' + 10);
    else if (h >= 'A' && h <= 'F')
      value |= static_cast<unsigned>(h - 'A' + 10);
    else
      return false;
  }
  i += digits;
  if (value < 0x80)
    out += static_cast<char>(value);
  else
    out += '?';  // non-ASCII never forms a valid module name we would match
  return true;
}

// raw-unicode-escape (UNICODE): only \uXXXX and \UXXXXXXXX are escapes.
void raw_unicode_escape(std::string_view s, size_t& i, char e, std::string& out) {
  if (e == 'u') {
    if (!hex_escape(s, i, 4, out)) out += "\\u";
    return;
  }
  if (e == 'U') {
    if (!hex_escape(s, i, 8, out)) out += "\\U";
    return;
  }
  out += '\\';
  out += e;
}

// A Python string literal's escape (STRING); false for an invalid \x.
bool literal_escape(std::string_view s, size_t& i, char e, std::string& out) {
  switch (e) {
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case 'r':
      out += '\r';
      break;
    case '0':
      out += '\0';
      break;
    case '\\':
      out += '\\';
      break;
    case '\'':
      out += '\'';
      break;
    case '"':
      out += '"';
      break;
    case 'x':
      return hex_escape(s, i, 2, out);
    default:
      out += '\\';
      out += e;
  }
  return true;
}

bool unescape(std::string_view s, Enc enc, std::string& out) {
  if (enc == kEncEscaped) {
    if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front())
      return false;
    s = s.substr(1, s.size() - 2);
  }
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    if (enc == kEncRawUnicodeEscape)
      raw_unicode_escape(s, i, e, out);
    else if (!literal_escape(s, i, e, out))
      return false;
  }
  return true;
}

}  // namespace

bool string_text(Cursor& cursor, V v, std::string& out) {
  out.clear();
  if (v.kind() != kStr) return false;
  uint64_t off = ref_off(v), len = ref_len(v);
  const uint8_t* p = cursor.try_at(off, len);
  if (p == nullptr) return false;
  Enc enc = ref_enc(v);
  if (enc == kEncRaw) {
    out.assign(reinterpret_cast<const char*>(p), len);
    return true;
  }
  return unescape(std::string_view(reinterpret_cast<const char*>(p), len), enc, out);
}

bool string_equals(Cursor& cursor, V v, std::string_view want) {
  if (v.kind() != kStr) return false;
  if (ref_enc(v) == kEncRaw) {
    if (ref_len(v) != want.size()) return false;
    const uint8_t* p = cursor.try_at(ref_off(v), want.size());
    return p != nullptr && std::memcmp(p, want.data(), want.size()) == 0;
  }
  std::string t;
  return string_text(cursor, v, t) && t == want;
}

}  // namespace secmlops::plugins::pickle::vm
