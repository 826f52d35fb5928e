#include "secmlops/host/printable.hpp"

#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/v1/report.pb.h"

namespace secmlops::host {
namespace {

// Length of the well-formed UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
size_t sequence_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n = c >= 0xc2 && c <= 0xdf   ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(k) & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && b(1) < 0xa0) return 0;  // overlong
  if (c == 0xed && b(1) > 0x9f) return 0;  // surrogates
  if (c == 0xf0 && b(1) < 0x90) return 0;  // overlong
  if (c == 0xf4 && b(1) > 0x8f) return 0;  // above U+10FFFF
  return n;
}

void fix(std::string* s) {
  for (size_t i = 0; i < s->size();) {
    size_t n = sequence_length(*s, i);
    if (n == 0) {
      *s = utf8_safe(*s);
      return;
    }
    i += n;
  }
}

}  // namespace

std::string utf8_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = sequence_length(s, i);
    if (n == 0) {
      static const char* hex = "0123456789abcdef";
      auto c = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void for_each_text(v1::FileReport& r, const std::function<void(std::string*)>& fix) {
  fix(r.mutable_path());
  fix(r.mutable_error());
  for (auto& f : *r.mutable_findings()) {
    fix(f.mutable_rule_id());
    fix(f.mutable_message());
    fix(f.mutable_scanner());
    auto* loc = f.mutable_location();
    fix(loc->mutable_file());
    fix(loc->mutable_detail());
    for (auto& m : *loc->mutable_members()) fix(&m);
    for (auto& e : *f.mutable_evidence()) {
      fix(e.mutable_key());
      fix(e.mutable_value());
    }
  }
  for (auto& sr : *r.mutable_streams()) {
    for (auto& m : *sr.mutable_members()) fix(&m);
    fix(sr.mutable_format());
    fix(sr.mutable_scanner());
    fix(sr.mutable_error());
  }
}

void rename_path(v1::FileReport& r, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return;
  const std::string safe_from = utf8_safe(from), safe_to = utf8_safe(to);
  auto replace = [](std::string& s, const std::string& f, const std::string& t) {
    for (size_t at = s.find(f); at != std::string::npos; at = s.find(f, at)) {
      size_t end = at + f.size();
      // Only where the path ends a component: "/srv/a" is not renamed inside "/srv/ab".
      if (end != s.size() && std::string_view("/!:'\" )]").find(s[end]) == std::string_view::npos) {
        at = end;
        continue;
      }
      s.replace(at, f.size(), t);
      at += t.size();
    }
  };
  for_each_text(r, [&](std::string* s) {
    replace(*s, from, to);
    if (safe_from != from) replace(*s, safe_from, safe_to);
  });
}

void make_utf8_safe(v1::FileReport& r) {
  for_each_text(r, [](std::string* s) { fix(s); });
}

}  // namespace secmlops::host

static_assert(secmlops::host::kSeverityMedium == secmlops::v1::MEDIUM,
              "proto_fwd.hpp's MEDIUM is report.proto's");
