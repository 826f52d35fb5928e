// Protocol-0 arguments: text lines ending in '\n' (GLOBAL names, numbers, memo keys, strings).
#include "pickle_machine.hpp"

#include <charconv>
#include <cstring>

namespace secmlops::plugins::pickle::vm {

// Scans window by window: a line may be longer than one window (a padded STRING).
uint64_t PickleMachine::line_end(uint64_t from) {
  uint64_t at = from;
  while (at < end_) {
    uint64_t n = std::min<uint64_t>(end_ - at, 1u << 16);
    const uint8_t* p = cursor_.try_at(at, n);
    if (p == nullptr) break;
    if (const void* nl = std::memchr(p, '\n', n)) return at + (static_cast<const uint8_t*>(nl) - p);
    at += n;
  }
  findings_.malformed("line argument without a newline");
}

// A short line's text (GLOBAL names, numbers, memo keys), without a trailing '\r'.
std::string_view PickleMachine::short_line(uint64_t from, uint64_t nl) {
  if (nl - from > 4096) findings_.malformed("line argument longer than 4096 bytes");
  const uint8_t* p = cursor_.try_at(from, nl - from);
  line_.assign(reinterpret_cast<const char*>(p), nl - from);
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return line_;
}

uint64_t PickleMachine::line_uint(uint64_t from, uint64_t nl) {
  std::string_view t = short_line(from, nl);
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size())
    findings_.malformed("invalid memo key '" + std::string(t) + "'");
  return v;
}

V PickleMachine::line_int(uint64_t from, uint64_t nl, bool is_long) {
  std::string_view t = short_line(from, nl);
  if (!is_long && (t == "00" || t == "01")) return mk(kBool, t == "01");
  if (is_long && !t.empty() && t.back() == 'L') t.remove_suffix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc::result_out_of_range) return mk(kBigInt);
  if (ec != std::errc() || ptr != t.data() + t.size())
    findings_.malformed("invalid integer '" + std::string(t) + "'");
  return fits56(v) ? mk_int(v) : mk(kBigInt);
}

}  // namespace secmlops::plugins::pickle::vm
